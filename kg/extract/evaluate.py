"""Score extraction against hand-made gold facts (``tests/data/gold/*.json``).

Per element (design, conditions, sample size, interventions, outcomes, numbers, conclusion)
it counts true/false positives and false negatives, and it lists every number kg states
about a gold outcome that the gold does not hold: numeric precision must be 1.0.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from kg.models import Article, Evidence, Outcome

ELEMENTS = (
    "design",
    "conditions",
    "sample_size",
    "interventions",
    "outcomes",
    "numbers",
    "conclusion",
)
NUMBER_FIELDS = (
    "count",
    "denominator",
    "percentage",
    "mean",
    "sd",
    "median",
    "p_value",
    "grade",
    "time",
)


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Evaluation:
    scores: dict[str, Score] = field(default_factory=lambda: {e: Score() for e in ELEMENTS})
    wrong_numbers: list[str] = field(default_factory=list)  # "PMID: outcome field=value (gold …)"
    missed: list[str] = field(default_factory=list)  # gold outcomes not found
    records: int = 0

    def table(self) -> str:
        rows = [f"{'element':<14} {'P':>6} {'R':>6} {'F1':>6}   tp  fp  fn"]
        for name, s in self.scores.items():
            rows.append(
                f"{name:<14} {s.precision:6.2f} {s.recall:6.2f} {s.f1:6.2f}  {s.tp:3d} {s.fp:3d} {s.fn:3d}"
            )
        return "\n".join(rows)


def load_gold(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.json"))]


def _dec(value: Any) -> Decimal | None:
    if value is None or isinstance(value, (list, dict, bool)):
        return None
    return Decimal(str(value))


def _numbers(o: Outcome) -> dict[str, Decimal]:
    m = o.measurement
    values = {
        "count": m.count,
        "denominator": m.denominator,
        "percentage": m.percentage,
        "mean": m.mean,
        "sd": m.sd,
        "median": m.median,
        "p_value": m.p_value,
        "grade": m.grade,
        "time": m.time,
    }
    return {k: Decimal(str(v)) for k, v in values.items() if v is not None}


def _gold_numbers(g: dict[str, Any]) -> dict[str, Decimal]:
    out = {}
    for k in NUMBER_FIELDS:
        v = g.get(k)
        if k == "time" and isinstance(v, dict):
            v = v.get("value")
        if k == "median" and v is None and isinstance(g.get("median_time"), dict):
            v = None
        d = _dec(v)
        if d is not None:
            out[k] = d
    if isinstance(g.get("median_time"), dict):
        d = _dec(g["median_time"].get("value"))
        if d is not None:
            out["time"] = d
    return out


_STEM = re.compile(r"[a-z]{3,}")


def _words(text: str) -> set[str]:
    return {w[:5] for w in _STEM.findall(text.lower())} - {
        "patie",
        "with",
        "were",
        "the",
        "and",
        "had",
    }


def _match(
    o: Outcome, golds: list[dict[str, Any]], text: str, taken: set[int]
) -> dict[str, Any] | None:
    """The gold outcome this extracted outcome stands for: same sentence, same count or words."""
    same_sentence = []
    for g in golds:
        if id(g) in taken:
            continue
        q = g.get("quote")
        start = text.find(q) if q else -1
        if not q or (start >= 0 and start <= o.span.start < start + len(q)):
            same_sentence.append(g)  # (a gold outcome without a quote may be in any sentence)
    if not same_sentence:
        return None
    mine_numbers = _numbers(o)
    for key in ("count", "percentage", "mean", "median", "time", "p_value"):
        if key not in mine_numbers:
            continue
        same = [g for g in same_sentence if _agrees(key, mine_numbers[key], _gold_numbers(g))]
        if len(same) == 1:
            return same[0]
        if same:
            same_sentence = same
            break
    else:
        if mine_numbers:
            return None
    mine = _words(o.text)
    return max(same_sentence, key=lambda g: len(mine & _words(g.get("label", ""))))


def _agrees(key: str, value: Decimal, gold: dict[str, Decimal]) -> bool:
    """A time stated as a median ("median time to relapse 8 months") may be gold's median."""
    if key == "time":
        return value in (gold.get("time"), gold.get("median"))
    return gold.get(key) == value


def _score_sets(score: Score, predicted: Iterable[str], gold: Iterable[str]) -> None:
    p, g = set(predicted), set(gold)
    score.tp += len(p & g)
    score.fp += len(p - g)
    score.fn += len(g - p)


def evaluate_one(
    ev: Evaluation, article: Article, evidence: Evidence, gold: dict[str, Any]
) -> None:
    ev.records += 1
    s = ev.scores
    text = article.abstract_text
    _score_sets(s["design"], (f.term for f in evidence.design), gold.get("design", []))
    gpop = gold.get("population", {})
    gold_conditions = set(gpop.get("condition_mesh", []))
    _score_sets(
        s["conditions"], (c.mesh for c in evidence.population.conditions if c.mesh), gold_conditions
    )
    n, gn = evidence.population.sample_size, gpop.get("sample_size")
    if n is not None and n == gn:
        s["sample_size"].tp += 1
    else:
        s["sample_size"].fp += n is not None
        s["sample_size"].fn += gn is not None
    _score_sets(
        s["interventions"],
        (i.mesh for i in evidence.interventions if i.mesh),
        (i["mesh"] for i in gold.get("interventions", []) if i.get("mesh")),
    )
    golds = [g for g in gold.get("outcomes", []) if g.get("quote") or g.get("label")]
    matched: set[int] = set()
    for o in evidence.outcomes:
        g = _match(o, golds, text, matched)
        if g is None or id(g) in matched:
            s["outcomes"].fp += 1
            for k, v in _numbers(o).items():
                s["numbers"].fp += 1
                ev.wrong_numbers.append(f"{gold['pmid']}: {o.text!r} {k}={v} (no gold outcome)")
            continue
        matched.add(id(g))
        s["outcomes"].tp += 1
        mine, theirs = _numbers(o), _gold_numbers(g)
        forbidden = g.get("_must_not", {})
        for k, v in mine.items():
            if _agrees(k, v, theirs):
                s["numbers"].tp += 1
            elif k in forbidden and _dec(forbidden[k]) == v:
                s["numbers"].fp += 1
                ev.wrong_numbers.append(f"{gold['pmid']}: {o.text!r} {k}={v} (gold forbids it)")
            elif k in theirs:
                s["numbers"].fp += 1
                ev.wrong_numbers.append(f"{gold['pmid']}: {o.text!r} {k}={v} (gold {theirs[k]})")
            else:
                s["numbers"].fp += 1
                ev.wrong_numbers.append(
                    f"{gold['pmid']}: {o.text!r} {k}={v} (gold has no {k} for {g.get('label')!r})"
                )
        s["numbers"].fn += sum(1 for k in theirs if k not in mine and not (k == "median" and "time" in mine))
    s["outcomes"].fn += sum(1 for g in golds if id(g) not in matched)
    for g in golds:
        if id(g) not in matched:
            s["numbers"].fn += len(_gold_numbers(g))
            ev.missed.append(
                f"{gold['pmid']}: {g.get('label')!r} {_gold_numbers(g)} | {str(g.get('quote'))[:160]}"
            )
    gc = gold.get("conclusion")
    mine_c = [c.quote for c in evidence.conclusion]
    if gc:
        if mine_c and (mine_c[0] in gc or gc in " ".join(mine_c)):
            s["conclusion"].tp += 1
        else:
            s["conclusion"].fn += 1
            s["conclusion"].fp += bool(mine_c)
    elif mine_c:
        s["conclusion"].fp += 1

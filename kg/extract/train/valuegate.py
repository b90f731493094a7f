"""Train the value gate (``kg/data/valuegate.crfsuite``) on sociocom's PICO corpus, train split.

Examples: every count and percentage printed in a train abstract
(:func:`kg.extract.valuegate.candidates`); one is a value (``V``) when it overlaps a gold result
value of its kind (``*-bin-abs`` for counts, ``*-bin-percent`` for percentages), the definition
:mod:`kg.extract.train.eval_numbers` scores kg by. The rules state few wrong numbers on train (a
handful), too few to learn from alone, so the model learns from all printed numbers what a result
value looks like, and the threshold is chosen on what the rules actually state: out of fold, over
five folds of the train split (fold 0 is the tune split, :func:`kg.extract.train.corpora.is_tune`;
the others by a hash of the PMID), the numbers kg states (the gate only recording) are scored by the
model that did not see their abstract, and the threshold maximises right − ``COST`` × wrong.
Dev documents (:func:`kg.extract.train.corpora.is_dev`) are never read here.

L-BFGS on the same data in the same order writes the same bytes; folds hash the PMID with ``seed``.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pycrfsuite

from kg.extract import extract, valuegate
from kg.extract.text import sentences
from kg.extract.train.corpora import DEFAULT_DIR, SOCIOCOM, Doc, is_tune, load, split
from kg.extract.train.eval_numbers import article
from kg.mesh import MeshTable

VERSION = "1"
PARAMS = {"c1": 0.5, "c2": 1.0, "max_iterations": 300, "feature.possible_transitions": False}
THRESHOLDS = tuple(round(0.025 * k, 3) for k in range(0, 33))
# a wrong number costs this many right ones: the bar is a precision of 0.98 (one wrong in 50)
COST = 10.0
FOLDS = 5
GOLD_LABELS = {
    valuegate.COUNT: ("iv-bin-abs", "cv-bin-abs"),
    valuegate.PERCENT: ("iv-bin-percent", "cv-bin-percent"),
}

Example = tuple[list[str], str]


@dataclass(frozen=True)
class Stated:
    """A number kg states for an outcome, the gate only recording: whether the gate judges it (it
    does only in comparative studies), its features (``None`` when not printed in the outcome's
    span) and the gold values of its kind it sits on (empty: wrong)."""

    judged: bool
    features: list[str] | None
    hits: frozenset[tuple[str, int]]


@dataclass(frozen=True)
class DocData:
    pmid: str
    examples: list[Example]
    stated: list[Stated]
    gold_total: int


def _gold(doc: Doc) -> dict[str, list[tuple[int, int]]]:
    return {k: [(s["start"], s["end"]) for s in doc.spans if s["label"] in labels] for k, labels in GOLD_LABELS.items()}


def examples(doc: Doc, *, arms: tuple[str, ...] = ()) -> list[Example]:
    """(features, label) for every count and percentage printed in ``doc`` (whose arms go by
    ``arms``, :func:`kg.extract.valuegate.arm_words`)."""
    gold = _gold(doc)
    art, base = article(doc)
    found = sentences(art.abstract)
    out = []
    for i, s in enumerate(found):
        for c in valuegate.candidates(s.quote):
            a = base + s.start + c.start
            f = valuegate.features(s.quote, c.start, c.end, c.kind, role=s.role, index=i, total=len(found), arms=arms)
            out.append((f, valuegate.label(a, a + (c.end - c.start), gold[c.kind])))
    return out


def doc_data(doc: Doc, *, mesh: MeshTable) -> DocData:
    """``doc``'s examples, and the numbers kg's rules state for its outcomes with the gate only
    recording, as the gate reads them and as
    :func:`kg.extract.train.eval_numbers.evaluate_numbers` scores them."""
    gold = _gold(doc)
    art, base = article(doc)
    with valuegate.recording() as seen:
        ev = extract(art, mesh=mesh)
    judged = {(j.span.start, j.span.end, j.kind, j.value): j for j in seen}
    stated = []
    for o in ev.outcomes:
        m = o.measurement
        for kind, value in ((valuegate.COUNT, m.count), (valuegate.PERCENT, m.percentage)):
            if value is None:
                continue
            j = judged.get((o.span.start, o.span.end, kind, value))
            hits = frozenset(
                (kind, g)
                for a, b in valuegate.places(o.span.quote, value, percent=kind == valuegate.PERCENT)
                for g, (gs, ge) in enumerate(gold[kind])
                if base + o.span.start + a < ge and base + o.span.start + b > gs
            )
            stated.append(Stated(j is not None, j.features if j else None, hits))
    arms = valuegate.arm_words(ev.interventions)
    return DocData(doc.pmid, examples(doc, arms=arms), stated, sum(len(v) for v in gold.values()))


def _fit(data: list[DocData], path: Path) -> None:
    trainer = pycrfsuite.Trainer(algorithm="lbfgs", verbose=False)
    for d in data:
        for f, y in d.examples:
            trainer.append([f], [y])
    trainer.set_params(PARAMS)
    trainer.train(str(path))


def _fold(pmid: str, seed: int) -> int:
    if is_tune(pmid):
        return 0
    digest = hashlib.sha256(f"kg-valuegate-fold:{seed}:{pmid}".encode()).digest()
    return 1 + int.from_bytes(digest[:8], "big") % (FOLDS - 1)


def _scored(path: Path, data: list[DocData]) -> list[tuple[list[tuple[float, frozenset[tuple[str, int]]]], int]]:
    """Per document: (probability, hits) of each stated number, gold total."""
    tagger = pycrfsuite.Tagger()
    tagger.open(str(path))
    out = []
    for d in data:
        rows = []
        for s in d.stated:
            p = 2.0 if not s.judged else -1.0  # not judged: always stated; not printed: never
            if s.features is not None:
                tagger.set([s.features])
                p = tagger.marginal(valuegate.LABEL_VALUE, 0)
            rows.append((p, s.hits))
        out.append((rows, d.gold_total))
    tagger.close()
    return out


def _figures(scored: list[tuple[list[tuple[float, frozenset[tuple[str, int]]]], int]], t: float | None) -> dict[str, Any]:
    """Precision and recall of the stated numbers the gate keeps at threshold ``t`` (None: all)."""
    tp = fp = gold = found = 0
    for rows, total in scored:
        gold += total
        hit: set[tuple[str, int]] = set()
        for p, hits in rows:
            if t is not None and p < t:
                continue
            tp += bool(hits)
            fp += not hits
            hit |= hits
        found += len(hit)
    return {"stated": tp + fp, "right": tp, "wrong": fp, "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
            "recall": round(found / gold, 4) if gold else 1.0}


def _candidate_figures(path: Path, data: list[DocData], t: float) -> dict[str, Any]:
    """Precision and recall of the model alone over every printed number (not only stated ones)."""
    tagger = pycrfsuite.Tagger()
    tagger.open(str(path))
    tp = fp = fn = 0
    for d in data:
        for f, y in d.examples:
            tagger.set([f])
            kept = tagger.marginal(valuegate.LABEL_VALUE, 0) >= t
            tp += kept and y == valuegate.LABEL_VALUE
            fp += kept and y != valuegate.LABEL_VALUE
            fn += not kept and y == valuegate.LABEL_VALUE
    tagger.close()
    return {"numbers": sum(len(d.examples) for d in data), "values": tp + fn,
            "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0, "recall": round(tp / (tp + fn), 4) if tp + fn else 1.0}


def train(corpora_dir: Path = DEFAULT_DIR, out: Path = valuegate.MODEL, *, seed: int = 0) -> dict[str, Any]:
    """Train on sociocom's train split, write ``out`` and its card (``.json``); return the card."""
    docs, _ = split(load(SOCIOCOM, directory=corpora_dir))
    mesh = MeshTable.default()
    data = [doc_data(d, mesh=mesh) for d in docs]
    folds = [_fold(d.pmid, seed) for d in data]
    oof: list[tuple[list[tuple[float, frozenset[tuple[str, int]]]], int]] = []
    tune: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(FOLDS):
            path = Path(tmp) / f"fold{k}.crfsuite"
            held = [d for d, j in zip(data, folds, strict=True) if j == k]
            rest = [d for d, j in zip(data, folds, strict=True) if j != k]
            if not held or not rest:
                continue  # a corpus too small to fill every fold (a test's)
            _fit(rest, path)
            scored = _scored(path, held)
            oof += scored
            if k == 0:
                tune = {"documents": len(held), "path": path, "held": held, "scored": scored}
        utility = {t: _figures(oof, t) for t in THRESHOLDS}
        threshold = max(THRESHOLDS, key=lambda t: (utility[t]["right"] - COST * utility[t]["wrong"], -t))
        tune_figures = {
            "documents": tune["documents"],
            "stated_ungated": _figures(tune["scored"], None),
            "stated_gated": _figures(tune["scored"], threshold),
            "all_printed_numbers": _candidate_figures(tune["path"], tune["held"], threshold),
        } if tune else {}
    out.parent.mkdir(parents=True, exist_ok=True)
    _fit(data, out)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    card = {
        "model": out.name,
        "version": VERSION,
        "sha256": digest,
        "task": "is a count or percentage printed in an abstract a result value of an outcome's arm",
        "data": f"{SOCIOCOM} (sociocom/PICO-Corpus), train split (kg.extract.train.corpora.is_dev false)",
        "documents": len(data),
        "examples": sum(len(d.examples) for d in data),
        "values": sum(1 for d in data for _, y in d.examples if y == valuegate.LABEL_VALUE),
        "gold": "a printed number overlapping an iv/cv-bin-abs span (counts) or iv/cv-bin-percent span "
        "(percentages) is V, every other count or percentage O",
        "algorithm": "CRFsuite L-BFGS, one-item sequences (maximum entropy)",
        "params": PARAMS,
        "threshold": threshold,
        "threshold_choice": f"{FOLDS}-fold out-of-fold on the train split (fold 0 = the tune split): "
        f"most right - {COST} x wrong among the numbers kg's rules state that the gate judges (comparative studies)",
        "oof_ungated": _figures(oof, None),
        "oof_gated": utility[threshold],
        "oof_by_threshold": {str(t): [utility[t]["precision"], utility[t]["recall"]] for t in THRESHOLDS},
        "tune": tune_figures,
        "seed": seed,
    }
    out.with_suffix(".json").write_text(json.dumps(card, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return card


__all__ = ["COST", "PARAMS", "THRESHOLDS", "doc_data", "examples", "train"]

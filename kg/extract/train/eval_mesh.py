"""How well kg grounds a study's conditions and interventions in MeSH, from the text alone.

Each corpus document (``picodata_participants.jsonl``: title + abstract + NLM's real MeSH
headings) becomes an :class:`~kg.models.Article` *without* its headings (title =
``text[:title_end]``, the rest one abstract section); kg's sentence splitter and
:func:`kg.extract.pico.conditions` / :func:`~kg.extract.pico.interventions` run on it (or, with
``run``, the whole :func:`kg.extract.extract`) and the UIs predicted are scored against the
headings NLM gave the record. Abstracts/s counts what was run, sentence splitting included.

Gold, stated plainly:

* **conditions** — the record's headings in the disease trees (C, F03), less those NLM marks as
  something the study caused (every qualifier one of "chemically induced", "etiology" or
  "complications" — an adverse event or a complication is an outcome); ``strict`` scores against
  *all* C/F03 headings instead.
* **interventions** — the record's headings qualified "therapeutic use", "administration &
  dosage", "adverse effects" or "pharmacology", and headings in the procedure trees (E02, E04,
  E07) qualified "methods" or with none; the placebo (D010919, a comparator) is left out of both
  sides.

A prediction is right when its UI is one of the record's headings (any heading: NLM indexing a
term says the record is about it); for a supplementary concept (``C…``) when a descriptor it
maps to is. Matches are exact: a parent or child heading counts wrong (``ancestors`` reports the
looser score where a broader or narrower heading also counts). Report on the dev split; rules
are developed on train.

    python -m kg.extract.train.eval_mesh [--split dev|train|both] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kg.extract import indexing, pico
from kg.extract.grounding import load_rules
from kg.extract.text import abbreviations, sentences
from kg.extract.train.corpora import PICODATA, Doc, load, split
from kg.mesh import MeshTable
from kg.models import AbstractSection, Article, Condition, Evidence, Intervention, Span

CONDITION_TREES = ("C", "F03")
PROCEDURE_TREES = ("E02", "E04", "E07")
PLACEBO = "D010919"
_OUTCOME_QUALIFIERS = frozenset({"chemically induced", "etiology", "complications"})
_INTERVENTION_QUALIFIERS = frozenset(
    {"therapeutic use", "administration & dosage", "adverse effects", "pharmacology"}
)


@dataclass(frozen=True, slots=True)
class Heading:
    """One of NLM's headings of a record: descriptor UI, whether major, qualifier names."""

    ui: str
    major: bool
    qualifiers: tuple[str, ...]


@dataclass
class Score:
    """Counts of one element, micro-averaged over documents: predictions right (``tp``) and
    wrong (``fp``); gold headings found (``found``) and missed (``fn``)."""

    tp: int = 0
    fp: int = 0
    found: int = 0
    fn: int = 0
    errors: dict[str, int] = field(default_factory=dict)  # "fp:UI" / "fn:UI" → count

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.found / (self.found + self.fn) if self.found + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "tp": self.tp,
            "fp": self.fp,
            "gold": self.found + self.fn,
            "fn": self.fn,
        }

    def _note(self, kind: str, ui: str) -> None:
        key = f"{kind}:{ui}"
        self.errors[key] = self.errors.get(key, 0) + 1


def headings(doc: Doc, *, mesh: MeshTable) -> list[Heading]:
    """The record's headings ("Breast Neoplasms/*drug therapy") with their UIs (unknown ones go)."""
    out = []
    for raw in doc.extras.get("mesh_headings") or ():
        name, *quals = str(raw).split("/")
        ui = mesh.lookup(name.lstrip("*"))
        if ui is None:
            continue
        major = name.startswith("*") or any(q.startswith("*") for q in quals)
        out.append(Heading(ui, major, tuple(q.lstrip("*") for q in quals)))
    return out


def article_of(doc: Doc) -> Article:
    """The document as kg would read it from PubMed, less NLM's indexing."""
    title = doc.text[: doc.title_end].strip() or None
    abstract = doc.text[doc.title_end :].strip()
    return Article(
        pmid=doc.pmid,
        title=title,
        abstract=(AbstractSection(text=abstract),) if abstract else (),
    )


def gold_conditions(found: Sequence[Heading], *, mesh: MeshTable, strict: bool = False) -> set[str]:
    """Disease headings (C, F03), less adverse events and complications unless ``strict``."""
    return {
        h.ui
        for h in found
        if mesh.in_categories(h.ui, CONDITION_TREES)
        and (strict or not h.qualifiers or not set(h.qualifiers) <= _OUTCOME_QUALIFIERS)
    }


def gold_interventions(found: Sequence[Heading], *, mesh: MeshTable) -> set[str]:
    """Headings given as treatments or exposures, and procedures; the placebo left out."""
    return {
        h.ui
        for h in found
        if h.ui != PLACEBO
        and (
            _INTERVENTION_QUALIFIERS & set(h.qualifiers)
            or (
                mesh.in_categories(h.ui, PROCEDURE_TREES)
                and (not h.qualifiers or "methods" in h.qualifiers)
            )
        )
    }


def _related(ui: str, others: Iterable[str], mesh: MeshTable) -> bool:
    return any(ui in mesh.narrower(o) or o in mesh.narrower(ui) for o in others)


def _score(
    score: Score,
    loose: Score,
    predicted: set[str],
    gold: set[str],
    indexed: set[str],
    mesh: MeshTable,
) -> None:
    """One document's predictions (descriptor or SCR UIs) against its gold and all its headings."""
    covered: set[str] = set()  # gold found exactly
    near: set[str] = set()  # gold found, or a broader or narrower heading of it
    for ui in predicted:
        targets = {ui} | set(mesh.mapped(ui)) if ui.startswith("C") else {ui}
        if targets & indexed:
            score.tp += 1
            loose.tp += 1
            covered |= targets
        else:
            score.fp += 1
            score._note("fp", ui)
            related = {g for g in gold if _related(ui, (g,), mesh)}
            if related:
                loose.tp += 1
                near |= related
            else:
                loose.fp += 1
    for ui in gold:
        if ui in covered:
            score.found += 1
        else:
            score.fn += 1
            score._note("fn", ui)
        if ui in covered or ui in near:
            loose.found += 1
        else:
            loose.fn += 1


@dataclass
class Report:
    """Scores of one split."""

    docs: int = 0
    seconds: float = 0.0
    warmup: float = 0.0  # seconds to build the term index and load the rules, once
    scores: dict[str, Score] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: s.as_dict() for name, s in self.scores.items()}
        out["docs"] = self.docs
        out["abstracts_per_s"] = round(self.docs / self.seconds, 1) if self.seconds else None
        out["warmup_s"] = round(self.warmup, 2)
        return out


def evaluate(
    docs: Sequence[Doc],
    *,
    mesh: MeshTable,
    run: Callable[[Article], Evidence] | None = None,
    spans: bool = False,
) -> Report:
    """Score conditions (gold and strict, exact and loose) and interventions over ``docs``."""
    names = (
        "conditions",
        "conditions_strict",
        "conditions_ancestors",
        "interventions",
        "interventions_ancestors",
    )
    report = Report(scores={name: Score() for name in names})
    s = report.scores
    warm = time.perf_counter()
    mesh.lookup("")  # the term index is built once per process: timed apart
    load_rules()
    indexing.load()
    report.warmup = time.perf_counter() - warm
    for doc in docs:
        found = headings(doc, mesh=mesh)
        if not found:
            continue
        article = article_of(doc)
        start = time.perf_counter()
        if run is None:
            tagged = _participants(doc) if spans else ()
            conditions, interventions = _pico(article, mesh=mesh, participants=tagged)
        else:
            evidence = run(article)
            conditions, interventions = evidence.population.conditions, evidence.interventions
        report.seconds += time.perf_counter() - start
        report.docs += 1
        indexed = {h.ui for h in found}
        conds = {c.mesh for c in conditions if c.mesh}
        ivs = {i.mesh for i in interventions if i.mesh and i.role == "intervention"}
        ivs.discard(PLACEBO)
        gold = gold_conditions(found, mesh=mesh)
        _score(s["conditions"], s["conditions_ancestors"], conds, gold, indexed, mesh)
        strict = gold_conditions(found, mesh=mesh, strict=True)
        _score(s["conditions_strict"], Score(), conds, strict, strict, mesh)
        gold_iv = gold_interventions(found, mesh=mesh)
        _score(s["interventions"], s["interventions_ancestors"], ivs, gold_iv, indexed, mesh)
    return report


def _participants(doc: Doc) -> tuple[Span, ...]:
    """The corpus' own participants spans, as offsets into the abstract :func:`article_of`
    makes (an upper bound of what a tagger can give; spans in the title are left out)."""
    rest = doc.text[doc.title_end :]
    offset = doc.title_end + len(rest) - len(rest.lstrip())
    out = []
    for span in doc.spans:
        start, end = int(span["start"]) - offset, int(span["end"]) - offset
        if span.get("label") == "participants" and start >= 0 and end > start:
            out.append(Span(start=start, end=end, quote=doc.text[start + offset : end + offset]))
    return tuple(out)


def _pico(
    article: Article, *, mesh: MeshTable, participants: Sequence[Span] = ()
) -> tuple[tuple[Condition, ...], tuple[Intervention, ...]]:
    found = sentences(article.abstract)
    abbrevs = abbreviations(article.abstract)
    return (
        pico.conditions(article, found, abbrevs, mesh, participants=participants),
        pico.interventions(article, found, abbrevs, mesh),
    )


def evaluate_conditions(docs: Sequence[Doc], *, mesh: MeshTable) -> dict[str, Any]:
    """P/R/F1 of the conditions kg finds in ``docs`` (exact, strict and loose), abstracts/s."""
    report = evaluate(docs, mesh=mesh)
    out = report.as_dict()
    return {k: v for k, v in out.items() if not k.startswith("interventions")}


def evaluate_interventions(docs: Sequence[Doc], *, mesh: MeshTable) -> dict[str, Any]:
    """P/R/F1 of the interventions kg finds in ``docs`` (exact and loose), abstracts/s."""
    report = evaluate(docs, mesh=mesh)
    out = report.as_dict()
    return {k: v for k, v in out.items() if not k.startswith("conditions")}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=("dev", "train", "both"), default="dev")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--errors", type=int, default=0, help="list the N commonest errors")
    ap.add_argument(
        "--participants", action="store_true",
        help="give kg the corpus' participants spans (what a perfect tagger would)",
    )
    args = ap.parse_args(argv)
    mesh = MeshTable.default()
    train, dev = split(load(PICODATA))
    chosen = {"dev": [("dev", dev)], "train": [("train", train)]}.get(
        args.split, [("dev", dev), ("train", train)]
    )
    for name, docs in chosen:
        if args.limit:
            docs = docs[: args.limit]
        report = evaluate(docs, mesh=mesh, spans=args.participants)
        print(name, json.dumps(report.as_dict(), indent=1))
        if args.errors:
            for element in ("conditions", "interventions"):
                errors = report.scores[element].errors
                top = sorted(errors.items(), key=lambda kv: -kv[1])[: args.errors]
                print(element, ", ".join(f"{k} {mesh.label(k.split(':')[1])}={v}" for k, v in top))


if __name__ == "__main__":
    main()

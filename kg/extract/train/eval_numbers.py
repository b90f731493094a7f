"""Score the sample size and the outcome numbers kg states against sociocom's PICO corpus.

- Sample size: a document counts when sociocom marks at least one ``total-participants`` span.
  ``accuracy`` = documents where kg's N equals the value of one of those spans / such documents
  (a document where kg states no N counts as wrong); ``accuracy_first`` is stricter: kg's N must
  equal the value of the *first* span (the corpus marks the randomized/enrolled number first, the
  analysed one after); ``coverage`` = documents where kg states an N / such documents.
- Numbers: every count and percentage kg states for an outcome is located in the text (the
  printed number inside the outcome's span) and is right when its digits sit on a gold span of that
  kind (``*-bin-abs`` for counts, ``*-bin-percent`` for percentages). ``abstracts_per_second`` is
  extraction alone, in CPU time of this process (one core). Recall = gold spans of those
  kinds that some stated number sits on / all such gold spans. Sociocom annotates arm-level
  values of a trial's outcomes; a number it leaves unmarked counts against kg.

Documents become :class:`kg.models.Article` with the title ``text[:title_end]`` and the rest as
one unlabelled section, without indexing, as a record that NLM has not indexed yet.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kg.extract import extract, valuegate
from kg.extract import numbers as num
from kg.extract.train.corpora import DEFAULT_DIR, SOCIOCOM, Doc, load, split
from kg.mesh import MeshTable
from kg.models import AbstractSection, Article, Evidence

_COUNT_LABELS = ("iv-bin-abs", "cv-bin-abs")
_PERCENT_LABELS = ("iv-bin-percent", "cv-bin-percent")


def article(doc: Doc) -> tuple[Article, int]:
    """The Article of ``doc`` and where its abstract starts in ``doc.text``."""
    rest = doc.text[doc.title_end :].strip()
    base = doc.text.index(rest, doc.title_end) if rest else len(doc.text)
    title = doc.text[: doc.title_end].strip() or None
    return (
        Article(pmid=doc.pmid, title=title, abstract=(AbstractSection(text=rest),) if rest else ()),
        base,
    )


def _gold_values(doc: Doc, label: str) -> list[int]:
    out = []
    for s in doc.spans:
        if s["label"] == label:
            n = num.to_int(re.sub(r"[^\w,-]+", " ", s["text"]).strip())
            if n is not None:
                out.append(n)
    return out


def evaluate_sample_size(docs: Iterable[Doc], *, mesh: MeshTable | None = None) -> dict[str, Any]:
    """Sample-size accuracy, strict accuracy, coverage and precision over ``docs`` (see module)."""
    mesh = mesh or MeshTable.default()
    gold_docs = right = right_first = stated = stated_no_gold = 0
    errors: list[dict[str, Any]] = []
    for doc in docs:
        art, _ = article(doc)
        ev = extract(art, mesh=mesh)
        n = ev.population.sample_size
        gold = _gold_values(doc, "total-participants")
        if not gold:
            stated_no_gold += n is not None
            continue
        gold_docs += 1
        stated += n is not None
        right += n in gold
        right_first += n == gold[0]
        if n not in gold:
            errors.append({"pmid": doc.pmid, "kg": n, "gold": gold})
    return {
        "documents": gold_docs,
        "accuracy": right / gold_docs if gold_docs else 1.0,
        "accuracy_first": right_first / gold_docs if gold_docs else 1.0,
        "coverage": stated / gold_docs if gold_docs else 1.0,
        "precision": right / stated if stated else 1.0,
        "stated_without_gold": stated_no_gold,
        "errors": errors,
    }


def _located(ev: Evidence, text: str, base: int) -> list[tuple[str, str, list[tuple[int, int]]]]:
    """(kind, outcome words, places) for every count and percentage stated for an outcome; the
    places are where the value is printed inside the outcome's span, as offsets into ``text``."""
    out = []
    for o in ev.outcomes:
        m = o.measurement
        for kind, value in (("count", m.count), ("percent", m.percentage)):
            if value is None:
                continue
            start = base + o.span.start
            quote = text[start : base + o.span.end]
            hits = valuegate.places(quote, value, percent=kind == "percent")
            out.append((kind, o.text, [(start + a, start + b) for a, b in hits]))
    return out


def evaluate_numbers(docs: Iterable[Doc], *, mesh: MeshTable | None = None) -> dict[str, Any]:
    """Precision and recall of the outcome counts and percentages kg states (see module)."""
    mesh = mesh or MeshTable.default()
    tp = fp = gold_total = gold_found = 0
    per_kind = {k: [0, 0] for k in ("count", "percent")}
    errors: list[dict[str, Any]] = []
    n_docs = 0
    elapsed = 0.0
    for doc in docs:
        n_docs += 1
        art, base = article(doc)
        t0 = time.process_time()
        ev = extract(art, mesh=mesh)
        elapsed += time.process_time() - t0
        gold = {
            "count": [(s["start"], s["end"]) for s in doc.spans if s["label"] in _COUNT_LABELS],
            "percent": [(s["start"], s["end"]) for s in doc.spans if s["label"] in _PERCENT_LABELS],
        }
        gold_total += len(gold["count"]) + len(gold["percent"])
        hit: set[tuple[str, int]] = set()
        for kind, label, places in _located(ev, doc.text, base):
            on = {i for a, b in places for i, (gs, ge) in enumerate(gold[kind]) if a < ge and b > gs}
            hit.update((kind, i) for i in on)
            if on:
                tp += 1
                per_kind[kind][0] += 1
            else:
                fp += 1
                per_kind[kind][1] += 1
                where = [doc.text[a:b] for a, b in places]
                errors.append({"pmid": doc.pmid, "kind": kind, "outcome": label, "printed": where})
        gold_found += len(hit)
    return {
        "documents": n_docs,
        "stated": tp + fp,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": gold_found / gold_total if gold_total else 1.0,
        "count_precision": _ratio(*per_kind["count"]),
        "percent_precision": _ratio(*per_kind["percent"]),
        "abstracts_per_second": n_docs / elapsed if elapsed else 0.0,
        "errors": errors,
    }


def evaluate(corpora_dir: Path = DEFAULT_DIR) -> dict[str, dict[str, Any]]:
    """Both evaluations on sociocom's train and dev splits (errors left out): what the
    benchmark prints. Only the dev figures say how kg does on abstracts it was not built on."""
    train, dev = split(load(SOCIOCOM, directory=corpora_dir))
    out: dict[str, dict[str, Any]] = {}
    for name, docs in (("train", train), ("dev", dev)):
        size = evaluate_sample_size(docs)
        numbers = evaluate_numbers(docs)
        out[name] = {
            **{f"sample_size_{k}": v for k, v in size.items() if k != "errors"},
            **{f"numbers_{k}": v for k, v in numbers.items() if k != "errors"},
        }
    return out


def _ratio(tp: int, fp: int) -> float:
    return tp / (tp + fp) if tp + fp else 1.0


__all__ = ["article", "evaluate", "evaluate_numbers", "evaluate_sample_size"]

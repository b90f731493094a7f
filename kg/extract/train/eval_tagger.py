"""Score the span tagger on the dev split of every corpus, with the reference metrics.

The metrics are ``../shared/tools/score_spans.py``'s (overlap P/R, exact P/R/F1, token P/R/F1
over ``\\w+`` tokens), imported from there so the figures are the ones anyone else computes.
Each document is read the way kg reads a record (:func:`~kg.extract.train.corpora.as_article`),
tagged by :class:`kg.extract.tagger.Tagger`, and its spans mapped back to the corpus offsets.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from kg.extract.tagger import INTERVENTION, OUTCOME, OUTCOME_MENTION, PARTICIPANTS, Tagger
from kg.extract.train import corpora as C

SCORER = C.ROOT.parent / "shared" / "tools" / "score_spans.py"

#: corpus file → {gold label: kg label}: what each corpus can check.
CHECKS: dict[str, dict[str, str]] = {
    C.EVIDENCE_OUTCOMES: {"Outcome": OUTCOME_MENTION},
    C.EBMNLP_PIO: {"participants": PARTICIPANTS, "interventions": INTERVENTION, "outcomes": OUTCOME},
    C.PICODATA: {"participants": PARTICIPANTS},
    C.EBMNLP_INTERVENTIONS: {"intervention": INTERVENTION},
    C.SOCIOCOM: {"intervention": INTERVENTION, "outcome": OUTCOME_MENTION},
}


def scorer(path: Path = SCORER) -> ModuleType:
    spec = importlib.util.spec_from_file_location("score_spans", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def predictions(tagger: Tagger, docs: list[C.Doc]) -> tuple[dict[str, dict[str, Any]], float]:
    """score_spans-style predictions per PMID, and the tagging rate (abstracts/s)."""
    out: dict[str, dict[str, Any]] = {}
    seconds = 0.0
    for doc in docs:
        conv = C.as_article(doc)
        t = time.perf_counter()
        mentions = tagger.tag(conv.article.title, conv.article.abstract)
        seconds += time.perf_counter() - t
        out[doc.pmid] = {
            "pmid": doc.pmid,
            "spans": [
                {"start": conv.to_text(m.where, m.start), "end": conv.to_text(m.where, m.end), "label": m.label}
                for m in mentions
            ],
        }
    return out, len(docs) / seconds if seconds else 0.0


def evaluate(tagger: Tagger, *, directory: Path = C.DEFAULT_DIR, dev: bool = True,
             limit: int = 0) -> dict[str, Any]:
    """Per corpus and label: the reference metrics on the dev (or train) side."""
    ref = scorer()
    report: dict[str, Any] = {}
    for name, mapping in CHECKS.items():
        docs = [d for d in C.iter_docs(name, directory=directory) if d.dev == dev]
        if limit:
            docs = docs[:limit]
        pred, rate = predictions(tagger, docs)
        gold = {d.pmid: {"pmid": d.pmid, "text": d.text, "spans": list(d.spans)} for d in docs}
        labels: dict[str, Any] = {}
        for glabel, plabel in mapping.items():
            r = ref.score(gold, pred, {glabel: plabel})[glabel]
            op, orc = r["overlap_precision"] or 0.0, r["overlap_recall"] or 0.0
            r["overlap_f1"] = round(2 * op * orc / (op + orc), 4) if op + orc else 0.0
            labels[f"{glabel}→{plabel}"] = r
        report[name] = {"documents": len(docs), "abstracts_per_s": round(rate, 1), "labels": labels}
    return report

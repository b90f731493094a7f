"""Train the span taggers (CRFsuite) from the annotated corpora, and score them on the dev split.

Tasks: ``pio`` tags Participants, Interventions and Outcomes across the whole abstract, title
included (EBM-NLP's convention); ``outcome`` tags outcome mentions in results and conclusions
(EvidenceOutcomes' convention), where kg attaches numbers. Each task's training documents are the
train side of :mod:`kg.extract.train.corpora`'s split, turned into kg Articles exactly as
inference sees them (:func:`~kg.extract.train.corpora.as_article`), so features are the same.

Two model families are trained on the same features and compared on dev: a linear-chain CRF
(L-BFGS, L1+L2) and an independent per-token maximum-entropy classifier (the same CRFsuite
trainer with each token as its own sequence: no transitions).
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pycrfsuite

from kg.extract import features as F
from kg.extract.train import corpora as C

log = logging.getLogger(__name__)


RESULTS_ROLES = ("results", "conclusions")


@dataclass(frozen=True)
class Source:
    """A corpus file, its gold labels → the model's, and which sentences it annotates."""

    file: str
    mapping: dict[str, str]
    roles: tuple[str, ...] | None = None  # only sentences of these roles (None: all, title too)
    skip_pmids_of: str | None = None  # leave out documents that this other file annotates


@dataclass(frozen=True)
class Task:
    name: str
    sources: tuple[Source, ...]
    dev_source: Source  # what dev is scored on


_PIO = {"participants": "P", "interventions": "I", "outcomes": "O"}
TASKS = {
    "pio": Task("pio", (Source(C.EBMNLP_PIO, _PIO),), Source(C.EBMNLP_PIO, _PIO)),
    "P": Task(
        "P",
        (
            Source(C.EBMNLP_PIO, {"participants": "P"}),
            Source(C.PICODATA, {"participants": "P"}, skip_pmids_of=C.EBMNLP_PIO),
        ),
        Source(C.EBMNLP_PIO, {"participants": "P"}),
    ),
    "I": Task(
        "I",
        (
            Source(C.EBMNLP_PIO, {"interventions": "I"}),
            Source(C.EBMNLP_INTERVENTIONS, {"intervention": "I"}, skip_pmids_of=C.EBMNLP_PIO),
        ),
        Source(C.EBMNLP_PIO, {"interventions": "I"}),
    ),
    "O": Task("O", (Source(C.EBMNLP_PIO, {"outcomes": "O"}),), Source(C.EBMNLP_PIO, {"outcomes": "O"})),
    "outcome": Task(
        "outcome",
        (Source(C.EVIDENCE_OUTCOMES, {"Outcome": "OUT"}, RESULTS_ROLES),),
        Source(C.EVIDENCE_OUTCOMES, {"Outcome": "OUT"}, RESULTS_ROLES),
    ),
}

PARAMS: dict[str, Any] = {"c1": 0.05, "c2": 0.01, "max_iterations": 150, "feature.possible_transitions": True}


@dataclass
class Example:
    pmid: str
    features: list[list[str]]
    labels: list[str]


def examples(doc: C.Doc, mapping: dict[str, str], roles: tuple[str, ...] | None) -> list[Example]:
    """One example per sentence (and the title) of ``doc``, labels in BIO over model labels."""
    conv = C.as_article(doc)
    gold = [(s["start"], s["end"], mapping[s["label"]]) for s in doc.spans if s["label"] in mapping]
    out = []
    for seq in F.sequences(conv.article.title, conv.article.abstract):
        if roles is not None and seq.role not in roles:
            continue
        toks = [
            F.Token(t.text, conv.to_text(seq.where, t.start), conv.to_text(seq.where, t.end))
            for t in seq.tokens
        ]
        out.append(Example(doc.pmid, seq.features, F.bio(toks, gold)))
    return out


def source_examples(source: Source, *, directory: Path, dev: bool) -> list[Example]:
    skip: set[str] = set()
    if source.skip_pmids_of:
        skip = {d.pmid for d in C.iter_docs(source.skip_pmids_of, directory=directory)}
    out: list[Example] = []
    for doc in C.iter_docs(source.file, directory=directory):
        if doc.dev == dev and doc.pmid not in skip:
            out.extend(examples(doc, source.mapping, source.roles))
    return out


def task_examples(task: Task, *, directory: Path, dev: bool) -> list[Example]:
    if dev:
        return source_examples(task.dev_source, directory=directory, dev=True)
    return [ex for s in task.sources for ex in source_examples(s, directory=directory, dev=False)]


def fit(
    train: Sequence[Example], path: Path, *, family: str = "crf", params: dict[str, Any] | None = None
) -> None:
    """Train one model into ``path`` (``family``: "crf" or "maxent")."""
    trainer = pycrfsuite.Trainer(algorithm="lbfgs", verbose=False)
    trainer.set_params({**PARAMS, **(params or {})})
    for ex in train:
        if family == "crf":
            trainer.append(ex.features, ex.labels)
        else:
            for f, lab in zip(ex.features, ex.labels, strict=True):
                trainer.append([f], [lab])
    trainer.train(str(path))


def predict(model: Path, exs: Iterable[Example], *, family: str = "crf") -> list[list[str]]:
    tagger = pycrfsuite.Tagger()
    tagger.open(str(model))
    out = []
    for ex in exs:
        if family == "crf":
            out.append(tagger.tag(ex.features))
        else:
            out.append([tagger.tag([f])[0] for f in ex.features])
    tagger.close()
    return out


def token_scores(gold: Sequence[Example], pred: Sequence[Sequence[str]]) -> dict[str, dict[str, float]]:
    """Token-level P/R/F1 per label (labels without their B-/I- prefix)."""
    counts: dict[str, list[int]] = {}
    for ex, p in zip(gold, pred, strict=True):
        for g, q in zip(ex.labels, p, strict=True):
            for lab, is_g, is_p in {(g[2:], True, g[2:] == q[2:]) for _ in [0] if g != "O"} | {
                (q[2:], q[2:] == g[2:], True) for _ in [0] if q != "O"
            }:
                c = counts.setdefault(lab, [0, 0, 0])
                c[0] += is_g and is_p
                c[1] += is_p
                c[2] += is_g
    out = {}
    for lab, (tp, np_, ng) in sorted(counts.items()):
        p = tp / np_ if np_ else 0.0
        r = tp / ng if ng else 0.0
        out[lab] = {"p": round(p, 4), "r": round(r, 4), "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}
    return out


def train_task(
    name: str, out: Path, *, directory: Path = C.DEFAULT_DIR, family: str = "crf",
    params: dict[str, Any] | None = None, evaluate: bool = True,
) -> dict[str, Any]:
    """Train task ``name`` on the train split into ``out``; score tokens on dev when asked."""
    task = TASKS[name]
    t0 = time.perf_counter()
    train = task_examples(task, directory=directory, dev=False)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.crfsuite"
        fit(train, path, family=family, params=params)
        data = path.read_bytes()
        report: dict[str, Any] = {
            "task": name, "family": family, "train_sequences": len(train),
            "train_seconds": round(time.perf_counter() - t0, 1), "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        if evaluate:
            dev = task_examples(task, directory=directory, dev=True)
            report["dev_sequences"] = len(dev)
            report["dev_token"] = token_scores(dev, predict(path, dev, family=family))
        out.write_bytes(data)
    log.info("%s", json.dumps(report))
    return report

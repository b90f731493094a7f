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
import re
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pycrfsuite

from kg.extract import features as F
from kg.extract.tagger import decode, propagate
from kg.extract.train import corpora as C

log = logging.getLogger(__name__)


RESULTS_ROLES = ("results", "conclusions")
_WORDY = re.compile(r"^w=.*\w")


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
    threshold_labels: tuple[str, ...] = ()  # labels that may be decoded by a marginal threshold


_PIO = {"participants": "PAR", "interventions": "INT", "outcomes": "OUT"}
TASKS = {
    # interventions, the label the crowd marks least consistently, may take a marginal threshold
    # (about 0.4 ms an abstract: two marginals a token); the others gained nothing from one
    "pio": Task("pio", (Source(C.EBMNLP_PIO, _PIO),), Source(C.EBMNLP_PIO, _PIO), threshold_labels=("INT",)),
    "P": Task(
        "P",
        (
            Source(C.EBMNLP_PIO, {"participants": "PAR"}),
            Source(C.PICODATA, {"participants": "PAR"}, skip_pmids_of=C.EBMNLP_PIO),
        ),
        Source(C.EBMNLP_PIO, {"participants": "PAR"}),
    ),
    # EBM-NLP's difficulty release (1,377 more train abstracts of intervention spans) was tried
    # as a second source: token F1 on the tune part fell from 0.51 to 0.47, dev from 0.53 to 0.50
    "I": Task("I", (Source(C.EBMNLP_PIO, {"interventions": "INT"}),), Source(C.EBMNLP_PIO, {"interventions": "INT"})),
    "I+difficulty": Task(
        "I+difficulty",
        (
            Source(C.EBMNLP_PIO, {"interventions": "INT"}),
            Source(C.EBMNLP_INTERVENTIONS, {"intervention": "INT"}, skip_pmids_of=C.EBMNLP_PIO),
        ),
        Source(C.EBMNLP_PIO, {"interventions": "INT"}),
    ),
    "O": Task("O", (Source(C.EBMNLP_PIO, {"outcomes": "OUT"}),), Source(C.EBMNLP_PIO, {"outcomes": "OUT"})),
    "outcome": Task(
        "outcome",
        (Source(C.EVIDENCE_OUTCOMES, {"Outcome": "MEN"}, RESULTS_ROLES),),
        Source(C.EVIDENCE_OUTCOMES, {"Outcome": "MEN"}, RESULTS_ROLES),
    ),
}

PARAMS: dict[str, Any] = {"c1": 0.05, "c2": 0.01, "max_iterations": 150, "feature.possible_transitions": True}


@dataclass
class Example:
    pmid: str
    tune: bool
    features: list[F.Attrs]
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
        out.append(Example(doc.pmid, C.is_tune(doc.pmid), seq.features, F.bio(toks, gold)))
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
    train: Sequence[Example], path: Path, *, family: str = "crf", params: dict[str, Any] | None = None,
    keep_empty: bool = True,
) -> None:
    """Train one model into ``path`` (``family``: "crf" or "maxent").

    ``keep_empty=False`` leaves out the sentences with no labelled token: the model's prior for
    the labels rises, which recovers at training time the recall a marginal threshold would buy
    at tagging time (noisy crowd labels make a CRF's Viterbi path favour O), for free.
    """
    trainer = pycrfsuite.Trainer(algorithm="lbfgs", verbose=False)
    trainer.set_params({**PARAMS, **(params or {})})
    for ex in train:
        if not keep_empty and all(lab == "O" for lab in ex.labels):
            continue
        if family == "crf":
            trainer.append(ex.features, ex.labels)
        else:
            for f, lab in zip(ex.features, ex.labels, strict=True):
                trainer.append([f], [lab])
    trainer.train(str(path))


def predict(
    model: Path, exs: Iterable[Example], *, family: str = "crf", thresholds: dict[str, float] | None = None
) -> list[list[str]]:
    tagger = pycrfsuite.Tagger()
    tagger.open(str(model))
    out = []
    for ex in exs:
        if family == "crf":
            items = pycrfsuite.ItemSequence(ex.features)
            out.append(decode(tagger, items, thresholds) if thresholds else tagger.tag(items))
        else:
            out.append([tagger.tag([f])[0] for f in ex.features])
    tagger.close()
    return out


THRESHOLDS = (0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 0.4)


def choose_decoding(
    task: Task, train: Sequence[Example], *, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Training and decoding choices, made on the tune part of the train side (documents of the
    task's dev corpus only) with models fitted on the rest — the dev split is never looked at:
    whether to keep the sentences with no labelled token, and per label whether to propagate
    (and, for the task's ``threshold_labels``, whether to add a marginal-probability threshold)."""
    fit_part = [ex for ex in train if not ex.tune]
    in_dev_corpus = {d.pmid for d in C.iter_docs(task.dev_source.file)}
    tune_part = [ex for ex in train if ex.tune and ex.pmid in in_dev_corpus]
    labels = sorted({lab[2:] for ex in train for lab in ex.labels if lab != "O"})
    options: list[tuple[float, bool, dict[str, float], list[str], dict[str, Any]]] = []
    for keep in (True, False):
        chosen: dict[str, float] = {}
        spread: list[str] = []
        tried: dict[str, Any] = {}
        total = 0.0
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "tune.crfsuite"
            fit(fit_part, path, params=params, keep_empty=keep)
            for lab in labels:
                scored = []
                for th in (None, *(THRESHOLDS if lab in task.threshold_labels else ())):
                    pred = predict(path, tune_part, thresholds={lab: th} if th else None)
                    for prop in (False, True):
                        p = with_propagation(tune_part, pred, lab) if prop else pred
                        f1 = token_scores(tune_part, p).get(lab, {}).get("f1", 0.0)
                        scored.append((f1, -(th or 1.0), not prop, th, prop))
                best = max(scored)
                total += best[0]
                tried[lab] = {"tune_token_f1": best[0], "keep_empty": keep}
                if best[3] is not None:
                    chosen[lab] = best[3]
                if best[4]:
                    spread.append(lab)
        options.append((total, keep, chosen, spread, tried))
    total, keep, chosen, spread, tried = max(options, key=lambda o: (o[0], o[1]))
    return {
        "keep_empty": keep, "thresholds": chosen or None, "propagate": spread,
        "tune": {"labels": tried, "documents": len({e.pmid for e in tune_part}),
                 "mean_f1_by_keep_empty": {str(o[1]): round(o[0] / len(labels), 4) for o in options}},
    }


def with_propagation(exs: Sequence[Example], pred: list[list[str]], label: str) -> list[list[str]]:
    """``pred`` with :func:`kg.extract.tagger.propagate` applied per document."""
    out: list[list[str]] = []
    i = 0
    while i < len(exs):
        j = i
        while j < len(exs) and exs[j].pmid == exs[i].pmid:
            j += 1
        words = [[f[0][2:].decode() for f in ex.features] for ex in exs[i:j]]
        out.extend(propagate(words, pred[i:j], label))
        i = j
    return out


def token_scores(gold: Sequence[Example], pred: Sequence[Sequence[str]]) -> dict[str, dict[str, float]]:
    """Token-level P/R/F1 per label (labels without their B-/I- prefix), over the tokens that
    hold a word character — as the reference metric (``score_spans.py``) counts ``\\w+`` tokens:
    whether a span takes the full stop after it is not what the labels disagree about."""
    tp: dict[str, int] = {}
    n_pred: dict[str, int] = {}
    n_gold: dict[str, int] = {}
    for ex, p in zip(gold, pred, strict=True):
        for f, g, q in zip(ex.features, ex.labels, p, strict=True):
            if not _WORDY.search(f[0].decode()):  # f[0] is b"w=<the word in lower case>"
                continue
            gk, qk = g[2:], q[2:]
            if g != "O":
                n_gold[gk] = n_gold.get(gk, 0) + 1
            if q != "O":
                n_pred[qk] = n_pred.get(qk, 0) + 1
                if qk == gk:
                    tp[qk] = tp.get(qk, 0) + 1
    out: dict[str, dict[str, float]] = {}
    for lab in sorted(set(n_gold) | set(n_pred)):
        prec = tp.get(lab, 0) / n_pred[lab] if n_pred.get(lab) else 0.0
        rec = tp.get(lab, 0) / n_gold[lab] if n_gold.get(lab) else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[lab] = {"p": round(prec, 4), "r": round(rec, 4), "f1": round(f1, 4)}
    return out


def train_task(
    name: str, out: Path, *, directory: Path = C.DEFAULT_DIR, family: str = "crf",
    params: dict[str, Any] | None = None, evaluate: bool = True, tune: bool = True,
) -> dict[str, Any]:
    """Train task ``name`` on the train split into ``out``; score tokens on dev when asked."""
    task = TASKS[name]
    t0 = time.perf_counter()
    train = task_examples(task, directory=directory, dev=False)
    decoding = choose_decoding(task, train, params=params) if family == "crf" and tune else {}
    thresholds = decoding.get("thresholds")
    spread = decoding.get("propagate", [])
    keep_empty = decoding.get("keep_empty", True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.crfsuite"
        fit(train, path, family=family, params=params, keep_empty=keep_empty)
        data = path.read_bytes()
        report: dict[str, Any] = {
            "task": name, "family": family, "train_sequences": len(train),
            "train_seconds": round(time.perf_counter() - t0, 1), "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(), "thresholds": thresholds,
            "propagate": spread, "keep_empty": keep_empty, "tune": decoding.get("tune"),
        }
        if evaluate:
            dev = task_examples(task, directory=directory, dev=True)
            report["dev_sequences"] = len(dev)
            pred = predict(path, dev, family=family, thresholds=thresholds)
            for lab in spread:
                pred = with_propagation(dev, pred, lab)
            report["dev_token"] = token_scores(dev, pred)
            if thresholds or spread:
                report["dev_token_viterbi"] = token_scores(dev, predict(path, dev, family=family))
        out.write_bytes(data)
    log.info("%s", json.dumps(report))
    return report


#: The tasks shipped, in kg/data/tagger/, and the settings they are trained with.
#: One joint P/I/O model and the outcome-mention model: two Viterbi passes a sentence. Separate
#: binary models were tried (P with PICO-data's 3,123 more abstracts: dev token F1 0.67 against
#: the joint 0.63; I alone, without its unlabelled sentences: 0.52 against 0.52) and left out:
#: each costs a third more tagging time for a gain only P shows, and P is the strongest label.
SHIPPED = ("pio", "outcome")
#: The labels each shipped model contributes.
USE = {"pio": ["INT", "OUT", "PAR"], "outcome": ["MEN"], "P": ["PAR"], "I": ["INT"], "O": ["OUT"]}
#: Regularisation of each shipped task, chosen on the tune part (:func:`sweep`; mean token F1 of
#: the task's labels, models fitted on the rest of the train side). P/I/O, c1/c2 →
#: INT / OUT / PAR at the best of no threshold, 0.075 and 0.15 for INT: 0.05/0.05 → 0.504 / 0.508 / 0.602;
#: 0.1/0.01 → 0.508 / 0.497 / 0.615; 0.1/0.1 → 0.513 / 0.505 / 0.614; **0.2/0.01 → 0.516 /
#: 0.508 / 0.625**; 0.3/0.01 → 0.514 / 0.497 / 0.618; 0.5/0.01 → 0.520 / 0.502 / 0.624; and
#: 0.1/0.01 with 300 iterations (not 150) → 0.506 / 0.502 / 0.622.
SHIPPED_PARAMS: dict[str, dict[str, Any]] = {"pio": {"c1": 0.2, "c2": 0.01}, "outcome": {"c1": 0.1}}
SWEEP_GRID: tuple[dict[str, Any], ...] = (
    {"c1": 0.05, "c2": 0.05}, {"c1": 0.1, "c2": 0.01}, {"c1": 0.1, "c2": 0.1},
    {"c1": 0.2, "c2": 0.01}, {"c1": 0.3, "c2": 0.01}, {"c1": 0.5, "c2": 0.01},
    {"c1": 0.1, "c2": 0.01, "max_iterations": 300},
)


def sweep(
    name: str, grid: Sequence[dict[str, Any]] = SWEEP_GRID, *, directory: Path = C.DEFAULT_DIR
) -> list[dict[str, Any]]:
    """Tune-part token F1 of each label of task ``name`` for each setting of ``grid`` (fitted on
    the train side less its tune part, each label at its best marginal threshold, propagation
    as shipped): how :data:`SHIPPED_PARAMS` was chosen. ``python -m kg.extract.train.tagger``."""
    task = TASKS[name]
    train = task_examples(task, directory=directory, dev=False)
    in_dev_corpus = {d.pmid for d in C.iter_docs(task.dev_source.file, directory=directory)}
    fit_part = [ex for ex in train if not ex.tune]
    tune_part = [ex for ex in train if ex.tune and ex.pmid in in_dev_corpus]
    labels = sorted({lab[2:] for ex in train for lab in ex.labels if lab != "O"})
    rows = []
    for params in grid:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "sweep.crfsuite"
            fit(fit_part, path, params=params)
            best: dict[str, float] = {}
            for th in (None, *THRESHOLDS):
                if th is not None and not task.threshold_labels:
                    break
                pred = predict(path, tune_part, thresholds={x: th for x in task.threshold_labels} if th else None)
                for lab in labels:
                    pred = with_propagation(tune_part, pred, lab)
                for lab, sc in token_scores(tune_part, pred).items():
                    best[lab] = max(best.get(lab, 0.0), sc["f1"])
        rows.append({"params": params, "tune_token_f1": best,
                     "mean": round(sum(best.values()) / max(1, len(best)), 4)})
        log.info("%s", json.dumps(rows[-1]))
    return rows
VERSION = "5"


def train_shipped(
    out_dir: Path, *, directory: Path = C.DEFAULT_DIR, tasks: Sequence[str] = SHIPPED,
    evaluate: bool = True,
) -> dict[str, Any]:
    """Train the shipped tasks (or some of them: the others stay as they are) into ``out_dir``
    and write its ``manifest.json``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    models: dict[str, Any] = {}
    old = out_dir / "manifest.json"
    if set(tasks) != set(SHIPPED) and old.exists():
        kept = json.loads(old.read_text(encoding="utf-8"))
        if kept.get("features_version") == F.FEATURES_VERSION:
            models.update({k: v for k, v in kept["models"].items() if k in SHIPPED and k not in tasks})
    for name in tasks:
        file = f"{name.lower()}.crfsuite"
        report = train_task(name, out_dir / file, directory=directory, params=SHIPPED_PARAMS[name],
                            evaluate=evaluate)
        models[name] = {
            "file": file,
            "labels": USE[name],
            "sha256": report["sha256"],
            "bytes": report["bytes"],
            "thresholds": report["thresholds"],
            "propagate": report["propagate"],
            "keep_empty": report["keep_empty"],
            "tune": report["tune"],
            "sources": [s.file for s in TASKS[name].sources],
            "train_sequences": report["train_sequences"],
            "dev_token": report.get("dev_token"),
        }
    manifest = {
        "version": VERSION,
        "features_version": F.FEATURES_VERSION,
        "algorithm": "CRFsuite linear-chain CRF, L-BFGS, Viterbi decoding",
        "params": {task: {**PARAMS, **SHIPPED_PARAMS[task]} for task in sorted(models)},
        "split": "kg.extract.train.corpora.is_dev (sha256 of the PMID, 1 in 5 dev); training and "
                 "decoding choices made on is_tune, a fifth of the train side",
        "models": dict(sorted(models.items())),
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n",
                                           encoding="utf-8")
    return manifest


if __name__ == "__main__":  # python -m kg.extract.train.tagger [TASK]: the regularisation sweep
    import sys

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(json.dumps(sweep(sys.argv[1] if len(sys.argv) > 1 else "pio"), indent=1))

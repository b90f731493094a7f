"""Train the sample-size chooser (``kg/data/sample_size.crfsuite``) on sociocom's train split.

Gold: a candidate number is the sample size (label ``N``) when it overlaps one of the document's
``total-participants`` spans (sociocom marks the randomized/enrolled N and, where the abstract
gives it, the analysed N); every other integer is ``O``. Documents with no such span are left
out of training (the corpus leaves many N's unmarked, so their numbers are not sure negatives).
Dev documents (:func:`kg.extract.train.corpora.is_dev`) are never read here.

L-BFGS on the same data in the same order writes the same bytes, so ``seed`` only orders the
cross-validation folds that pick the decision threshold.
"""

from __future__ import annotations

import hashlib
import json
import random
import tempfile
from pathlib import Path
from typing import Any

import pycrfsuite

from kg.extract import sample
from kg.extract.text import sentences
from kg.extract.train.corpora import DEFAULT_DIR, SOCIOCOM, Doc, load, split
from kg.extract.train.eval_numbers import article

PARAMS = {"c1": 0.05, "c2": 0.01, "max_iterations": 200, "feature.possible_transitions": False}
THRESHOLDS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6)
# a document without a gold N where kg states one: about half of those abstracts do print an N
# the corpus left unmarked (the rest print only the arms' sizes), so each counts half a mistake
UNMARKED_COST = 0.5
PREFER = (1.0, 0.9, 0.5)
FOLDS = 5


def examples(doc: Doc) -> list[tuple[list[str], str, int]]:
    """(features, label, value) for each candidate of ``doc`` (all ``O`` when it has no gold N)."""
    gold = [(s["start"], s["end"]) for s in doc.spans if s["label"] == "total-participants"]
    art, base = article(doc)
    found = sentences(art.abstract)
    out = []
    for i, c, f in sample.features(found):
        a = base + found[i].start + c.start
        out.append((f, sample.label(a, a + (c.end - c.start), gold), c.value))
    return out


def _fit(data: list[list[tuple[list[str], str, int]]], path: Path) -> None:
    trainer = pycrfsuite.Trainer(algorithm="lbfgs", verbose=False)
    for doc in data:
        for f, y, _ in doc:
            trainer.append([f], [y])
    trainer.set_params(PARAMS)
    trainer.train(str(path))


def _gold_values(doc: list[tuple[list[str], str, int]]) -> set[int]:
    return {v for _, y, v in doc if y == sample.LABEL_N}


def _choose(tagger: Any, doc: list[tuple[list[str], str, int]], prefer: float) -> tuple[float, int] | None:
    """(probability, value) of the candidate inference chooses (:func:`kg.extract.sample.pick`)."""
    probabilities = []
    for f, _, _ in doc:
        tagger.set([f])
        probabilities.append(tagger.marginal(sample.LABEL_N, 0))
    k = sample.pick(probabilities, prefer=prefer)
    return None if k is None else (probabilities[k], doc[k][2])


def _utility(
    path: Path, data: list[list[tuple[list[str], str, int]]], prefer: float
) -> dict[float, tuple[float, float]]:
    """Per threshold: (accuracy on documents with a gold N, utility = right − wrong − cost·unmarked)."""
    tagger = pycrfsuite.Tagger()
    tagger.open(str(path))
    out = {}
    chosen = [(_choose(tagger, doc, prefer), _gold_values(doc)) for doc in data]
    tagger.close()
    marked = sum(1 for _, gold in chosen if gold)
    for t in THRESHOLDS:
        right = wrong = unmarked = 0.0
        for best, gold in chosen:
            if best is None or best[0] < t:
                continue
            if not gold:
                unmarked += 1
            elif best[1] in gold:
                right += 1
            else:
                wrong += 1
        out[t] = (right / marked if marked else 0.0, right - wrong - UNMARKED_COST * unmarked)
    return out


def train(corpora_dir: Path = DEFAULT_DIR, out: Path = sample.MODEL, *, seed: int = 0) -> dict[str, Any]:
    """Train on sociocom's train split, write ``out`` and its card; return the card."""
    docs, dev = split(load(SOCIOCOM, directory=corpora_dir))
    everything = [examples(d) for d in docs]
    data = [e for e in everything if _gold_values(e)]
    order = list(range(len(everything)))
    random.Random(seed).shuffle(order)
    cv: dict[tuple[float, float], list[float]] = {(t, p): [0.0, 0.0] for t in THRESHOLDS for p in PREFER}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(FOLDS):
            held = {j for n, j in enumerate(order) if n % FOLDS == k}
            path = Path(tmp) / f"fold{k}.crfsuite"
            _fit([d for j, d in enumerate(everything) if j not in held and _gold_values(d)], path)
            for p in PREFER:
                scored = _utility(path, [d for j, d in enumerate(everything) if j in held], p)
                for t, (acc, util) in scored.items():
                    cv[t, p][0] += acc / FOLDS
                    cv[t, p][1] += util
    threshold, prefer = max(cv, key=lambda tp: (cv[tp][1], -tp[0], tp[1]))
    out.parent.mkdir(parents=True, exist_ok=True)
    _fit(data, out)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    # measured once on the held-out dev split, after every choice above was made on train
    held_out = [examples(d) for d in dev]
    dev_accuracy = _utility(out, held_out, prefer)[threshold][0]
    card = {
        "model": out.name,
        "sha256": digest,
        "task": "choose the study's sample size among the integers of an abstract",
        "data": f"{SOCIOCOM} (sociocom/PICO-Corpus), train split (kg.extract.train.corpora.is_dev false)",
        "documents": len(data),
        "candidates": sum(len(d) for d in data),
        "gold": "a candidate overlapping a total-participants span is N",
        "algorithm": "CRFsuite L-BFGS, one-item sequences (maximum entropy)",
        "params": PARAMS,
        "threshold": threshold,
        "prefer": prefer,
        "threshold_choice": f"{FOLDS}-fold cross-validation on the train split, all its documents: "
        f"most right - wrong - {UNMARKED_COST} x (an N stated where the corpus marks none); "
        "prefer: the earliest candidate scoring at least prefer x the best is chosen",
        "cv_accuracy_by_threshold_prefer": {f"{t}/{p}": round(a, 4) for (t, p), (a, _) in cv.items()},
        "cv_utility_by_threshold_prefer": {f"{t}/{p}": round(u, 1) for (t, p), (_, u) in cv.items()},
        "seed": seed,
        "dev_documents": sum(1 for e in held_out if _gold_values(e)),
        "dev_accuracy": round(dev_accuracy, 4),
        "accuracy_definition": "documents with a total-participants span where the chosen N equals "
        "the value of one of them (no N stated counts as wrong) / those documents",
        "known_failures": [
            "an N printed only in the title is not seen (candidates come from the abstract)",
            "where the abstract gives randomized and analysed N, the choice follows the corpus, "
            "which marks either",
        ],
    }
    out.with_suffix(".json").write_text(json.dumps(card, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return card


__all__ = ["PARAMS", "examples", "train"]

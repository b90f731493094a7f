"""Train the findings direction classifier on the Evidence Inference corpus (train split only).

Each gold prompt gives a sentence (its evidence text), the intervention and comparator as the
annotator wrote them, and the direction of the intervention against the comparator. The label
the model learns is the direction of the sentence's *subject* arm against its *reference* arm
(:func:`kg.extract.findings.orientation`), so it is flipped when the sentence names the
comparator as its subject. Features come from :func:`kg.extract.findings.features`, the module
inference uses.

The model is CRFsuite over one-item sequences (a multinomial maximum-entropy classifier, L-BFGS,
elastic net). The confidence threshold under which kg states no direction is chosen here, on the
training split, by 5-fold cross-validation grouped by document and run end to end (each fold's
model on its held-out abstracts with the sentences and arms kg.extract reads, not the gold ones):
the lowest threshold at which the out-of-fold accuracy of the stated directions reaches
:data:`TARGET_ACCURACY`. The dev split is never read. Same data, same bytes: documents and
prompts are read in file order, folds are a hash of the PMID, and L-BFGS is deterministic.

(Tried and left: the label as given, with the arms' order as a feature and no flip — better on
the gold sentences in cross-validation, 0.82 against 0.80, but end to end no better, and it does
not learn that "higher with placebo than with X" is a decrease for X.)
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pycrfsuite

from kg.extract import findings as fx
from kg.extract import pico
from kg.extract.text import abbreviations, sentences
from kg.extract.train import corpora
from kg.mesh import MeshTable
from kg.models import Article, Evidence, Finding

VERSION = "2"
C1 = 0.2
C2 = 1.0
MAX_ITERATIONS = 200
FOLDS = 5
TARGET_ACCURACY = 0.84
THRESHOLDS = tuple(round(0.34 + 0.02 * i, 2) for i in range(33))  # 0.34 … 0.98


def examples(docs: list[corpora.Doc]) -> Iterator[tuple[corpora.Doc, dict[str, Any], dict[str, float], str, bool]]:
    """(doc, prompt, features, label of the sentence's subject, flipped) per gold prompt."""
    for doc in docs:
        for p in doc.extras.get("prompts", ()):
            code = int(p["label_code"])
            if code not in fx.CODE_LABEL:
                continue
            text = p["evidence"]["text"]
            feats, flipped = sentence_features(text, p["intervention"], p["comparator"])
            label = fx.CODE_LABEL[code]
            yield doc, p, feats, fx.FLIP[label] if flipped else label, flipped


def sentence_features(text: str, intervention: str, comparator: str) -> tuple[dict[str, float], bool]:
    """The features of a sentence given the two arms' words, and whether the comparator is its subject."""
    mentions = fx.arm_mentions(text, [intervention, comparator])
    orient = fx.orientation(text, mentions)
    subject_first: bool | None = None
    flipped = False
    if orient is not None:
        subject, reference = orient
        flipped = subject == 1 or (subject == -1 and reference == 0)
        if subject >= 0 and reference is not None:
            first = {m.key: m.start for m in mentions}
            subject_first = first.get(subject, 0) <= first.get(reference, 0)
    return fx.features(text, subject_first=subject_first), flipped


# --- matching kg's findings to the gold prompts (here and in eval_findings) ----------------------

_WORD = re.compile(r"[a-z0-9]{3,}")


def _words(text: str | None) -> set[str]:
    return set(_WORD.findall((text or "").lower())) - {"the", "and", "with", "group", "groups", "patients"}


def _overlap(a: str | None, b: str | None) -> float:
    wa, wb = _words(a), _words(b)
    return len(wa & wb) / len(wa | wb) if wa and wb else 0.0


def _arm_text(evidence: Evidence, index: int | None, text: str | None) -> str | None:
    if index is not None and index < len(evidence.interventions):
        iv = evidence.interventions[index]
        return " ".join(t for t in (text, iv.text, iv.abbreviation) if t)
    return text


def oriented(f: Finding, evidence: Evidence, prompt: dict[str, Any]) -> str | None:
    """kg's direction turned to the prompt's intervention against its comparator."""
    if f.direction is None:
        return None
    iv = _arm_text(evidence, f.intervention, f.intervention_text)
    cmp_ = _arm_text(evidence, f.comparator, f.comparator_text)
    straight = _overlap(iv, prompt["intervention"]) + _overlap(cmp_, prompt["comparator"])
    crossed = _overlap(iv, prompt["comparator"]) + _overlap(cmp_, prompt["intervention"])
    return fx.FLIP[f.direction] if crossed > straight else f.direction


def matching_finding(article: Article, evidence: Evidence, prompt: dict[str, Any]) -> Finding | None:
    """kg's finding for a gold prompt: on the gold evidence sentence, the best outcome overlap."""
    quote = prompt["evidence"]["text"].strip()
    at = article.abstract_text.find(quote)
    if at < 0:
        return None
    hits = [f for f in evidence.findings if f.span.start < at + len(quote) and at < f.span.end]
    return max(hits, key=lambda f: _overlap(f.outcome, prompt["outcome"])) if hits else None



def _fold(pmid: str) -> int:
    return int.from_bytes(hashlib.sha256(f"kg-findings-fold:{pmid}".encode()).digest()[:4], "big") % FOLDS


def _fit(rows: list[tuple[dict[str, float], str]], path: Path, *, c2: float = C2) -> None:
    trainer = pycrfsuite.Trainer(algorithm="lbfgs", verbose=False)
    for feats, label in rows:
        trainer.append([feats], [label])
    trainer.set_params({"c1": C1, "c2": c2, "max_iterations": MAX_ITERATIONS, "feature.possible_states": True})
    trainer.train(str(path))


def cross_validate(docs: list[corpora.Doc], *, c2: float = C2) -> list[tuple[bool, float] | None]:
    """Out-of-fold results per training prompt, end to end as kg runs: each fold's model finds the
    findings of its held-out abstracts (their sentences and arms as kg.extract reads them), the one on the gold
    sentence is turned to the prompt's arms and compared with the gold direction: (correct,
    probability), or None when kg has no finding there."""
    rows = list(examples(docs))
    mesh = MeshTable.default()
    read = {}
    for doc in docs:
        # what kg.extract gives find(): the sentences and the arms (no shipped model needed)
        article = corpora.as_article(doc).article
        found = sentences(article.abstract)
        arms = pico.interventions(article, found, abbreviations(article.abstract), mesh)
        read[doc.pmid] = (article, Evidence(pmid=doc.pmid, interventions=arms), found)
    out: list[tuple[bool, float] | None] = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(FOLDS):
            path = Path(tmp) / f"fold{k}.crfsuite"
            _fit([(f, lab) for d, _, f, lab, _ in rows if _fold(d.pmid) != k], path, c2=c2)
            tagger = pycrfsuite.Tagger()
            tagger.open(str(path))
            model = fx.Model(tagger=tagger, version="cv", threshold=0.0)
            for doc in docs:
                if _fold(doc.pmid) != k:
                    continue
                article, evidence, found = read[doc.pmid]
                evidence = replace(
                    evidence, findings=fx.find(found, interventions=evidence.interventions, model_=model)
                )
                for p in doc.extras.get("prompts", ()):
                    if int(p["label_code"]) not in fx.CODE_LABEL:
                        continue
                    best = matching_finding(article, evidence, p)
                    direction = oriented(best, evidence, p) if best is not None else None
                    if best is None or direction is None:
                        out.append(None)
                        continue
                    out.append((direction == fx.CODE_LABEL[int(p["label_code"])], best.probability or 0.0))
            tagger.close()
    return out


def choose_threshold(scored: list[tuple[bool, float] | None]) -> tuple[float, float, float]:
    """(threshold, accuracy where stated, coverage of all prompts): the lowest threshold at which
    the accuracy of the stated directions reaches the target."""
    best = (THRESHOLDS[-1], 0.0, 0.0)
    for t in THRESHOLDS:
        stated = [ok for ok, p in filter(None, scored) if p >= t]
        if not stated:
            continue
        acc = sum(stated) / len(stated)
        cov = len(stated) / len(scored)
        if acc >= TARGET_ACCURACY:
            return t, acc, cov
        best = (t, acc, cov)
    return best


def train(corpora_dir: Path, out: Path, *, seed: int = 0) -> dict[str, Any]:
    """Train on the train split of the Evidence Inference corpus in ``corpora_dir``; write the
    model and its card into ``out`` (``kg/data/``); return the card.

    ``seed`` is recorded; nothing here is random (folds hash the PMID, L-BFGS is deterministic).
    """
    docs = corpora.load(corpora.EVIDENCE_INFERENCE, directory=corpora_dir)
    train_docs, _ = corpora.split(docs)
    scored = cross_validate(train_docs)
    threshold, cv_acc, cv_cov = choose_threshold(scored)
    rows = [(f, lab) for _, _, f, lab, _ in examples(train_docs)]
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / fx.MODEL_NAME
    _fit(rows, model_path)
    blob = model_path.read_bytes()
    card: dict[str, Any] = {
        "name": "kg findings direction classifier",
        "version": VERSION,
        "sha256": fx.sha256(blob),
        "threshold": threshold,
        "labels": list(fx.LABELS),
        "algorithm": f"CRFsuite L-BFGS over one-item sequences (maxent), c1={C1}, c2={C2}, max_iterations={MAX_ITERATIONS}",
        "data": f"{corpora.EVIDENCE_INFERENCE}: train split (kg.extract.train.corpora.is_dev false)",
        "train_documents": len(train_docs),
        "train_prompts": len(rows),
        "cross_validation": {
            "folds": FOLDS,
            "grouped_by": "PMID",
            "target_accuracy": TARGET_ACCURACY,
            "end_to_end": "kg's sentences and arms of the held-out abstracts; the finding on the gold sentence, turned to the prompt's arms",
            "accuracy_where_found": round(
                sum(ok for ok, _ in filter(None, scored)) / max(1, sum(1 for x in scored if x)), 4
            ),

            "accuracy_where_stated": round(cv_acc, 4),
            "coverage": round(cv_cov, 4),
        },
        "seed": seed,
        "known_failures": [
            "sentences that compare more than two arms, or state several outcomes with different directions",
            "direction words whose sense depends on the outcome (a 'higher' pain score is worse)",
            "arms the sentence names by words the extracted interventions do not share (\"group A\")",
        ],
    }
    (out / fx.CARD_NAME).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return card


__all__ = ["choose_threshold", "cross_validate", "examples", "matching_finding", "oriented", "sentence_features", "train"]

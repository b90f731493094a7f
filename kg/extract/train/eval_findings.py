"""How well kg's findings agree with the Evidence Inference prompts (``evaluate(docs)``).

For each gold prompt (intervention, comparator, outcome, direction, evidence sentence) of the
given documents: kg extracts the whole abstract, read as a PubMed record
(:func:`kg.extract.train.corpora.as_article`: the title, and the ``ABSTRACT.X:`` paragraphs as
labelled sections, so section roles work) (:func:`kg.extract.extract`), takes its findings
whose evidence sentence overlaps the gold evidence, picks the one whose outcome words best
overlap the prompt's outcome, and orients it to the prompt (when kg's intervention is the
prompt's comparator, or kg's comparator the prompt's intervention, the direction flips).
Reported: direction accuracy where kg states one, coverage (share of prompts with a kg
direction), the classifier alone on the gold sentence with the gold arms, and abstracts/s.
"""

from __future__ import annotations

import re
import time
from typing import Any

from kg.extract import extract
from kg.extract import findings as fx
from kg.extract.train import corpora
from kg.extract.train import findings as tf
from kg.mesh import MeshTable
from kg.models import Article, Evidence, Finding

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


def _gold_sentence_in(article: Article, doc: corpora.Doc, prompt: dict[str, Any]) -> tuple[int, int] | None:
    """The gold evidence's offsets in ``article.abstract_text`` (found by its text)."""
    at = article.abstract_text.find(prompt["evidence"]["text"].strip())
    if at < 0:
        return None
    return at, at + len(prompt["evidence"]["text"].strip())


def evaluate(docs: list[corpora.Doc], *, mesh: MeshTable | None = None) -> dict[str, Any]:
    """Direction accuracy where kg states one, coverage, classifier-alone accuracy, abstracts/s."""
    mesh = mesh or MeshTable.default()
    fx.model()
    articles = [corpora.as_article(d).article for d in docs]
    for a in articles[:3]:
        extract(a, mesh=mesh)  # warm caches
    start = time.perf_counter()
    evidences = [extract(a, mesh=mesh) for a in articles]
    elapsed = time.perf_counter() - start
    prompts = stated = correct = found = 0
    alone = alone_ok = 0
    by_label: dict[str, list[int]] = {}
    for doc, article, ev in zip(docs, articles, evidences, strict=True):
        for p in doc.extras.get("prompts", ()):
            code = int(p["label_code"])
            if code not in fx.CODE_LABEL:
                continue
            gold = fx.CODE_LABEL[code]
            prompts += 1
            # the classifier alone, on the gold sentence with the gold arms
            feats, flipped = tf.sentence_features(p["evidence"]["text"], p["intervention"], p["comparator"])
            if fx.stated_no_difference(p["evidence"]["text"]):
                guess = fx.NO_DIFFERENCE
            else:
                probs = fx.model().probabilities(feats)
                guess = max(fx.LABELS, key=lambda lab: probs.get(lab, 0.0))
            alone += 1
            alone_ok += (fx.FLIP[guess] if flipped else guess) == gold
            where = _gold_sentence_in(article, doc, p)
            if where is None:
                continue
            hits = [f for f in ev.findings if f.span.start < where[1] and where[0] < f.span.end]
            if not hits:
                continue
            found += 1
            best = max(hits, key=lambda f: _overlap(f.outcome, p["outcome"]))
            direction = oriented(best, ev, p)
            if direction is None:
                continue
            stated += 1
            ok = direction == gold
            correct += ok
            by_label.setdefault(gold, [0, 0])
            by_label[gold][0] += ok
            by_label[gold][1] += 1
    return {
        "documents": len(docs),
        "prompts": prompts,
        "found": found,
        "stated": stated,
        "direction_accuracy_where_stated": round(correct / stated, 4) if stated else None,
        "coverage": round(stated / prompts, 4) if prompts else None,
        "found_share": round(found / prompts, 4) if prompts else None,
        "classifier_accuracy_gold_sentence": round(alone_ok / alone, 4) if alone else None,
        "accuracy_by_gold_label": {k: round(v[0] / v[1], 4) for k, v in sorted(by_label.items())},
        "abstracts_per_second": round(len(docs) / elapsed, 1) if elapsed > 0 else None,
    }


def main() -> None:
    docs = corpora.load(corpora.EVIDENCE_INFERENCE)
    train, dev = corpora.split(docs)
    for name, part in (("dev", dev), ("train", train)):
        print(name, evaluate(part))


if __name__ == "__main__":
    main()


__all__ = ["evaluate", "oriented"]

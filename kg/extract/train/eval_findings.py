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

import time
from typing import Any

from kg.extract import extract
from kg.extract import findings as fx
from kg.extract.train import corpora
from kg.extract.train import findings as tf
from kg.mesh import MeshTable


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
            best = tf.matching_finding(article, ev, p)
            if best is None:
                continue
            found += 1
            direction = tf.oriented(best, ev, p)
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


__all__ = ["evaluate"]

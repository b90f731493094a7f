"""Learn how the terms an abstract names map to the disease headings NLM gives it.

The text names "autism spectrum disorder"; NLM indexed Autistic Disorder and Child Development
Disorders, Pervasive. It names "non-small cell lung cancer"; NLM adds Lung Neoplasms. It says
"hypertensive patients"; NLM indexed Hypertension. For every candidate key (a UI or cue of
:mod:`kg.extract.grounding` with its bucket, e.g. ``D000067877|strong``) seen in at least
``MIN_SUPPORT`` train documents, the rules list the condition headings indexed in at least
``THRESHOLD`` of them (a strong term's own heading smoothed toward the hand rule's precision, so a
rare term keeps the hand rule). Only the train split is read; the dev split scores the result
(:mod:`kg.extract.train.eval_mesh`).

    python -m kg.extract.train.grounding [-o kg/data/mesh-grounding.json]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

from kg.extract import grounding
from kg.extract.text import abbreviations, sentences
from kg.extract.train.corpora import PICODATA, Doc, load, split
from kg.extract.train.eval_mesh import (
    article_of,
    evaluate,
    gold_conditions,
    gold_interventions,
    headings,
)
from kg.mesh import MeshTable

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_OUTPUT = ROOT / "kg" / "data" / grounding.RULES_FILE
MIN_SUPPORT = 1
THRESHOLD = 0.45
SMOOTHING = 2.0
# Settings chosen by 3-fold cross-validation on the train split (F1): smoothing every key wins
# for conditions (P .64→.70, R .44→.43); for interventions a drug named once is no evidence
# against it, and frequent keys alone win (F1 .452 against .436)
INTERVENTION_SETTINGS = {"threshold": 0.5, "min_support": 3, "smoothing": 0.0}


def keys_of(doc: Doc, *, mesh: MeshTable, kind: str = grounding.CONDITION) -> set[str]:
    """The candidate keys of one document, as inference computes them."""
    article = article_of(doc)
    found = sentences(article.abstract)
    short = abbreviations(article.abstract)
    if kind == grounding.INTERVENTION:
        terms = grounding.mentions(
            title=article.title, sentences=found, abbreviations=short, mesh=mesh,
            trees=grounding.INTERVENTION_TREES, given=grounding.GIVEN,
        )
    else:
        terms = grounding.mentions(
            title=article.title, sentences=found, abbreviations=short, mesh=mesh,
            trees=grounding.CONDITION_TREES,
        )
        terms += grounding.cues(title=article.title, sentences=found)
    found_candidates = grounding.candidates(terms, mesh=mesh, kind=kind)
    return {grounding.key(c, kind=kind) for c in found_candidates}


def learn(
    docs: Sequence[Doc],
    *,
    mesh: MeshTable,
    kind: str = grounding.CONDITION,
    threshold: float = THRESHOLD,
    min_support: int = MIN_SUPPORT,
    smoothing: float = SMOOTHING,
) -> dict[str, list[str]]:
    """Key → the headings to predict for it, most often indexed first.

    A heading is predicted when the share of the key's documents indexed with it reaches
    ``threshold``; a strong term's own heading starts from ``smoothing`` pseudo-documents at
    the hand rule's precision, so one document neither makes nor breaks a rare term.
    """
    seen: Counter[str] = Counter()
    together: dict[str, Counter[str]] = defaultdict(Counter)
    for doc in docs:
        found = headings(doc, mesh=mesh)
        if not found:
            continue
        if kind == grounding.INTERVENTION:
            gold = gold_interventions(found, mesh=mesh)
        else:
            gold = gold_conditions(found, mesh=mesh)
        for key in keys_of(doc, mesh=mesh, kind=kind):
            seen[key] += 1
            together[key].update(gold)
    # how often a strong term stands for itself, over all keys: the prior of a rare key
    strong = [key for key in seen if key.endswith("|strong")]
    hits = sum(together[key][_own(key)] for key in strong)
    prior = hits / max(1, sum(seen[key] for key in strong))
    rules = {}
    for key, n in seen.items():
        if n < min_support:
            continue
        own = _own(key) if key.endswith("|strong") else None
        counts = dict(together[key])
        if own is not None:
            counts.setdefault(own, 0)
        ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
        rules[key] = [
            ui
            for ui, k in ranked
            if (k + (smoothing * prior if ui == own else 0.0)) / (n + smoothing) >= threshold
        ]
    return dict(sorted(rules.items()))


def _own(key: str) -> str:
    """The UI a key is of ("iv:D001|strong" → "D001")."""
    return key.split("|")[0].removeprefix("iv:")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    args = ap.parse_args(argv)
    mesh = MeshTable.default()
    train, dev = split(load(PICODATA))
    rules = learn(train, mesh=mesh) | learn(
        train,
        mesh=mesh,
        kind=grounding.INTERVENTION,
        threshold=INTERVENTION_SETTINGS["threshold"],
        min_support=int(INTERVENTION_SETTINGS["min_support"]),
        smoothing=INTERVENTION_SETTINGS["smoothing"],
    )
    card = {
        "what": "candidate key (MeSH UI or cue, with bucket; 'iv:' for interventions) -> "
        "the condition (or intervention) headings NLM indexes",
        "data": f"{PICODATA} train split ({len(train)} abstracts; dev {len(dev)} held out)",
        "min_support": MIN_SUPPORT,
        "threshold": THRESHOLD,
        "smoothing": SMOOTHING,
        "interventions": INTERVENTION_SETTINGS,
        "known_failures": "headings follow the corpus' indexing years (Autistic Disorder "
        "rather than Autism Spectrum Disorder); rare diseases keep the hand rule",
    }
    write_rules(rules, card=card, path=args.output)
    if args.output == DEFAULT_OUTPUT:  # the card says how the shipped rules score on dev
        grounding.load_rules.cache_clear()
        report = evaluate(dev, mesh=mesh).as_dict()
        card["dev"] = {k: report[k] for k in ("conditions", "conditions_strict", "interventions")}
        write_rules(rules, card=card, path=args.output)
    print(f"{args.output}: {len(rules)} keys")


def write_rules(rules: dict[str, list[str]], *, card: dict[str, object], path: Path) -> None:
    """The rules with their model card and checksum, as stable JSON (same input, same bytes)."""
    data = {"card": card, "sha256": grounding.digest(rules), "rules": rules}
    text = json.dumps(data, indent=0, sort_keys=True, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

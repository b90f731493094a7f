"""Extraction quality on the hand-made gold set, and extraction speed on the shared corpus.

Prints per-element precision/recall/F1 against ``tests/data/gold/*.json`` (numbers: every
value kg states about a gold outcome must equal the gold's), lists any wrong number, then
abstracts/s for extraction alone (parsing excluded) over the shared PubMed XML records.

    python benchmarks/eval_extract.py [--corpus DIR] [--limit N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from kg.extract import extract
from kg.extract.evaluate import Evaluation, evaluate_one, load_gold
from kg.mesh import MeshTable
from kg.models import Article
from kg.sources.files import expand, read_file

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "tests" / "data" / "gold"
SHARED = ROOT.parent / "shared" / "data" / "pubmed" / "xml"


def gold_article(gold: dict[str, object]) -> Article:
    if "record" in gold:
        path = GOLD / str(gold["record"])
    else:
        path = next((ROOT / "tests" / "data" / "seed").iterdir())
    return next(r for r in read_file(path) if isinstance(r, Article))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=SHARED)
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    mesh = MeshTable.default()
    ev = Evaluation()
    for gold in load_gold(GOLD):
        article = gold_article(gold)
        evaluate_one(ev, article, extract(article, mesh=mesh), gold)
    print(f"gold set: {ev.records} abstracts ({GOLD.relative_to(ROOT)})")
    print(ev.table())
    print(f"wrong numbers: {len(ev.wrong_numbers)}")
    for line in ev.wrong_numbers:
        print("  " + line)
    if not args.corpus.exists():
        return
    articles = [
        r
        for p in expand([args.corpus], recursive=True)
        for r in read_file(p)
        if isinstance(r, Article) and r.abstract
    ]
    if args.limit:
        articles = articles[: args.limit]
    chars = sum(len(a.abstract_text) for a in articles)
    t = time.perf_counter()
    outcomes = sum(len(extract(a, mesh=mesh).outcomes) for a in articles)
    dt = time.perf_counter() - t
    print(
        f"extraction alone: {len(articles)} abstracts ({chars / 1e6:.1f} M chars) in {dt:.2f}s = "
        f"{len(articles) / dt:.0f} abstracts/s, {outcomes} outcomes"
    )


if __name__ == "__main__":
    main()

"""Extraction quality on text nobody here wrote the code for, and extraction speed.

1. The dev split of the annotated corpora (``../shared/data/corpora/``, one in five PMIDs by a
   hash, never trained or tuned on): span P/R/F1 (overlap and exact) and token F1 per label with
   the reference metrics of ``../shared/tools/score_spans.py``; sample-size accuracy; numeric
   precision/recall against the annotated result values; condition and intervention MeSH P/R
   against the real headings (text alone, no NLM indexing); finding-direction accuracy.
2. The 13-abstract hand-made gold set of ``tests/data/gold`` (written by the people who wrote
   the rules: it flatters them — read it next to the dev figures).
3. Abstracts/s of the whole extraction (tagger + rules) on the shared PubMed records, one core.

    python benchmarks/eval_extract.py [--train] [--json FILE] [--limit N]

``--train`` prints the same figures on the train side too (how far dev is from what was fitted).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from kg.extract import extract
from kg.extract.evaluate import Evaluation, evaluate_one, load_gold
from kg.extract.tagger import Tagger
from kg.extract.text import sentences
from kg.extract.train import corpora as C
from kg.extract.train import eval_findings, eval_mesh, eval_numbers, eval_tagger
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


def side(dev: bool, mesh: MeshTable) -> dict[str, Any]:
    def docs(name: str) -> list[C.Doc]:
        return [d for d in C.iter_docs(name) if d.dev == dev]

    return {
        "spans": eval_tagger.evaluate(Tagger.default(), dev=dev),
        "sample_size": eval_numbers.evaluate_sample_size(docs(C.SOCIOCOM), mesh=mesh),
        "numbers": eval_numbers.evaluate_numbers(docs(C.SOCIOCOM), mesh=mesh),
        "mesh_conditions": eval_mesh.evaluate_conditions(docs(C.PICODATA), mesh=mesh),
        "mesh_interventions": eval_mesh.evaluate_interventions(docs(C.PICODATA), mesh=mesh),
        "findings": eval_findings.evaluate(docs(C.EVIDENCE_INFERENCE), mesh=mesh),
    }


def print_side(name: str, r: dict[str, Any]) -> None:
    print(f"\n== {name} ==")
    print("spans (reference metrics of score_spans.py):")
    print(f"  {'corpus / gold→kg label':<58} {'docs':>5} {'ovP':>6} {'ovR':>6} {'ovF1':>6} {'exF1':>6} {'tokP':>6} {'tokR':>6} {'tokF1':>6}")
    for corpus, c in r["spans"].items():
        for label, s in c["labels"].items():
            print(
                f"  {corpus.removesuffix('.jsonl') + ' ' + label:<58} {c['documents']:>5} "
                f"{s['overlap_precision'] or 0:>6.3f} {s['overlap_recall'] or 0:>6.3f} {s['overlap_f1']:>6.3f} "
                f"{s['exact_f1']:>6.3f} {s['token_precision'] or 0:>6.3f} {s['token_recall'] or 0:>6.3f} {s['token_f1']:>6.3f}"
            )
    for key in ("sample_size", "numbers", "mesh_conditions", "mesh_interventions", "findings"):
        print(f"{key}: {json.dumps(_brief(r[key]))}")


def _brief(d: dict[str, Any]) -> dict[str, Any]:
    """Scalars, and the P/R/F1 of nested scores ("conditions": {"precision": …})."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict) and "precision" in v:
            out[k] = {m: v[m] for m in ("precision", "recall", "f1") if m in v}
        elif not isinstance(v, list | dict):
            out[k] = round(v, 4) if isinstance(v, float) else v
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=SHARED)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--train", action="store_true", help="also report the train side")
    ap.add_argument("--json", type=Path, help="write every figure to this JSON file")
    args = ap.parse_args()
    mesh = MeshTable.default()
    report: dict[str, Any] = {}
    if (C.DEFAULT_DIR / C.EBMNLP_PIO).exists():
        report["dev"] = side(True, mesh)
        print_side("dev split (never trained or tuned on)", report["dev"])
        if args.train:
            report["train"] = side(False, mesh)
            print_side("train side (fitted on: for comparison only)", report["train"])
    ev = Evaluation()
    for gold in load_gold(GOLD):
        article = gold_article(gold)
        evaluate_one(ev, article, extract(article, mesh=mesh), gold)
    print(f"\n== hand-made gold set: {ev.records} abstracts ({GOLD.relative_to(ROOT)}) ==")
    print(ev.table())
    print(f"wrong numbers: {len(ev.wrong_numbers)}")
    for line in ev.wrong_numbers:
        print("  " + line)
    if args.corpus.exists():
        articles = [
            r
            for p in expand([args.corpus], recursive=True)
            for r in read_file(p)
            if isinstance(r, Article) and r.abstract
        ]
        if args.limit:
            articles = articles[: args.limit]
        extract(articles[0], mesh=mesh)  # models load once per process, outside the timing
        chars = sum(len(a.abstract_text) for a in articles)
        # CPU time of this (single-threaded) process: what one core does, whatever else runs on
        # the machine; wall time beside it (the same on a quiet machine)
        t, w = time.process_time(), time.perf_counter()
        outcomes = sum(len(extract(a, mesh=mesh).outcomes) for a in articles)
        dt, wall = time.process_time() - t, time.perf_counter() - w
        tagger = Tagger.default()
        found = [sentences(a.abstract) for a in articles]
        t = time.process_time()
        for a, s in zip(articles, found, strict=True):
            tagger.tag(a.title, a.abstract, found=s)
        tagging = time.process_time() - t
        report["speed"] = {"abstracts": len(articles), "cpu_seconds": round(dt, 2),
                           "wall_seconds": round(wall, 2),
                           "abstracts_per_s": round(len(articles) / dt, 1),
                           "tagger_ms_per_abstract": round(1000 * tagging / len(articles), 3),
                           "ms_per_abstract": round(1000 * dt / len(articles), 3)}
        print(
            f"\nextraction (tagger + rules), one core: {len(articles)} abstracts "
            f"({chars / 1e6:.1f} M chars) in {dt:.2f} CPU-s = {len(articles) / dt:.0f} "
            f"abstracts/s ({wall:.2f}s wall), {outcomes} outcomes; "
            f"{1000 * dt / len(articles):.2f} ms an abstract, of which the "
            f"tagger (features, both models, propagation) {1000 * tagging / len(articles):.2f} ms"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

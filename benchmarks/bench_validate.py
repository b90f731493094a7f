"""Triples/s of SHACL validation (`kg validate`): whole graph vs per article, 1 vs 2 processes,
pySHACL vs pyshacl-turbo (when installed), on the same data in one run.

The data: a store built from ../shared/data/pubmed (about 4,000 records) when present, else from
tests/data; ``--articles N`` keeps the first N article graphs (and the metadata graph) so that
the slow modes finish (0 keeps all).

    python benchmarks/bench_validate.py [--articles 400] [--modes all]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from pyoxigraph import NamedNode, Store

from kg.config import Settings
from kg.pipeline import build
from kg.sources.files import expand
from kg.store import KgStore
from kg.validate import validate

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "pubmed"
LOCAL = [ROOT / "tests" / "data" / d for d in ("seed", "gold/records", "xml", "medline")]

MODES = {  # name: (engine, per_article, workers)
    "pyshacl-whole": ("pyshacl", False, 1),
    "pyshacl-article-1": ("pyshacl", True, 1),
    "pyshacl-article-2": ("pyshacl", True, 2),
    "turbo-whole": ("turbo", False, 1),
    "turbo-article-1": ("turbo", True, 1),
    "turbo-article-2": ("turbo", True, 2),
}


def data(articles: int, workdir: Path) -> tuple[Store, str]:
    inputs = expand([SHARED] if SHARED.is_dir() else LOCAL, recursive=True)
    source = "../shared/data/pubmed" if SHARED.is_dir() else "tests/data"
    with KgStore.writing(workdir / "store") as writer:
        build(inputs, store=writer, settings=Settings(store=workdir / "store"))
    built = KgStore(workdir / "store")
    graphs = sorted(built.named_graphs(), key=str)
    meta = [g for g in graphs if g.value.endswith("/graph/metadata")]
    chosen = [g for g in graphs if g not in meta]
    if articles:
        chosen = chosen[:articles]
    store = Store()
    for g in chosen + meta:
        store.extend(built.store.quads_for_pattern(None, None, None, NamedNode(g.value)))
    return store, f"{source}, {len(chosen)} article graphs + metadata, {len(store)} quads"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=400)
    parser.add_argument("--modes", default="all", help=f"comma-separated: {', '.join(MODES)}")
    args = parser.parse_args()
    modes = list(MODES) if args.modes == "all" else args.modes.split(",")
    try:
        import pyshacl_turbo  # noqa: F401
    except ImportError:
        print("pyshacl-turbo is not installed: its modes are skipped")
        modes = [m for m in modes if MODES[m][0] != "turbo"]
    with tempfile.TemporaryDirectory() as tmp:
        store, what = data(args.articles, Path(tmp))
        print(f"data: {what}")
        print(f"{'mode':<20} {'seconds':>8} {'triples':>9} {'triples/s':>10}  results (V/W/I)")
        for mode in modes:
            engine, per_article, workers = MODES[mode]
            start = time.perf_counter()
            report = validate(store, engine=engine, per_article=per_article,  # type: ignore[arg-type]
                              workers=workers)
            seconds = time.perf_counter() - start
            counts = "/".join(str(report.count(s)) for s in ("Violation", "Warning", "Info"))
            print(f"{mode:<20} {seconds:8.1f} {report.triples:9d} "
                  f"{report.triples / seconds:10.0f}  {counts}")


if __name__ == "__main__":
    main()

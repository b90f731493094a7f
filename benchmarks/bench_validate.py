"""Triples/s of SHACL validation (`kg validate`): the sparql engine (shapes compiled to SPARQL
over the whole store), pySHACL and pyshacl-turbo (when installed), whole graph vs per article,
1 vs 2 processes, on the same data in one run, beside a raw pyoxigraph scan of the same quads.

The data: a store built from ../shared/data/pubmed/xml/efetch when present (``--source`` for
another folder), else from tests/data; ``--articles N`` keeps the first N article graphs (and
the metadata graph) so that the slow modes finish (0 keeps all: then every mode reads the
on-disk store itself, as `kg validate --store` does).

    python benchmarks/bench_validate.py [--articles 400] [--modes all]
    python benchmarks/bench_validate.py --articles 0 --modes sparql-article-1,sparql-article-2,turbo-article-2
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
SHARED = ROOT.parent / "shared" / "data" / "pubmed" / "xml" / "efetch"
LOCAL = [ROOT / "tests" / "data" / d for d in ("seed", "gold/records", "xml", "medline")]

MODES = {  # name: (engine, per_article, workers)
    "sparql-article-1": ("sparql", True, 1),
    "sparql-article-2": ("sparql", True, 2),
    "pyshacl-whole": ("pyshacl", False, 1),
    "pyshacl-article-1": ("pyshacl", True, 1),
    "pyshacl-article-2": ("pyshacl", True, 2),
    "turbo-whole": ("turbo", False, 1),
    "turbo-article-1": ("turbo", True, 1),
    "turbo-article-2": ("turbo", True, 2),
}


def data(articles: int, workdir: Path, folder: Path) -> tuple[Store | KgStore, str]:
    inputs = expand([folder] if folder.is_dir() else LOCAL, recursive=True)
    source = str(folder) if folder.is_dir() else "tests/data"
    with KgStore.writing(workdir / "store") as writer:
        build(inputs, store=writer, settings=Settings(store=workdir / "store"))
    built = KgStore(workdir / "store")
    if not articles:
        return built, f"{source}, the on-disk store: {len(built)} quads"
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
    parser.add_argument("--source", type=Path, default=SHARED, help="a folder of PubMed records")
    args = parser.parse_args()
    modes = list(MODES) if args.modes == "all" else args.modes.split(",")
    try:
        import pyshacl_turbo  # noqa: F401
    except ImportError:
        print("pyshacl-turbo is not installed: its modes are skipped")
        modes = [m for m in modes if MODES[m][0] != "turbo"]
    with tempfile.TemporaryDirectory() as tmp:
        store, what = data(args.articles, Path(tmp), args.source)
        print(f"data: {what}")
        quads: Store = getattr(store, "store", store)  # type: ignore[assignment]
        start = time.perf_counter()
        scanned = sum(1 for _ in quads.quads_for_pattern(None, None, None, None))
        scan = scanned / (time.perf_counter() - start)
        print(f"raw pyoxigraph quad scan: {scan:.0f} quads/s (machine load noisy: compare in one run)")
        print(f"{'mode':<20} {'seconds':>8} {'triples':>9} {'triples/s':>10} {'/scan':>6}  "
              "results (V/W/I)")
        for mode in modes:
            engine, per_article, workers = MODES[mode]
            start = time.perf_counter()
            report = validate(store, engine=engine, per_article=per_article,  # type: ignore[arg-type]
                              workers=workers)
            seconds = time.perf_counter() - start
            counts = "/".join(str(report.count(s)) for s in ("Violation", "Warning", "Info"))
            rate = report.triples / seconds
            print(f"{mode:<20} {seconds:8.1f} {report.triples:9d} {rate:10.0f} "
                  f"{rate / scan:6.2f}  {counts}")


if __name__ == "__main__":
    main()

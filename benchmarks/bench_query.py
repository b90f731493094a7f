"""Latency of kg's named evidence questions: Oxigraph (kg's store) against rdflib, same data.

Builds the shared PubMed corpus (``../shared/data/pubmed``, or ``tests/data`` when it is
absent) and the seed page into a store, dumps it as N-Quads and replicates its article graphs
under new PMIDs (every PMID in an IRI or ``fabio:hasPubMedId`` literal shifted by
k × 100,000,000, so copies link among themselves as the originals do) until the dump holds
``--triples`` statements (default 1,000,000). The same N-Quads then go into a fresh Oxigraph
store and into an rdflib ``Dataset`` whose default graph is the union of its graphs, and each
named question runs on both with the same bindings (rdflib's ``initBindings`` for
pyoxigraph's ``substitutions``). Prints, from one run: what was loaded and how long it took,
then per question the rows, the median latency on each engine, and the Oxigraph/rdflib ratio;
the rows of both engines are checked to be the same.

    python benchmarks/bench_query.py [--triples 1000000] [--repeat 5] [--rdflib-repeat 3]
                                     [--source DIR]... [--workdir DIR]
"""

from __future__ import annotations

import argparse
import functools
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import rdflib
from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Store
from rdflib.query import ResultRow

from kg.export import canonical_lines
from kg.queries import named_query
from kg.query import PreparedQuery, prepare, rows, run_query, to_python
from kg.rdf.namespaces import PREFIXES
from kg.store import KgStore, current_version

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "pubmed"
SEED = ROOT / "tests" / "data" / "seed" / "000_e84263704ca7bb66.txt"
OFFSET = 100_000_000
# a PMID where kg writes one: article/part/graph IRIs, PubMed links, fabio:hasPubMedId
PMID = re.compile(r'(/pubmed/|pubmed\.ncbi\.nlm\.nih\.gov/|hasPubMedId> ")(\d+)')
GRAPH = re.compile(rb" (<[^>]*>) \.\n$")
CONCATENATED = {"design": ", ", "interventions": "; "}

QUESTIONS: list[tuple[str, dict[str, object]]] = [
    ("studies", {"intervention": "Anti-Bacterial Agents"}),
    ("outcomes", {"intervention": "Anti-Bacterial Agents", "condition": "Bacterial Infections and Mycoses"}),
    ("outcomes", {"intervention": "D016756", "kind": "response"}),
    ("adverse-events", {}),
    ("adverse-events", {"intervention": "Antineoplastic Agents"}),
    ("related", {"pmid": "23906502"}),
    ("retracted", {}),
    ("cooccurrence", {"descriptor": "Scoliosis"}),
]


def build_base(sources: list[Path], store: Path) -> None:
    """``kg build`` the sources (exit 3 only names records it skipped)."""
    done = subprocess.run(
        [sys.executable, "-m", "kg", "-q", "build", *map(str, sources), "-r", "--store", str(store)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )
    if done.returncode not in (0, 3) or current_version(store) is None:
        sys.exit(f"build failed: {done.stderr[-2000:]}")
    print(f"  {done.stdout.strip()}")


def replicate(lines: list[bytes], target: int) -> list[bytes]:
    """The lines, then copies of the article graphs under shifted PMIDs, until ``target``."""
    graphs: dict[bytes, list[bytes]] = {}
    for line in lines:
        m = GRAPH.search(line)
        if m and b"/graph/pubmed/" in m[1]:
            graphs.setdefault(m[1], []).append(line)
    out = list(lines)
    k = 0
    while len(out) < target:
        k += 1
        shift = k * OFFSET

        def sub(m: re.Match[str], shift: int = shift) -> str:
            return m[1] + str(int(m[2]) + shift)

        for graph_lines in graphs.values():
            out.extend(PMID.sub(sub, line.decode()).encode() for line in graph_lines)
            if len(out) >= target:
                break
    return out


def to_rdflib(term: NamedNode | Literal | BlankNode) -> Any:
    if isinstance(term, NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    if term.datatype.value.endswith("#string"):
        return rdflib.Literal(term.value)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


def from_rdflib(term: Any) -> NamedNode | Literal | BlankNode | None:
    if term is None:
        return None
    if isinstance(term, rdflib.URIRef):
        return NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return BlankNode(str(term))
    if term.language:
        return Literal(str(term), language=term.language)
    return Literal(str(term), datatype=NamedNode(str(term.datatype)) if term.datatype else None)


def canonical(name: str, value: Any) -> Any:
    if name in CONCATENATED and isinstance(value, str):
        return tuple(sorted(value.split(CONCATENATED[name])))
    return value


def ask_oxigraph(store: KgStore, q: PreparedQuery) -> Counter[tuple[Any, ...]]:
    return Counter(
        tuple(canonical(k, v) for k, v in row.items()) for row in rows(run_query(store, q))
    )


def ask_rdflib(ds: rdflib.Dataset, q: PreparedQuery) -> Counter[tuple[Any, ...]]:
    bindings = {k: to_rdflib(v) for k, v in q.bindings.items()}
    result = ds.query(q.text, initNs=PREFIXES, initBindings=bindings)
    names = [str(v) for v in result.vars or []]
    return Counter(
        tuple(canonical(n, to_python(from_rdflib(row[n]))) for n in names)
        for row in result
        if isinstance(row, ResultRow)
    )


def timed(fn: Callable[[], Counter[tuple[Any, ...]]], n: int) -> tuple[float, Counter[Any]]:
    times, answer = [], Counter[Any]()
    for _ in range(n):
        t = time.perf_counter()
        answer = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), answer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--triples", type=int, default=1_000_000, help="statements to load")
    ap.add_argument("--repeat", type=int, default=5, help="runs per question on Oxigraph")
    ap.add_argument("--rdflib-repeat", type=int, default=3, help="runs per question on rdflib")
    ap.add_argument("--source", type=Path, action="append", help="input files or folders")
    ap.add_argument("--workdir", type=Path, help="keep the stores here (a second run reuses them)")
    args = ap.parse_args()
    sources = args.source or [SHARED if SHARED.exists() else ROOT / "tests" / "data", SEED]
    with tempfile.TemporaryDirectory(prefix="kg-bench-query-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        base = work / "base"
        print(f"sources: {', '.join(map(str, sources))}")
        t = time.perf_counter()
        if current_version(base) is None:
            build_base(sources, base)
        lines = canonical_lines(KgStore(base), quads=True)
        data = replicate(lines, args.triples)
        dump = work / "replicated.nq"
        dump.write_bytes(b"".join(data))
        graphs = len({m[1] for line in data if (m := GRAPH.search(line))})
        print(f"base store {len(lines):,} quads → replicated {len(data):,} quads in "
              f"{graphs:,} graphs ({time.perf_counter() - t:.1f} s)")

        big = work / "oxigraph"
        t = time.perf_counter()
        if not (big / "CURRENT").exists():
            Store(str(big)).bulk_load(path=str(dump), format=RdfFormat.N_QUADS)
        store = KgStore(big)
        print(f"oxigraph: {len(store):,} quads loaded in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # rdflib's default_context
            ds = rdflib.Dataset(default_union=True)
            ds.parse(dump, format="nquads")
        print(f"rdflib:   {len(ds):,} distinct triples (union) loaded in "
              f"{time.perf_counter() - t:.1f} s")

        print(f"\nmedian of {args.repeat} runs (Oxigraph) and {args.rdflib_repeat} (rdflib)")
        head = f"{'question':<52} {'rows':>6} {'oxigraph':>10} {'rdflib':>10} {'ox/rdflib':>10}"
        print(head + "\n" + "-" * len(head))
        for name, params in QUESTIONS:
            q = prepare(named_query(name), params)
            ox_s, ox_rows = timed(functools.partial(ask_oxigraph, store, q), args.repeat)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                rd_s, rd_rows = timed(functools.partial(ask_rdflib, ds, q), args.rdflib_repeat)
            label = name + (" " + " ".join(f"{k}={v}" for k, v in params.items()) if params else "")
            same = "" if ox_rows == rd_rows else "  ROWS DIFFER"
            print(f"{label[:52]:<52} {sum(ox_rows.values()):>6} {ox_s * 1000:>8.1f}ms "
                  f"{rd_s * 1000:>8.1f}ms {ox_s / rd_s:>10.4f}{same}")


if __name__ == "__main__":
    main()

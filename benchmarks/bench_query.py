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

With ``--sizes 1000000,3000000,10000000`` it measures each size in one run (rdflib only up to
``--rdflib-max`` quads, default 2,000,000: past that it needs more memory and time than the
figures are worth) and ends with a table of warm Oxigraph latency and rows per question at
each size, with the growth from one size to the next (time ×, rows ×): a question that scales grows no faster than its
rows. ``--optimize`` compacts each store after its bulk load (``Store.optimize``; the stores
are kept apart from the plain ones). Each store gets the summary ``kg build`` keeps beside it
(kg/summary.py; its build time is printed), which answers ``cooccurrence``, ``outcomes``,
``studies`` and ``adverse-events`` with an intervention; ``--no-summary`` asks every
question of the store itself (otherwise the summary's rows are checked against the store's,
the concatenated design and interventions as sets). ``--queries DIR`` runs ``DIR/NAME.rq``
instead of a shipped question (to compare shapes); ``--only NAME`` times only that question.

    python benchmarks/bench_query.py [--triples 1000000 | --sizes N,N,...] [--repeat 7]
                                     [--rdflib-repeat 3] [--rdflib-max 2000000] [--optimize] [--no-summary]
                                     [--only NAME]... [--queries DIR] [--source DIR]... [--workdir DIR]
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

from kg.export import sorted_statements
from kg.queries import NamedQuery, named_query, parse_header
from kg.query import PreparedQuery, prepare, rows, run_query, to_python
from kg.rdf.namespaces import PREFIXES
from kg.store import KgStore, current_version
from kg.summary import SUMMARIZED, holds, open_summary, refresh, summary_path

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
    ("adverse-events", {"intervention": "Organic Chemicals"}),  # a tree of 2,171 descriptors
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


def ask_oxigraph(store: KgStore | Store, q: PreparedQuery) -> Counter[tuple[Any, ...]]:
    """The rows of ``q``: from the store's summary where it answers ``q`` (a :class:`KgStore`
    that has one), else from the store."""
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


def load_size(
    work: Path, lines: list[bytes], target: int, *, optimize: bool = False, summary: bool = True
) -> tuple[Path, int, int]:
    """The replicated dump for ``target`` quads and its Oxigraph store (both reused), with the
    summary ``kg build`` keeps beside a store (:mod:`kg.summary`) unless ``summary`` is False.

    With ``optimize``, the store is compacted after the bulk load (``Store.optimize``): the
    bulk loader leaves one set of sorted files per slice it loads, and every lookup then seeks
    in each of them, so a lookup costs more as the store grows until they are compacted.
    """
    here = work / f"q{target}"
    here.mkdir(parents=True, exist_ok=True)
    dump = here / "replicated.nq"
    big = here / ("oxigraph-optimized" if optimize else "oxigraph")
    t = time.perf_counter()
    if not dump.exists():
        data = replicate(lines, target)
        dump.write_bytes(b"".join(data))
        del data
    if not (big / "CURRENT").exists():
        loading = Store(str(big))
        loading.bulk_load(path=str(dump), format=RdfFormat.N_QUADS)
        if optimize:
            loading.optimize()
        del loading
    held = open_summary(big) if summary else None
    current = held is not None and all(holds(held, q) for q in SUMMARIZED)
    del held
    if summary and not current:  # what kg build keeps beside the store (an older kg's: again)
        started = time.perf_counter()
        written = refresh(Store.read_only(str(big)), Store(str(summary_path(big))), None)
        print(f"  summary: {written:,} rows in {time.perf_counter() - started:.1f} s")
    store = KgStore(big)
    quads = len(store)
    graphs = sum(1 for _ in store.store.named_graphs())
    store.close()
    print(f"  {target:,}: {quads:,} quads in {graphs:,} graphs, ready in "
          f"{time.perf_counter() - t:.1f} s")
    return big, quads, graphs


def load_rdflib(dump: Path) -> rdflib.Dataset:
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # rdflib's default_context
        ds = rdflib.Dataset(default_union=True)
        ds.parse(dump, format="nquads")
    print(f"  rdflib: {len(ds):,} distinct triples (union) loaded in "
          f"{time.perf_counter() - t:.1f} s")
    return ds


def question_text(name: str, queries: Path | None) -> NamedQuery:
    """The shipped question, or the file of that name in ``queries`` (to compare shapes)."""
    if queries is not None and (queries / f"{name}.rq").exists():
        return parse_header((queries / f"{name}.rq").read_text(encoding="utf-8"), name=name)
    return named_query(name)


def label(name: str, params: dict[str, object]) -> str:
    return name + (" " + " ".join(f"{k}={v}" for k, v in params.items()) if params else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--triples", type=int, default=1_000_000, help="statements to load")
    ap.add_argument("--sizes", help="several sizes, comma-separated (overrides --triples)")
    ap.add_argument("--repeat", type=int, default=7, help="timed runs per question on Oxigraph")
    ap.add_argument("--rdflib-repeat", type=int, default=3, help="runs per question on rdflib")
    ap.add_argument("--rdflib-max", type=int, default=2_000_000,
                    help="compare with rdflib at sizes up to this many quads (0: never)")
    ap.add_argument("--optimize", action="store_true",
                    help="compact each store after its bulk load (Store.optimize)")
    ap.add_argument("--no-summary", action="store_true",
                    help="ask every question of the store itself, not of its summary")
    ap.add_argument("--only", action="append", help="only the questions of this name")
    ap.add_argument("--queries", type=Path, help="take NAME.rq from here when it exists")
    ap.add_argument("--source", type=Path, action="append", help="input files or folders")
    ap.add_argument("--workdir", type=Path, help="keep the stores here (a second run reuses them)")
    args = ap.parse_args()
    sizes = [int(n.replace("_", "")) for n in args.sizes.split(",")] if args.sizes \
        else [args.triples]
    sources = args.source or [SHARED if SHARED.exists() else ROOT / "tests" / "data", SEED]
    questions = [(n, p) for n, p in QUESTIONS if not args.only or n in args.only]
    with tempfile.TemporaryDirectory(prefix="kg-bench-query-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        base = work / "base"
        print(f"sources: {', '.join(map(str, sources))}")
        if current_version(base) is None:
            build_base(sources, base)
        with sorted_statements(KgStore(base), quads=True, directory=work) as statements:
            lines = list(statements)
        print(f"base store: {len(lines):,} quads")
        # per question: rows and median Oxigraph seconds at each size
        seen: dict[str, list[tuple[int, float]]] = {}
        loaded: list[int] = []
        for target in sizes:
            print(f"\n== {target:,} quads")
            big, quads, _ = load_size(work, lines, target, optimize=args.optimize,
                                      summary=not args.no_summary)
            loaded.append(quads)
            store = KgStore(big)
            asked: KgStore | Store = store.store if args.no_summary else store
            ds = load_rdflib(big.parent / "replicated.nq") if quads <= args.rdflib_max else None
            print(f"  warm (one run first), median of {args.repeat} runs (Oxigraph)"
                  + (f" and {args.rdflib_repeat} (rdflib)" if ds is not None else ""))
            head = (f"  {'question':<52} {'rows':>6} {'oxigraph':>10}"
                    + (f" {'rdflib':>10} {'ox/rdflib':>10}" if ds is not None else ""))
            print(head + "\n  " + "-" * (len(head) - 2))
            for name, params in questions:
                q = prepare(question_text(name, args.queries), params)
                ask_oxigraph(asked, q)  # warm
                ox_s, ox_rows = timed(functools.partial(ask_oxigraph, asked, q), args.repeat)
                what = label(name, params)
                seen.setdefault(what, []).append((sum(ox_rows.values()), ox_s))
                line = f"  {what[:52]:<52} {sum(ox_rows.values()):>6} {ox_s * 1000:>8.1f}ms"
                if q.summary is not None and asked is store and store.summary is not None \
                        and ask_oxigraph(store.store, q) != ox_rows:
                    line += "  SUMMARY ROWS DIFFER FROM THE STORE'S"
                if ds is not None:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", DeprecationWarning)
                        rd_s, rd_rows = timed(
                            functools.partial(ask_rdflib, ds, q), args.rdflib_repeat
                        )
                    same = "" if ox_rows == rd_rows else "  ROWS DIFFER"
                    line += f" {rd_s * 1000:>8.1f}ms {ox_s / rd_s:>10.4f}{same}"
                print(line, flush=True)
            store.close()
            del ds
        if len(loaded) > 1:
            print("\nwarm Oxigraph latency (ms) and rows by size; growth from the previous size: "
                  "time ×, rows ×")
            head = f"{'question':<52}" + "".join(f" {f'{n / 1e6:g}M quads':>24}" for n in loaded)
            print(head + "\n" + "-" * len(head))
            for what, figures in seen.items():
                cells, prev = [], None
                for rows_n, secs in figures:
                    cell = f"{secs * 1000:.1f}ms {rows_n}r"
                    if prev is not None:
                        grow = f"×{secs / prev[1]:.1f}"
                        grow += f"/×{rows_n / prev[0]:.1f}" if prev[0] else ""
                        cell += " " + grow
                    cells.append(f" {cell:>24}")
                    prev = (rows_n, secs)
                print(f"{what[:52]:<52}" + "".join(cells))


if __name__ == "__main__":
    main()

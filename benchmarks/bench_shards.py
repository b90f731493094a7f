"""Shards for a triple store's own loader: `oxigraph load` of kg's shards against kg's embedded
bulk load of the same shards, and what each path projects for all of PubMed.

Makes baseline-like inputs by replicating the shared PubMed records with fresh PMIDs (as
``bench_scale.py`` does), runs ``kg build --shards-out`` on them once, then loads the same
shards two ways, each into a fresh store:

- kg's embedded path: :meth:`kg.store.KgStore.load_nquads`, the bulk loader ``kg build`` uses
  (one process, the shards one after the other, in slices of flat memory);
- the Oxigraph server CLI (PyPI ``oxigraph``): ``oxigraph load --file`` with every shard at
  once, which loads files in parallel.

Prints quads, wall and CPU seconds, quads/s for each, the ratio, and the projected load time of
all of PubMed (about 37 million records, at this corpus's quads per record) on this machine.

    python benchmarks/bench_shards.py [--records 10000] [--per-file 2500] [--workers 2]
                                      [--work DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_scale import PUBMED_RECORDS, hms, make_input, shared_records  # noqa: E402
from kg.store import KgStore  # noqa: E402


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _oxigraph() -> str:
    here = Path(sys.executable).parent / "oxigraph"
    found = str(here) if here.exists() else shutil.which("oxigraph")
    if not found:
        sys.exit("the oxigraph CLI is not installed (pip install oxigraph)")
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--per-file", type=int, default=2_500)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="kg-bench-shards-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        run(args, work)
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> None:
    files = make_input(shared_records(), args.records, args.per_file, work / "input")
    print(f"input: {args.records} records in {len(files)} files ({work / 'input'})")

    shards = work / "shards"
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "kg", "build", *map(str, files), "--shards-out",
                    str(shards), "-j", str(args.workers)], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    dt = time.perf_counter() - t  # wall: the workers are the fork server's children, not ours
    manifest = json.loads((shards / "manifest.json").read_text())
    quads = manifest["quads"]
    gz = sorted(shards.glob("*.nq.gz"))
    size = sum(f.stat().st_size for f in gz)
    print(f"kg build --shards-out -j {args.workers}: {len(gz)} shards, {quads:,} quads, "
          f"{size / 1e6:.1f} MB gzipped, {dt:.1f}s wall "
          f"({args.records / dt:.0f} records/s; parse, extract, map, sort, gzip)")

    # kg's embedded bulk load of the same shards
    t, c = time.perf_counter(), _self_cpu()
    with KgStore.writing(work / "embedded") as store:
        store.load_nquads(*gz)
        store.flush()
        embedded_quads = len(store)
    e_dt, e_cpu = time.perf_counter() - t, _self_cpu() - c

    # the Oxigraph server's loader: every shard at once (it loads files in parallel)
    t, c = time.perf_counter(), _children_cpu()
    subprocess.run([_oxigraph(), "load", "--location", str(work / "oxigraph"), "--file",
                    *map(str, gz)], check=True, capture_output=True)
    o_dt, o_cpu = time.perf_counter() - t, _children_cpu() - c
    counted = subprocess.run(
        [_oxigraph(), "query", "--location", str(work / "oxigraph"), "--query",
         "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", "--results-format", "tsv"],
        check=True, capture_output=True, text=True,
    ).stdout.split()
    server_quads = int(counted[-1].split("^^")[0].strip('"'))
    assert embedded_quads == server_quads == quads, (embedded_quads, server_quads, quads)

    per_record = quads / args.records
    print(f"\nloading the same {quads:,} quads ({per_record:.0f} a record) into a fresh store:")
    rows = [("kg embedded bulk load (kg build's path)", e_dt, e_cpu),
            (f"oxigraph load, {len(gz)} files in parallel", o_dt, o_cpu)]
    for name, wall, cpu in rows:
        print(f"  {name:42s} {wall:7.1f}s wall {cpu:7.1f}s CPU  {quads / wall:10,.0f} quads/s "
              f"{quads / cpu if cpu else 0:10,.0f} quads/CPU-s")
    print(f"  oxigraph load against the embedded load: {e_dt / o_dt:.2f}x the speed (wall), "
          f"{o_cpu / e_cpu if e_cpu else 0:.2f}x the CPU")
    total = PUBMED_RECORDS * per_record
    print(f"\nall of PubMed (~{PUBMED_RECORDS / 1e6:.0f}M records, ~{total / 1e9:.1f}G quads) "
          f"loaded at these rates on {os.cpu_count()} cores:")
    for name, wall, _ in rows:
        print(f"  {name:42s} {hms(total / (quads / wall))}")
    print("(the load only; building the shards is the build's other part: "
          f"{hms(PUBMED_RECORDS / (args.records / dt))} at the rate above with "
          f"{args.workers} workers, less with more cores or a Dask cluster)")


if __name__ == "__main__":
    main()

"""Memory, CPU and throughput of `kg export` (the external sort), against pyoxigraph's raw dump.

Builds stores of baseline-like records (the shared records replicated with fresh PMIDs by
``bench_scale.make_input``, then ``kg build --workers 2``), or takes existing stores
(``--store DIR`` once per size, smallest first), and for each store runs, each in a child
process of its own:

- pyoxigraph's raw ``Store.dump`` as N-Quads (unsorted; the speed anchor for N-Quads) and as
  TriG (unsorted, graph by graph; the anchor for Turtle);
- ``kg export`` as N-Quads and as Turtle (sorted, canonical, flat memory);
- with ``--in-memory``, the export as kg made it before (all lines in a set, sorted in memory)
  on the smallest store.

Prints per run: wall seconds, CPU seconds (both without imports and opening the store),
throughput (store quads per wall second), peak RSS (the child's VmHWM), the output's size, and
kg's throughput as a ratio of the raw dump's; then kg's peak RSS at the largest store against
the smallest, and what kg holds above the raw dump (what pyoxigraph itself holds to read the
store grows with the store, in both). The machine's other load slows wall figures:
CPU seconds are printed beside them.

    python benchmarks/bench_export.py [--records 10000 50000 | --store DIR ...]
        [--formats nq ttl] [--in-memory] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_scale import SHARED, make_input, shared_records  # noqa: E402

CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path
mode, store_path, out = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
from pyoxigraph import DefaultGraph, RdfFormat
from kg.export import export
from kg.formats import FORMATS
from kg.store import KgStore
store = KgStore(store_path)
quads = len(store)
before = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.perf_counter()  # imports and opening the store are left out
if mode == "raw-nq":
    store.store.dump(out, RdfFormat.N_QUADS)
elif mode == "raw-trig":
    store.store.dump(out, RdfFormat.TRIG)
elif mode == "memory-nq":  # the export before the external sort
    lines = set()
    for q in store.quads():
        g = q.graph_name
        tail = "" if isinstance(g, DefaultGraph) else f" {g}"
        lines.add(f"{q.subject} {q.predicate} {q.object}{tail} .\n".encode())
    with open(out, "wb") as fh:
        fh.writelines(sorted(lines))
else:
    export(store, out, FORMATS[mode.removeprefix("kg-")], progress=False)
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
cpu = ru.ru_utime + ru.ru_stime - before.ru_utime - before.ru_stime
print(json.dumps({"quads": quads, "wall": wall, "cpu": cpu,
                  "rss_mib": hwm / 1024, "bytes": os.path.getsize(out)}))
"""

RAW_FOR = {"nq": "raw-nq", "ttl": "raw-trig"}


def measure(mode: str, store: Path, out: Path) -> dict[str, float]:
    run = subprocess.run([sys.executable, "-c", CHILD, mode, str(store), str(out)],
                         capture_output=True, text=True, cwd=ROOT, check=False)
    out.unlink(missing_ok=True)
    if run.returncode:
        sys.exit(f"{mode} failed:\n{run.stderr[-2000:]}")
    result: dict[str, float] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def build(records: int, work: Path, blocks: list[bytes]) -> Path:
    """A store of ``records`` replicated records (two input files, two workers)."""
    files = make_input(blocks, records, max(1, (records + 1) // 2), work / f"in{records}")
    store = work / f"store{records}"
    t = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "kg", "build", *map(str, files), "--store",
                          str(store), "--workers", "2"], capture_output=True, text=True,
                         cwd=ROOT, check=False)
    if run.returncode:
        sys.exit(f"kg build failed:\n{run.stderr[-2000:]}")
    print(f"built {records} records in {time.perf_counter() - t:.0f} s: {run.stdout.strip()}",
          flush=True)
    shutil.rmtree(work / f"in{records}", ignore_errors=True)
    return store


def line(label: str, r: dict[str, float], anchor: dict[str, float] | None = None) -> str:
    rate = r["quads"] / r["wall"]
    ratio = ""
    if anchor is not None:
        ratio = (f"  {rate / (anchor['quads'] / anchor['wall']):4.2f}× raw (wall), "
                 f"{anchor['cpu'] / r['cpu']:4.2f}× (CPU)")
    return (f"  {label:28s} {r['wall']:7.1f} s wall {r['cpu']:7.1f} s CPU "
            f"{rate:9,.0f} quads/s ({r['quads'] / r['cpu']:9,.0f} per CPU-s)  peak RSS {r['rss_mib']:6.0f} MiB  "
            f"{r['bytes'] / 2**20:7.0f} MiB out{ratio}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, nargs="+", default=[10_000, 50_000],
                    help="records of each store to build, smallest first")
    ap.add_argument("--store", type=Path, action="append", default=[],
                    help="an existing store to measure (repeat, smallest first); no build")
    ap.add_argument("--formats", nargs="+", default=["nq", "ttl"], choices=sorted(RAW_FOR))
    ap.add_argument("--in-memory", action="store_true",
                    help="also the in-memory export kg made before, on the smallest store")
    ap.add_argument("--work", type=Path, default=None,
                    help="where stores and dumps go (default: a temporary directory)")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="kg-bench-export-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start "
          "(other processes share them: wall figures are noisy, CPU seconds less so)",
          flush=True)
    try:
        stores = list(args.store)
        if not stores:
            if not SHARED.exists():
                sys.exit(f"no {SHARED}: the shared corpus is needed to build stores (or --store)")
            blocks = shared_records()
            stores = [build(n, work, blocks) for n in sorted(args.records)]
        kg_rss: dict[str, list[tuple[int, float, float]]] = {f: [] for f in args.formats}
        for i, store in enumerate(stores):
            print(f"\nstore {store}:", flush=True)
            for fmt in args.formats:
                out = work / f"dump.{fmt}"
                raw = measure(RAW_FOR[fmt], store, out)
                print(line(f"pyoxigraph dump ({RAW_FOR[fmt][4:]})", raw), flush=True)
                if fmt == "nq":
                    print(f"  (store: {raw['quads']:,.0f} quads)", flush=True)
                ours = measure(f"kg-{fmt}", store, out)
                print(line(f"kg export {fmt}", ours, raw), flush=True)
                kg_rss[fmt].append((int(ours["quads"]), ours["rss_mib"], raw["rss_mib"]))
                if fmt == "nq" and args.in_memory and i == 0:
                    old = measure("memory-nq", store, out)
                    print(line("in-memory sort (before)", old, raw), flush=True)
        if len(stores) > 1:
            print("\npeak RSS of kg export, largest store against smallest:")
            for fmt, points in kg_rss.items():
                (q0, r0, b0), (q1, r1, b1) = points[0], points[-1]
                print(f"  {fmt}: {r0:.0f} MiB at {q0:,} quads → {r1:.0f} MiB at {q1:,} quads "
                      f"(×{q1 / q0:.1f} store, ×{r1 / r0:.2f} memory); the raw dump's own "
                      f"{b0:.0f} → {b1:.0f} MiB (the store's reader), kg's above it "
                      f"{r0 - b0:.0f} → {r1 - b1:.0f} MiB")
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

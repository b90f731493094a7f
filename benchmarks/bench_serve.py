"""Load test of `kg serve` on 127.0.0.1: requests/s and p50/p99 latency.

Starts `kg serve` on a free port (over --store, or a store built from the test data), then for
each scenario runs a pool of client threads for a fixed time, each thread sending requests
one after another (closed loop), and prints requests/s, p50, p90, p99 and errors:

- the seed's article page (HTML: evidence read back with SPARQL, abstract highlighted),
- the same article as Turtle (linked-data dereference),
- a named evidence question over the SPARQL endpoint (``outcomes`` of IVIg, D016756) — or a
  fixed evidence query when kg ships no named questions.

    python benchmarks/bench_serve.py [--store DIR] [--seconds 5] [--clients 8] [--query-workers 4]

Bounded in time: each scenario runs --seconds (after a 1 s warm-up). The client is Python
(`requests`, one session per thread), so at high rates it measures the client too; `wrk` would
go further where it is installed.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
INPUTS = [
    DATA / "seed" / "000_e84263704ca7bb66.txt",
    *sorted((DATA / "gold" / "records").glob("*.xml")),
]

FALLBACK_QUERY = """SELECT ?pmid ?outcome ?count ?denominator ?percentage WHERE {
  ?study kg:intervention/kg:mesh mesh:D016756 ; kg:outcome ?o ; kg:describedIn ?a .
  ?a fabio:hasPubMedId ?pmid .
  ?o rdfs:label ?outcome ; kg:measurement ?m .
  OPTIONAL { ?m kg:count ?count } OPTIONAL { ?m kg:denominator ?denominator }
  OPTIONAL { ?m kg:percentage ?percentage }
} ORDER BY ?pmid ?outcome"""


def question() -> tuple[str, str]:
    """The named question ``outcomes`` with intervention=D016756, as plain SPARQL text."""
    try:
        from kg.queries import named_queries
        from kg.query import prepare
    except ImportError:
        return "fixed evidence query", FALLBACK_QUERY
    named = named_queries().get("outcomes")
    if named is None:
        return "fixed evidence query", FALLBACK_QUERY
    prepared = prepare(named, {"intervention": "D016756"})
    if prepared.bindings:  # only mesh-tree parameters are written into the text
        return "fixed evidence query", FALLBACK_QUERY
    return "named question outcomes(intervention=D016756)", prepared.text


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def run(
    url: str,
    *,
    method: str,
    headers: dict[str, str],
    data: dict[str, str] | None,
    clients: int,
    seconds: float,
) -> tuple[Tally, float]:
    tally = Tally()
    start_gate = threading.Barrier(clients + 1)
    stop_at = 0.0

    def worker() -> None:
        session = requests.Session()
        mine: list[float] = []
        errors = 0
        start_gate.wait()
        while True:
            t0 = time.perf_counter()
            if t0 >= stop_at:
                break
            try:
                r = session.request(method, url, headers=headers, data=data, timeout=30)
                r.content  # noqa: B018 - read the whole body
                ok = r.status_code == 200
            except requests.RequestException:
                ok = False
            t1 = time.perf_counter()
            if ok:
                mine.append(t1 - t0)
            else:
                errors += 1
        with tally.lock:
            tally.latencies += mine
            tally.errors += errors

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    began = time.perf_counter()
    stop_at = began + seconds
    start_gate.wait()
    for t in threads:
        t.join()
    return tally, time.perf_counter() - began


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, help="A built store [default: build the test data]")
    parser.add_argument("--seconds", type=float, default=5.0, help="Seconds per scenario")
    parser.add_argument("--clients", type=int, default=8, help="Client threads")
    parser.add_argument("--query-workers", type=int, default=4, help="kg serve --query-workers")
    parser.add_argument(
        "--cache-size", type=int, default=256, help="kg serve --cache-size (0: none)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        store = args.store
        if store is None:
            store = Path(tmp) / "store"
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "kg",
                    "-q",
                    "build",
                    *map(str, INPUTS),
                    "--store",
                    str(store),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kg",
                "serve",
                "--store",
                str(store),
                "--port",
                str(port),
                "--query-workers",
                str(args.query_workers),
                "--cache-size",
                str(args.cache_size),
            ],
            stderr=subprocess.DEVNULL,
            env={**os.environ, "KG_BASE_IRI": "https://w3id.org/kg/id/"},
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    requests.get(f"{base}/sparql", headers={"Accept": "text/turtle"}, timeout=1)
                    break
                except requests.ConnectionError:
                    time.sleep(0.1)
            name, sparql = question()
            scenarios = [
                (
                    "article page (HTML) /pubmed/23906502",
                    "GET",
                    f"{base}/pubmed/23906502",
                    {"Accept": "text/html"},
                    None,
                ),
                (
                    "article as Turtle /pubmed/23906502",
                    "GET",
                    f"{base}/pubmed/23906502",
                    {"Accept": "text/turtle"},
                    None,
                ),
                (
                    f"SPARQL: {name}",
                    "POST",
                    f"{base}/sparql",
                    {"Accept": "application/sparql-results+json"},
                    {"query": sparql},
                ),
            ]
            print(
                f"kg serve on {base} · {args.clients} client threads · {args.seconds:g} s per scenario · "
                f"{args.query_workers} query workers · cache {args.cache_size} · {os.cpu_count()} CPUs"
            )
            print(
                f"{'scenario':<62} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'errors':>7}"
            )
            for label, method, url, headers, data in scenarios:
                check = requests.request(method, url, headers=headers, data=data, timeout=30)
                check.raise_for_status()
                run(
                    url,
                    method=method,
                    headers=headers,
                    data=data,
                    clients=args.clients,
                    seconds=1.0,
                )  # warm-up
                tally, elapsed = run(
                    url,
                    method=method,
                    headers=headers,
                    data=data,
                    clients=args.clients,
                    seconds=args.seconds,
                )
                lat = tally.latencies
                rate = len(lat) / elapsed
                print(
                    f"{label:<62} {rate:>8.1f} {1000 * statistics.median(lat):>8.1f} "
                    f"{1000 * percentile(lat, 90):>8.1f} {1000 * percentile(lat, 99):>8.1f} {tally.errors:>7}"
                )
        finally:
            server.terminate()
            server.wait(timeout=15)


if __name__ == "__main__":
    main()

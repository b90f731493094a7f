"""One input file → one sorted N-Quads shard: the unit of work of every build.

:func:`build_shard` reads one file, extracts and maps each article, and writes the last version
of each article's named graph to a gzipped N-Quads shard, sorted and unique, with its counts,
problems and deletions. It needs no store, so any engine can run it: :func:`kg.pipeline.build`
calls it in-process, on a local process pool (:class:`LocalRunner`) or on an existing Dask
distributed cluster (:class:`DaskRunner`), and applies the shards to the store in input order.

Memory stays flat whatever the size of the file: records stream; each article is serialized
as soon as it is mapped; N-Quads are held only up to :data:`RUN_BYTES` before a sorted run goes
to disk; the runs are merged (``heapq.merge``, :mod:`kg.extsort`) into the shard. What is kept
per file is one small entry per PMID (which run holds its last version) — needed so that a
later record of a PMID replaces an earlier one, and a ``DeleteCitation`` drops it, exactly as
in record order.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import select
import signal
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any, Protocol

from pyoxigraph import Quad, RdfFormat, serialize

from kg import extsort
from kg.atomic import atomic_output
from kg.errors import InputError, KgError, StoreError, UsageError
from kg.extract import extract
from kg.extsort import Keep, Runs, write_lines
from kg.mesh import MeshTable
from kg.models import Article, Deletion, Problem, Record
from kg.rdf.evidence import evidence_quads
from kg.rdf.iris import Iris, is_doi
from kg.rdf.mapping import article_nquads
from kg.rdf.nquads import to_quads
from kg.sources.files import read_file

log = logging.getLogger(__name__)

SHARD_SUFFIX = ".nq.gz"
#: N-Quads bytes held in memory before they are sorted and written as one run.
RUN_BYTES = extsort.RUN_BYTES
#: Runs merged at once (open files); more runs are merged in several passes.
MAX_FANIN = extsort.MAX_FANIN


@dataclass(frozen=True, slots=True)
class ShardResult:
    """What :func:`build_shard` wrote and read; small, picklable, no quads in it."""

    input: str  # the input file as given
    shard: Path | None  # sorted, unique, gzipped N-Quads; None when no article graph is left
    quads: int  # lines in the shard
    records: int  # records read (articles, deletions and problems)
    articles: int  # article records read (a PMID read twice counts twice)
    books: int
    deletions: int  # PMIDs listed in DeleteCitation
    pmids: tuple[str, ...]  # the graphs in the shard: the last version of each PMID read
    deleted: tuple[str, ...]  # PMIDs whose last record here is a DeleteCitation: graphs to drop
    deleted_here: int  # DeleteCitations that dropped an article read earlier in this file
    deleted_unseen: tuple[str, ...]  # PMIDs deleted before any article of theirs in this file
    problems: tuple[Problem, ...]  # records skipped, extraction failures, fatal read errors
    error: Problem | None = None  # the file could not be read at all (an InputError)
    aborted: bool = False  # ``strict``: reading stopped at ``problems[-1]``

    def input_error(self) -> InputError | None:
        """``error`` as the InputError the file raised."""
        if self.error is None:
            return None
        return InputError(self.error.message, source=self.error.source or None,
                          record=self.error.where)


def build_shard(
    path: Path,
    *,
    base_iri: str,
    out_dir: Path,
    name: str | None = None,
    strict: bool = False,
    read: Callable[[Path], Iterable[Record]] = read_file,
    on_record: Callable[[], None] | None = None,
    check: Callable[[str, list[Quad]], list[str]] | None = None,
) -> ShardResult:
    """Parse, extract and map one input file into a sorted N-Quads shard in ``out_dir``.

    The shard holds the last version of every article read, each in its own named graph, and
    nothing of a PMID whose last record is a DeleteCitation; the same file gives the same bytes.
    Bad records are returned as problems (``strict`` stops at the first); a file that cannot be
    read gives ``error``. ``name`` names the shard (default: from ``path``). ``check`` sees each
    article's quads (``kg build --validate``); with ``strict``, an article it finds fault with
    is left out.
    """
    iris = Iris(base_iri)
    mesh = MeshTable.default()
    stem = name or _shard_name(path)
    runs = _RunWriter(out_dir, stem)
    batch: dict[str, bytes] = {}  # PMID → N-Quads of its graph, for the run being collected
    held = 0  # bytes in ``batch``
    last: dict[str, int] = {}  # PMID → 2 × run of its last record, + 1 when that is an article
    unseen: list[str] = []
    problems: list[Problem] = []
    records = articles = books = deletions = deleted_here = 0
    error: Problem | None = None
    aborted = False
    try:
        for record in read(path):
            records += 1
            if on_record is not None:
                on_record()
            if isinstance(record, Article):
                articles += 1
                books += record.is_book
                if record.doi and not is_doi(record.doi):
                    problems.append(_not_a_doi(record))
                # the article's lines are written as text (kg.rdf.nquads: the bytes pyoxigraph
                # would write, without a Quad object each); the evidence is serialized
                lines = article_nquads(record, iris=iris)
                evidence = _evidence(record, iris=iris, mesh=mesh, problems=problems)
                if check is not None and check(record.pmid, to_quads(lines) + evidence) and strict:
                    continue  # --validate --strict: a graph that breaks its shapes stays out
                blob = lines.encode() + (serialize(evidence, format=RdfFormat.N_QUADS) or b"")
                held += len(blob) - len(batch.pop(record.pmid, b""))
                batch[record.pmid] = blob
                last[record.pmid] = 2 * runs.count + 1
                if held >= RUN_BYTES:
                    with _writing(out_dir):
                        runs.write(batch)
                    batch, held = {}, 0
            elif isinstance(record, Deletion):
                deletions += 1
                before = last.get(record.pmid)
                if before is None:
                    unseen.append(record.pmid)
                elif before & 1:
                    deleted_here += 1
                held -= len(batch.pop(record.pmid, b""))
                last[record.pmid] = 2 * runs.count
            else:
                problems.append(record)
                log.debug("%s", record)
                if strict:
                    aborted = True
                    break
    except InputError as exc:
        log.debug("%s", exc)
        error = Problem(source=exc.source or "", message=exc.message, where=exc.record,
                        fatal=True)
    # A run's graph is stale when its PMID has a record in a later run.
    with _writing(out_dir):
        if batch:
            runs.write(batch)
        stale = [
            {_graph_term(iris, p) for p in pmids if last[p] >> 1 != k}
            for k, pmids in enumerate(runs.pmids)
        ]
        shard, quads = runs.merge(stale)
    return ShardResult(
        input=str(path),
        shard=shard,
        quads=quads,
        records=records,
        articles=articles,
        books=books,
        deletions=deletions,
        pmids=tuple(sorted(p for p, v in last.items() if v & 1)),
        deleted=tuple(sorted(p for p, v in last.items() if not v & 1)),
        deleted_here=deleted_here,
        deleted_unseen=tuple(unseen),
        problems=tuple(problems),
        error=error,
        aborted=aborted,
    )


@contextlib.contextmanager
def _writing(out_dir: Path) -> Iterator[None]:
    """A full disk (or any write error) while shards are written: one line naming where."""
    try:
        yield
    except OSError as exc:
        message = f"cannot write shards: {exc.strerror or exc}"
        raise StoreError(message, source=str(out_dir)) from exc


def _evidence(
    article: Article, *, iris: Iris, mesh: MeshTable, problems: list[Problem]
) -> list[Quad]:
    """The evidence quads; a failure of extraction costs the evidence, never the record."""
    try:
        return evidence_quads(extract(article, mesh=mesh), iris=iris)
    except Exception as exc:
        log.debug("extraction failed on %s", article.pmid, exc_info=True)
        problems.append(Problem(
            source=article.source or "?", where=f"PMID {article.pmid}", kept=True,
            message=f"evidence extraction failed ({type(exc).__name__}: {exc}); record kept",
        ))
        return []


def _not_a_doi(article: Article) -> Problem:
    """The warning for a DOI the mapping leaves out (it is not one: a space, a PII)."""
    return Problem(
        source=article.source or "?", where=f"PMID {article.pmid}", kept=True,
        message=f"DOI {article.doi!r} is not a DOI (10.NNNN/… without spaces); left out, "
        "record kept",
    )


def _shard_name(path: Path) -> str:
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    return f"{path.name.split('.')[0] or 'input'}-{digest}"


def _graph_term(iris: Iris, pmid: str) -> bytes:
    return f"<{iris.graph(pmid).value}>".encode()


class _RunWriter:
    """Sorted runs of N-Quads lines on disk (:class:`kg.extsort.Runs`), each run one batch of
    article graphs, merged at the end into one gzipped shard."""

    def __init__(self, out_dir: Path, stem: str) -> None:
        self.out_dir = out_dir
        self.stem = stem
        self.runs = Runs(out_dir, stem)
        self.pmids: list[list[str]] = []  # the PMIDs whose graphs each first-pass run holds

    @property
    def count(self) -> int:
        """First-pass runs written so far."""
        return len(self.pmids)

    def write(self, batch: dict[str, bytes]) -> None:
        lines: list[bytes] = []
        for blob in batch.values():
            lines += blob.split(b"\n")[:-1]  # each blob ends with a newline
        self.runs.add(lines)
        self.pmids.append(list(batch))

    def merge(self, stale: list[set[bytes]]) -> tuple[Path | None, int]:
        """Merge the runs (dropping stale graphs and repeated lines) into the shard."""
        try:
            if not self.runs.paths:
                return None, 0
            lines = self.runs.merged(keep=[_graph_not_in(d) for d in stale], max_fanin=MAX_FANIN)
            shard = self.out_dir / f"{self.stem}{SHARD_SUFFIX}"
            # Scratch, removed once loaded: atomic (a shard is whole or absent), not durable.
            with atomic_output(shard, durable=False, compresslevel=1) as gz:
                quads = write_lines(lines, gz.write)
            if not quads:
                shard.unlink()
                return None, 0
            return shard, quads
        finally:
            self.runs.remove()


def _graph_not_in(drop: set[bytes]) -> Keep | None:
    """Keep the lines whose graph is not in ``drop`` (None: keep all)."""
    if not drop:
        return None

    def keep(line: bytes) -> bool:  # ``… <graph> .\n``: the graph is the line's last IRI
        return line[line.rindex(b"<") : -3] not in drop

    return keep


# --- engines: who runs build_shard --------------------------------------------------------


class Runner(Protocol):
    """Runs :func:`build_shard` over ``paths``; yields the results in input order."""

    def __call__(
        self, paths: Iterable[Path], *, base_iri: str, out_dir: Path, strict: bool
    ) -> Generator[ShardResult, None, None]: ...


def default_workers() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class LocalRunner:
    """``workers`` processes on this machine, started by a fork server (a clean process that
    loaded kg once: workers start fast and inherit no store handle or thread), else spawned.

    At most ``2 × workers`` files are in flight, so finished shards waiting to be merged stay
    few whatever the number of inputs.
    """

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise UsageError(f"--workers must be at least 1, not {workers}")
        self.workers = workers

    def __call__(
        self, paths: Iterable[Path], *, base_iri: str, out_dir: Path, strict: bool
    ) -> Generator[ShardResult, None, None]:
        ctx: BaseContext
        if "forkserver" in multiprocessing.get_all_start_methods():
            server = multiprocessing.get_context("forkserver")
            server.set_forkserver_preload([__name__])
            _start_forkserver()
            ctx = server
        else:
            ctx = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=ctx,
            initializer=_worker_init, initargs=(os.getpid(),),
        )
        try:
            yield from _in_order(
                paths,
                lambda i, p: pool.submit(
                    build_shard, p, base_iri=base_iri, out_dir=out_dir, name=f"{i:06d}",
                    strict=strict,
                ),
                window=2 * self.workers,
            )
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _worker_init(owner: int) -> None:
    """Workers leave Ctrl-C to kg's own process, which stops the pool and says so in one line
    (each worker's KeyboardInterrupt printed its traceback); and they die with kg's process,
    ``owner``. After a ``kill -9`` of kg its workers would otherwise live on, writing shards
    that the next build removes, and (as the fork server's children, holding its pipe) keep
    the fork server alive too."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        watched = os.pidfd_open(owner)  # Linux ≥ 5.3: readable once the process has ended
    except (AttributeError, OSError):
        return  # elsewhere, or kg has already ended: the pool's own checks stop the worker

    def watch() -> None:
        select.select([watched], [], [])
        os._exit(1)

    threading.Thread(target=watch, name="kg-watch-owner", daemon=True).start()


def _start_forkserver() -> None:
    """Start the fork server (if not running) with ``PYTHONSAFEPATH`` set.

    It starts as ``python -c …``, which puts the working directory first on ``sys.path``, and
    Python 3.11 ignores the ``sys.path`` it is handed: a folder named ``kg`` in the working
    directory would be imported instead of this package, and every worker would fail.
    ``PYTHONSAFEPATH`` keeps the working directory off ``sys.path``; workers then take the
    parent's ``sys.path``, as spawned ones do.
    """
    old = os.environ.get("PYTHONSAFEPATH")
    os.environ["PYTHONSAFEPATH"] = "1"
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        if old is None:
            del os.environ["PYTHONSAFEPATH"]
        else:
            os.environ["PYTHONSAFEPATH"] = old


class DaskRunner:
    """The workers of an existing Dask distributed cluster at ``scheduler`` (tcp://HOST:PORT).

    Inputs and ``out_dir`` must be paths every worker and this machine see (a shared file
    system); they are sent as absolute paths.
    """

    def __init__(self, scheduler: str) -> None:
        self.scheduler = scheduler

    def __call__(
        self, paths: Iterable[Path], *, base_iri: str, out_dir: Path, strict: bool
    ) -> Generator[ShardResult, None, None]:
        try:
            from distributed import Client
        except ImportError as exc:
            raise UsageError(
                "--engine dask needs Dask distributed: pip install 'kg[dask]'"
            ) from exc
        try:
            client = Client(self.scheduler, timeout=30)
        except (OSError, TimeoutError) as exc:
            raise InputError(f"cannot reach the Dask scheduler: {exc}",
                             source=self.scheduler) from exc
        with client:
            threads = max(1, sum(client.nthreads().values()))
            out = out_dir.resolve()

            def submit(i: int, p: Path) -> Any:
                return client.submit(
                    build_shard, p.resolve(), base_iri=base_iri, out_dir=out, name=f"{i:06d}",
                    strict=strict, pure=False,
                )

            yield from _in_order(paths, submit, window=2 * threads)


def _in_order(
    paths: Iterable[Path], submit: Callable[[int, Path], Any], *, window: int
) -> Generator[ShardResult, None, None]:
    """Keep ``window`` jobs in flight; yield their results in submission order."""
    todo = iter(enumerate(paths))
    flight: deque[Future[ShardResult]] = deque()
    try:
        while True:
            while len(flight) < window and (job := next(todo, None)) is not None:
                flight.append(submit(*job))
            if not flight:
                return
            future = flight.popleft()
            try:
                result: ShardResult = future.result()
            except KgError:
                raise
            except Exception as exc:  # a worker died (out of memory?) or the cluster failed
                raise KgError(f"building a shard failed: {type(exc).__name__}: {exc}") from exc
            yield result
    finally:
        for future in flight:
            future.cancel()

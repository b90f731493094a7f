"""Worker processes that run SPARQL queries under a time and a memory limit.

Why processes, and why a pool of them: pyoxigraph cannot interrupt a running query from Python. A
thread whose result is abandoned at the deadline would keep a core busy (and its memory held) until
the query ends on its own — for a cartesian product over the whole store, never. A process can be
killed. Nor can pyoxigraph bound what a query allocates (a cartesian product under ORDER BY grows
by hundreds of MiB a second): the thread that waits for a worker reads the worker's memory as it
waits, and kills it past ``max_memory`` bytes. Starting a process (and opening the store) per query
would add a few hundred milliseconds to every request, so each worker stays up, holds the store
open read-only and runs one query at a time; only a worker whose query runs past the deadline or
the memory limit is killed, and its slot starts a fresh worker when it is next needed. The pool's
size is the number of queries that run at once; a request that finds every worker busy waits for
one (at most ``wait`` seconds) and is then turned away with 503.

Workers open the store read-only: they see it as it was when they started (a rebuild shows up after
``kg serve`` restarts).
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from kg.errors import StoreError, one_line
from kg.query import format_size, on_query_stack, release_memory, wait_bounded
from kg.web.runner import Answer, Task, execute

log = logging.getLogger(__name__)

_READY = "ready"


def _worker_main(conn: Connection, store_path: str, base_iri: str | None, max_bytes: int) -> None:
    """Body of a worker process, on a deep stack (a long chain in a query is then slow, and
    stopped by the time limit, rather than fatal to the worker)."""
    on_query_stack(lambda: _answer_tasks(conn, store_path, base_iri, max_bytes))


def _answer_tasks(conn: Connection, store_path: str, base_iri: str | None, max_bytes: int) -> None:
    """Open the store, then answer tasks until told to stop.

    The worker holds its version's readers' lock itself: it may outlive the app's hold on the
    version (a build made a new one; this worker finishes its query first)."""
    from pyoxigraph import Store

    from kg.store import hold_version

    try:
        hold_version(Path(store_path))  # its descriptor stays open, and locked, while it lives
        store = Store.read_only(store_path)
    except (OSError, RuntimeError) as exc:  # RuntimeError: RocksDB's "Corruption: …"
        conn.send(f"cannot open the store {store_path}: {exc}")
        return
    conn.send(_READY)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):  # the server went away
            return
        if task is None:
            return
        try:
            answer = execute(store, task, base_iri=base_iri, max_bytes=max_bytes)
        except Exception as exc:  # never die on a query: answer it
            answer = Answer.error(500, f"the query failed: {exc}")
        release_memory()  # before the answer: the next query is watched from when it is sent
        conn.send(answer)


class _Worker:
    def __init__(self, process: BaseProcess, conn: Connection) -> None:
        self.process = process
        self.conn = conn

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


class QueryPool:
    """``size`` worker processes over the store at ``store``; :meth:`run` is thread-safe."""

    def __init__(
        self,
        store: Path,
        *,
        size: int,
        timeout: float,
        max_bytes: int,
        max_memory: int | None = None,
        base_iri: str | None = None,
        wait: float | None = None,
    ) -> None:
        if size < 1:
            raise ValueError("a query pool needs at least one worker")
        self.store = store
        self.size = size
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_memory = max_memory
        self.base_iri = base_iri
        self.wait = timeout if wait is None else wait
        self._context = multiprocessing.get_context("spawn")  # no fork of a threaded server
        self._slots: queue.Queue[_Worker | None] = queue.Queue()
        self._live: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(size):
            self._slots.put(None)  # a slot whose worker starts when first needed

    def start(self) -> None:
        """Start every worker now, so that the first queries do not wait for one to start."""
        slots = [self._slots.get() for _ in range(self.size)]
        try:
            for i, slot in enumerate(slots):
                if slot is None:
                    slots[i] = self._spawn()
        finally:
            for slot in slots:
                self._slots.put(slot)

    def _spawn(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_worker_main,
            args=(child, str(self.store), self.base_iri, self.max_bytes),
            name="kg-query-worker",
            daemon=True,
        )
        process.start()
        child.close()
        worker = _Worker(process, parent)
        try:
            ready = parent.recv() if parent.poll(60) else "did not start within 60 s"
        except (EOFError, OSError):
            ready = "exited while starting"
        if ready != _READY:
            worker.kill()
            raise StoreError(f"query worker: {ready}", source=str(self.store))
        with self._lock:
            self._live.add(worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        with self._lock:
            self._live.discard(worker)
        worker.kill()

    def run(self, task: Task) -> Answer:
        """Run ``task`` in a free worker: its answer, or 503 when it ran out of time or memory
        (the worker is killed) or no worker came free in time, or 500 when the worker died."""
        if self._closed:
            return Answer.error(503, "the server is shutting down")
        try:
            worker = self._slots.get(timeout=self.wait)
        except queue.Empty:
            return Answer.error(
                503, f"all {self.size} query workers are busy; try again in a moment"
            )
        try:
            if worker is None:
                worker = self._spawn()
            worker.conn.send(task)
            overrun = wait_bounded(
                worker.conn,
                worker.process.pid or 0,
                deadline=time.monotonic() + self.timeout,
                max_memory=self.max_memory,
            )
            if overrun is not None:
                self._retire(worker)
                worker = None
                return self._stopped(task, overrun.what, overrun.used)
            answer: Answer = worker.conn.recv()
            return answer
        except (EOFError, OSError) as exc:
            log.error("query worker failed: %s", exc)
            if worker is not None:
                self._retire(worker)
                worker = None
            return Answer.error(500, "the query worker stopped unexpectedly")
        finally:
            self._slots.put(worker)

    def _stopped(self, task: Task, what: str, used: int) -> Answer:
        """The 503 for a query whose worker was killed; a warning names the query."""
        query = one_line(" ".join(task.query.split())[:200])
        if what == "time":
            log.warning("query ran past %g s; its worker is killed: %s", self.timeout, query)
            return Answer.error(
                503,
                f"the query ran longer than this endpoint's limit of {self.timeout:g} s "
                "and was stopped: narrow it or add a LIMIT",
            )
        limit = format_size(self.max_memory or 0)
        log.warning(
            "query used more than %s of memory (limit %s); its worker is killed: %s",
            format_size(used),
            limit,
            query,
        )
        return Answer.error(
            503,
            f"the query used more memory than this endpoint's limit of {limit} per query and "
            "was stopped: narrow it or add a LIMIT",
        )

    def close(self) -> None:
        """Stop every worker (busy ones are killed)."""
        self._closed = True
        with self._lock:
            workers = list(self._live)
            self._live.clear()
        for worker in workers:
            try:
                worker.conn.send(None)
                worker.process.join(timeout=1)
            except OSError:
                pass
            if worker.process.is_alive():
                worker.process.kill()
            worker.process.join(timeout=5)
            worker.conn.close()

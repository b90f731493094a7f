"""Push the store's named graphs to a SPARQL 1.1 Graph Store HTTP Protocol server.

``PUT`` replaces a named graph, ``POST`` appends to one, ``DELETE`` drops one
(https://www.w3.org/TR/sparql11-http-rdf-update/). Works with Oxigraph server (``…/store``),
Fuseki (``…/DATASET/data``), GraphDB (``…/repositories/REPO/rdf-graphs/service``), Virtuoso
(``…/sparql-graph-crud-auth``) and any other Graph Store Protocol server.

A publish remembers what it sent: a JSON record next to the store (``out/store.published.json``
for ``out/store``) holds, per endpoint, the SHA-256 of every graph published. Publishing again
sends only what changed: changed graphs are PUT (replacing exactly that article's triples),
unchanged ones are skipped, and graphs no longer in the store are DELETEd. Graphs go out in
batches (several requests in flight); the record is written — atomically — after each batch,
so an interrupted publish resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import requests

from kg import __version__
from kg.atomic import atomic_write
from kg.errors import KgError, NetworkError, UsageError
from kg.retry import RETRY_STATUS, RetryPolicy, describe
from kg.retry import session as new_session
from kg.store import KgStore

log = logging.getLogger(__name__)

GraphMode = Literal["per-article", "single"]
CONTENT_TYPE = "application/n-triples"
RECORD_VERSION = 1


@dataclass(frozen=True, slots=True)
class PublishSettings:
    """Where and how to publish. ``endpoint`` is the Graph Store Protocol URL (the graph goes in
    its ``graph_param`` query parameter). ``token`` is sent as ``Authorization: Bearer``;
    ``user``/``password`` as HTTP Basic."""

    endpoint: str
    mode: GraphMode = "per-article"
    graph: str | None = None  # the one target graph of mode "single"
    user: str | None = None
    password: str | None = None
    token: str | None = None
    timeout: float = 60.0  # seconds to wait for each answer
    connect_timeout: float = 10.0
    retries: int = 5
    backoff: float = 1.0  # seconds before the first retry, doubled at each
    batch_size: int = 100  # graphs per batch (the record is saved after each)
    workers: int = 4  # requests in flight at once
    chunk_triples: int = 100_000  # mode "single": triples per request (PUT, then POSTs)
    graph_param: str = "graph"
    force: bool = False  # send every graph, changed or not
    dry_run: bool = False  # say what would be sent; send nothing

    def __post_init__(self) -> None:
        if not self.endpoint.startswith(("http://", "https://")):
            raise UsageError(f"the endpoint must be an http(s) URL: {self.endpoint!r}")
        if self.mode == "single" and not self.graph:
            raise UsageError("--graph-mode single needs --graph IRI")
        if self.mode == "per-article" and self.graph:
            raise UsageError("--graph goes with --graph-mode single")
        if self.password and not self.user:
            raise UsageError("a password needs a user")
        if self.user and self.token:
            raise UsageError("give a user and password, or a token, not both")

    @property
    def policy(self) -> RetryPolicy:
        """How requests are retried (see :mod:`kg.retry`)."""
        return RetryPolicy(retries=self.retries, backoff=self.backoff)

    @property
    def key(self) -> str:
        """What the record files the published graphs under."""
        return f"{self.mode} {self.endpoint}" + (f" {self.graph}" if self.graph else "")


@dataclass
class PublishReport:
    """What a publish sent (or, with ``dry_run``, would send)."""

    endpoint: str
    mode: GraphMode
    dry_run: bool = False
    put: list[str] = field(default_factory=list)  # graphs replaced (PUT)
    deleted: list[str] = field(default_factory=list)  # graphs dropped (DELETE)
    unchanged: int = 0  # graphs skipped: the server has them as they are
    requests: int = 0  # HTTP requests made, retries included
    retries: int = 0
    posts: int = 0  # mode "single": appends after the first PUT
    triples: int = 0  # triples sent
    bytes: int = 0  # bytes of RDF sent
    failures: list[str] = field(default_factory=list)  # "graph: why" for what could not be sent

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        verb = "would send" if self.dry_run else "sent"
        return (
            f"{self.endpoint} ({self.mode}): {verb} {len(self.put)} graphs (PUT"
            + (f", {self.posts} POST" if self.posts else "")
            + f"), {len(self.deleted)} deleted, {self.unchanged} unchanged · "
            f"{self.triples} triples, {self.bytes} bytes in {self.requests} requests "
            f"({self.retries} retries)"
            + (f" · {len(self.failures)} failed" if self.failures else "")
        )


# --- the record of what was published ----------------------------------------------------------


def default_record_path(store_path: Path) -> Path:
    """``out/store`` → ``out/store.published.json`` (beside the store, not inside it)."""
    return store_path.parent / f"{store_path.name}.published.json"


def load_record(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"version": RECORD_VERSION, "targets": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KgError(f"cannot read the publish record: {exc}", source=str(path)) from exc
    if not isinstance(data, dict) or data.get("version") != RECORD_VERSION:
        raise KgError(
            "not a kg publish record (delete it to publish everything again)", source=str(path)
        )
    return data


def save_record(path: Path, record: dict[str, Any]) -> None:
    """Write ``record`` to ``path`` atomically (see :func:`kg.atomic.atomic_write`)."""
    try:
        with atomic_write(path, "w") as fh:
            json.dump(record, fh, indent=1, sort_keys=True)
            fh.write("\n")
    except OSError as exc:
        raise KgError(
            f"cannot write the publish record: {exc.strerror or exc}", source=str(path)
        ) from exc


# --- graph content -----------------------------------------------------------------------------


def graph_ntriples(store: KgStore, graph: str) -> tuple[bytes, int]:
    """The canonical N-Triples of one named graph (sorted, unique lines) and its triple count."""
    from pyoxigraph import NamedNode

    lines = {
        f"{q.subject} {q.predicate} {q.object} .\n".encode()
        for q in store.store.quads_for_pattern(None, None, None, NamedNode(graph))
    }
    return b"".join(sorted(lines)), len(lines)


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


# --- HTTP --------------------------------------------------------------------------------------


class _Client:
    """Graph Store Protocol requests with timeouts, retried by kg's one policy
    (:mod:`kg.retry`, mounted on the session); one session per thread."""

    def __init__(self, settings: PublishSettings, report: PublishReport) -> None:
        self.settings = settings
        self.report = report
        self._local = threading.local()
        self._lock = threading.Lock()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = new_session(
                self.settings.policy,
                user_agent=f"kg/{__version__} (kg publish)",
                on_retry=self._retried,
            )
            if self.settings.token:
                session.headers["Authorization"] = f"Bearer {self.settings.token}"
            elif self.settings.user:
                session.auth = (self.settings.user, self.settings.password or "")
            self._local.session = session
        return session

    def _count(self, *, retry: bool = False) -> None:
        with self._lock:
            self.report.requests += 1
            if retry:
                self.report.retries += 1

    def _retried(self, reason: str) -> None:
        log.info("%s; retrying", reason)
        self._count(retry=True)

    def send(self, method: str, graph: str, body: bytes | None = None) -> requests.Response:
        """One request for ``graph``, retried on 429/5xx/connection faults; raises NetworkError."""
        s = self.settings
        headers = {"Content-Type": CONTENT_TYPE} if body is not None else {}
        self._count()
        failed = f"{method} failed after {s.retries + 1} tries"
        try:
            response = self._session().request(
                method,
                s.endpoint,
                params={s.graph_param: graph},
                data=body,
                headers=headers,
                timeout=(s.connect_timeout, s.timeout),
            )
        except requests.RequestException as exc:
            raise NetworkError(f"{failed}: {describe(exc)}", record=graph) from exc
        if response.status_code in RETRY_STATUS:  # still, after the retries
            raise NetworkError(
                f"{failed}: HTTP {response.status_code} {response.reason}", record=graph
            )
        return response


class _Fatal(NetworkError):
    """An answer that every further request would get too (authentication refused)."""


def _check(response: requests.Response, method: str, graph: str) -> None:
    """Raise for an answer that is not a success (a DELETE of a missing graph is one)."""
    if response.ok or (method == "DELETE" and response.status_code == 404):
        return
    text = " ".join(response.text.split())[:200]
    error = NetworkError(
        f"{method} answered HTTP {response.status_code} {response.reason}: {text}", record=graph
    )
    if response.status_code in (401, 403):
        raise _Fatal(str(error))
    raise error


# --- publish -----------------------------------------------------------------------------------


def publish(
    store: KgStore,
    settings: PublishSettings,
    *,
    record_path: Path | None = None,
    on_graph: Callable[[], None] | None = None,
) -> PublishReport:
    """Send what changed in ``store`` since the last publish to ``settings.endpoint``."""
    path = record_path or default_record_path(store.path)
    record = load_record(path)
    target: dict[str, Any] = record["targets"].setdefault(
        settings.key,
        {"endpoint": settings.endpoint, "mode": settings.mode, "graph": settings.graph},
    )
    published: dict[str, str] = target.setdefault("graphs", {})
    report = PublishReport(endpoint=settings.endpoint, mode=settings.mode, dry_run=settings.dry_run)
    client = _Client(settings, report)

    def save() -> None:
        if not settings.dry_run:
            target["published"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            save_record(path, record)

    try:
        if settings.mode == "single":
            _publish_single(store, settings, client, report, published)
        else:
            _publish_per_article(store, settings, client, report, published, save, on_graph)
    finally:
        save()
    return report


def _graphs(store: KgStore) -> list[str]:
    return sorted(g.value for g in store.named_graphs())


@dataclass(frozen=True, slots=True)
class _Sent:
    """What one graph's request did, folded into the report by the publishing thread."""

    method: str  # PUT, DELETE, or "" for an unchanged graph
    graph: str
    digest: str = ""
    triples: int = 0
    bytes: int = 0
    failure: str = ""


def _publish_per_article(
    store: KgStore,
    settings: PublishSettings,
    client: _Client,
    report: PublishReport,
    published: dict[str, str],
    save: Callable[[], None],
    on_graph: Callable[[], None] | None,
) -> None:
    current = _graphs(store)
    present = set(current)
    gone = sorted(g for g in published if g not in present)
    previous = dict(published)

    def put(graph: str) -> _Sent:
        body, triples = graph_ntriples(store, graph)
        h = digest(body)
        if not settings.force and previous.get(graph) == h:
            return _Sent("", graph)
        if not settings.dry_run:
            _check(client.send("PUT", graph, body), "PUT", graph)
        return _Sent("PUT", graph, h, triples, len(body))

    def delete(graph: str) -> _Sent:
        if not settings.dry_run:
            _check(client.send("DELETE", graph), "DELETE", graph)
        return _Sent("DELETE", graph)

    def attempt(job: tuple[Callable[[str], _Sent], str]) -> _Sent:
        action, graph = job
        try:
            return action(graph)
        except _Fatal:
            raise
        except NetworkError as exc:  # noted; the other graphs still go out
            return _Sent(action.__name__.upper(), graph, failure=str(exc))

    jobs: list[tuple[Callable[[str], _Sent], str]] = [(put, g) for g in current]
    jobs += [(delete, g) for g in gone]
    with ThreadPoolExecutor(max_workers=max(1, settings.workers)) as pool:
        for batch in _batches(jobs, settings.batch_size):
            futures = [pool.submit(attempt, job) for job in batch]
            try:
                for future in futures:
                    _fold(future.result(), report, published, dry_run=settings.dry_run)
                    if on_graph is not None:
                        on_graph()
            except BaseException:
                for future in futures:  # a fatal answer: send nothing more
                    future.cancel()
                raise
            save()


def _fold(sent: _Sent, report: PublishReport, published: dict[str, str], *, dry_run: bool) -> None:
    if sent.failure:
        log.error("%s", sent.failure)
        report.failures.append(sent.failure)
    elif not sent.method:
        report.unchanged += 1
    elif sent.method == "PUT":
        log.info("PUT %s (%d triples)", sent.graph, sent.triples)
        report.put.append(sent.graph)
        report.triples += sent.triples
        report.bytes += sent.bytes
        if not dry_run:
            published[sent.graph] = sent.digest
    else:
        log.info("DELETE %s", sent.graph)
        report.deleted.append(sent.graph)
        if not dry_run:
            published.pop(sent.graph, None)


def _batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), max(1, size)):
        yield items[i : i + size]


def _publish_single(
    store: KgStore,
    settings: PublishSettings,
    client: _Client,
    report: PublishReport,
    published: dict[str, str],
) -> None:
    """Everything into one graph: re-sent whole (a PUT, then POSTs) when any graph changed."""
    assert settings.graph is not None  # checked by PublishSettings
    graph = settings.graph
    hashes = {g: digest(graph_ntriples(store, g)[0]) for g in _graphs(store)}
    if not settings.force and hashes == published:
        report.unchanged = len(hashes)
        return
    published.clear()  # until the whole graph is sent, the server's copy is not known-good
    method = "PUT"
    chunk: list[bytes] = []

    def flush() -> None:
        nonlocal method, chunk
        body = b"".join(chunk)
        if not settings.dry_run:
            _check(client.send(method, graph, body), method, graph)
        if method == "POST":
            report.posts += 1
        report.triples += len(chunk)
        report.bytes += len(body)
        method, chunk = "POST", []

    try:
        for g in hashes:
            body, _ = graph_ntriples(store, g)
            for line in body.splitlines(keepends=True):
                chunk.append(line)
                if len(chunk) >= settings.chunk_triples:
                    flush()
        if chunk or method == "PUT":
            flush()  # a PUT even when the store is empty: the graph then holds nothing
    except NetworkError as exc:
        report.failures.append(str(exc))
        return
    report.put.append(graph)
    if not settings.dry_run:
        published.update(hashes)

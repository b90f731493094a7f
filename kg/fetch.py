"""``kg fetch``: PubMed records from NCBI E-utilities to one PubmedArticleSet, or into the store.

PMIDs (given, or found by an esearch query) → batches → efetch (and elink for "Similar
articles" and "Cited by") → records → a PubmedArticleSet file (or stdout), or the normal build
(:func:`kg.pipeline.build`) with each Article's links filled in. A batch that still fails after
its retries is reported with its PMIDs; every record that did come is kept. Answers are cached
(see :mod:`kg.sources.eutils`), so running again asks NCBI only for what is missing.
"""

from __future__ import annotations

import io
import logging
import re
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING

from kg.atomic import atomic_output
from kg.errors import InputError, NetworkError
from kg.models import Article, Record, RelatedArticle
from kg.parse import pubmed_xml
from kg.sources.eutils import (
    CITED_BY,
    SIMILAR,
    EutilsClient,
    efetch,
    elink,
    esearch,
    split_pubmed_set,
)
from kg.sources.files import read_file

if TYPE_CHECKING:  # the build's modules load only when a build is asked for
    from kg.config import Settings
    from kg.pipeline import BuildReport
    from kg.store import KgStore

log = logging.getLogger(__name__)

DEFAULT_BATCH = 200
DEFAULT_WORKERS = 3
_XML_HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_DATE = re.compile(r"^\d{4}(/\d{1,2}(/\d{1,2})?)?$")


@dataclass(frozen=True, slots=True)
class Query:
    """An esearch query: PubMed search terms, an optional publication-date range, a cap."""

    term: str
    mindate: str | None = None  # YYYY, YYYY/MM or YYYY/MM/DD
    maxdate: str | None = None
    max_ids: int | None = None

    def __post_init__(self) -> None:
        for date in (self.mindate, self.maxdate):
            if date is not None and not _DATE.match(date):
                raise InputError(f"not a date (YYYY, YYYY/MM or YYYY/MM/DD): {date!r}")


@dataclass(frozen=True, slots=True)
class Links:
    """What elink says of one article: its similar articles and the articles citing it."""

    similar: tuple[str, ...] = ()
    cited_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Batch:
    """One efetch batch: the PMIDs asked for, the records that came (PMID, XML), their links.

    ``error`` says why no records came at all (every requested PMID is then not fetched);
    ``link_error`` why the links did not.
    """

    requested: tuple[str, ...]
    records: tuple[tuple[str, bytes], ...] = ()
    doctype: str | None = None
    links: Mapping[str, Links] = field(default_factory=dict)
    error: str | None = None
    link_error: str | None = None

    @property
    def missing(self) -> tuple[str, ...]:
        """Requested PMIDs that did not come back."""
        got = {p for p, _ in self.records}
        return tuple(p for p in self.requested if p not in got)


@dataclass
class FetchReport:
    """What a fetch did, for the CLI's summary and for tests."""

    requested: int = 0  # distinct PMIDs asked for
    batches: int = 0
    records: int = 0  # distinct records kept (written / built)
    not_returned: list[str] = field(default_factory=list)  # NCBI answered without them
    failed: list[str] = field(default_factory=list)  # their batch failed after all retries
    errors: list[str] = field(default_factory=list)  # one line per failed batch
    link_errors: list[str] = field(default_factory=list)
    links: dict[str, Links] = field(default_factory=dict)
    requests: int = 0  # HTTP requests sent, retries included
    cached: int = 0  # answers taken from the cache
    retries: int = 0
    build: BuildReport | None = None

    @property
    def not_fetched(self) -> list[str]:
        return self.failed + self.not_returned

    @property
    def ok(self) -> bool:
        build_ok = self.build is None or self.build.ok
        return not self.not_fetched and not self.link_errors and build_ok

    def problems(self, *, limit: int = 200) -> list[str]:
        """One line per kind of problem, naming the PMIDs concerned (at most ``limit`` each)."""
        lines = []
        if self.failed:
            lines.append(f"{len(self.failed)} PMIDs not fetched: {_name(self.failed, limit)}")
            lines.extend(f"  {e}" for e in self.errors[:20])
        if self.not_returned:
            lines.append(
                f"{len(self.not_returned)} PMIDs not returned by NCBI: "
                f"{_name(self.not_returned, limit)}"
            )
        lines.extend(f"links not fetched: {e}" for e in self.link_errors[:20])
        return lines


def _name(pmids: Sequence[str], limit: int) -> str:
    shown = ", ".join(pmids[:limit])
    return shown + (f" … and {len(pmids) - limit} more" if len(pmids) > limit else "")


# --- which PMIDs ---------------------------------------------------------------------------


def parse_pmids(text: str, *, source: str = "PMID list") -> list[str]:
    """PMIDs separated by whitespace or commas (``#`` starts a comment), without repeats.

    >>> parse_pmids("23906502, 32887691\\n23906502  # again")
    ['23906502', '32887691']
    """
    pmids: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        for token in re.split(r"[\s,]+", line.split("#", 1)[0]):
            if not token:
                continue
            if not token.isdigit() or token.startswith("0"):
                raise InputError(f"not a PMID: {token!r}", source=source, record=f"line {n}")
            pmids.append(token)
    return list(dict.fromkeys(pmids))


def resolve_pmids(
    client: EutilsClient,
    *,
    pmids: Iterable[str] = (),
    query: Query | None = None,
    page_size: int = 10_000,
) -> list[str]:
    """The PMIDs to fetch: ``pmids`` as given, then those the esearch ``query`` finds."""
    found = list(pmids)
    if query is not None:
        found += esearch(
            client,
            query.term,
            mindate=query.mindate,
            maxdate=query.maxdate,
            max_ids=query.max_ids,
            page_size=page_size,
        )
    return list(dict.fromkeys(found))


# --- batches -------------------------------------------------------------------------------


def fetch_batch(client: EutilsClient, pmids: Sequence[str], *, links: bool = False) -> Batch:
    """efetch one batch (and elink its records); a failure is kept in the Batch, not raised."""
    requested = tuple(pmids)
    try:
        answer = split_pubmed_set(efetch(client, requested))
    except NetworkError as exc:
        return Batch(requested=requested, error=f"{_span(requested)}: {exc}")
    found: dict[str, bytes] = {}
    for pmid, xml in answer.records:
        found.setdefault(pmid, xml)  # NCBI repeating a record must not repeat it here
    batch = Batch(requested=requested, records=tuple(found.items()), doctype=answer.doctype)
    if not links or not found:
        return batch
    got = list(found)
    try:
        similar = elink(client, got, linkname=SIMILAR)
        cited_by = elink(client, got, linkname=CITED_BY)
    except NetworkError as exc:
        return replace(batch, link_error=f"{_span(got)}: {exc}")
    return replace(
        batch,
        links={p: Links(tuple(similar.get(p, ())), tuple(cited_by.get(p, ()))) for p in got},
    )


def _span(pmids: Sequence[str]) -> str:
    return f"PMIDs {pmids[0]}…{pmids[-1]}" if len(pmids) > 1 else f"PMID {pmids[0]}"


def iter_batches(
    client: EutilsClient,
    pmids: Sequence[str],
    *,
    batch_size: int = DEFAULT_BATCH,
    links: bool = False,
    workers: int = DEFAULT_WORKERS,
) -> Iterator[Batch]:
    """Fetch ``pmids`` in batches of ``batch_size``, ``workers`` at a time; yield them in order.

    The client's rate limiter is shared by the workers, so more workers never means more
    requests a second than NCBI allows; they only overlap NCBI's time to answer.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    chunks = [tuple(pmids[i : i + batch_size]) for i in range(0, len(pmids), batch_size)]
    if workers <= 1:
        for chunk in chunks:
            yield fetch_batch(client, chunk, links=links)
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kg-fetch")
    ahead: deque[Future[Batch]] = deque()
    todo = deque(chunks)
    try:
        while todo or ahead:
            while todo and len(ahead) < 2 * workers:
                ahead.append(pool.submit(fetch_batch, client, todo.popleft(), links=links))
            yield ahead.popleft().result()
    finally:  # interrupted: drop what has not started; what is running finishes into the cache
        pool.shutdown(wait=False, cancel_futures=True)


def with_links(article: Article, links: Links | None) -> Article:
    """``article`` with elink's similar and citing articles as its related-article lists."""
    if links is None:
        return article
    return replace(
        article,
        similar_articles=tuple(RelatedArticle(pmid=p) for p in links.similar),
        cited_by=tuple(RelatedArticle(pmid=p) for p in links.cited_by),
    )


def iter_articles(batches: Iterable[Batch]) -> Iterator[Record]:
    """Parse each batch's records with the PubMed XML parser; Articles get their links."""
    seen: set[str] = set()
    for batch in batches:
        records = [xml for pmid, xml in batch.records if pmid not in seen]
        seen.update(p for p, _ in batch.records)
        if not records:
            continue
        body = b"<PubmedArticleSet>\n" + b"\n".join(records) + b"\n</PubmedArticleSet>\n"
        for record in pubmed_xml.iter_records(io.BytesIO(body), source="E-utilities efetch"):
            if isinstance(record, Article):
                record = with_links(record, batch.links.get(record.pmid))
            yield record


# --- output --------------------------------------------------------------------------------


def fetch(
    client: EutilsClient,
    pmids: Sequence[str],
    out: IO[bytes],
    *,
    batch_size: int = DEFAULT_BATCH,
    links: bool = False,
    workers: int = DEFAULT_WORKERS,
    on_batch: Callable[[Batch], None] | None = None,
) -> FetchReport:
    """Fetch ``pmids`` and write them to ``out`` as one PubmedArticleSet, each record once.

    Never raises for a batch that fails: the report names its PMIDs and the rest is written.
    """
    report = FetchReport(requested=len(pmids))
    seen: set[str] = set()
    started = False
    for batch in iter_batches(client, pmids, batch_size=batch_size, links=links, workers=workers):
        report.batches += 1
        if batch.error:
            report.failed.extend(batch.requested)
            report.errors.append(batch.error)
            log.warning("%s", batch.error)
        else:
            report.not_returned.extend(batch.missing)
        if batch.link_error:
            report.link_errors.append(batch.link_error)
        report.links.update(batch.links)
        for pmid, xml in batch.records:
            if pmid in seen:
                continue
            if not started:
                out.write(_header(batch.doctype))
                started = True
            seen.add(pmid)
            out.write(xml)
            out.write(b"\n")
        if on_batch is not None:
            on_batch(batch)
    if not started:
        out.write(_header(None))
    out.write(b"</PubmedArticleSet>\n")
    report.records = len(seen)
    report.requests = client.stats.requests
    report.cached = client.stats.cached
    report.retries = client.stats.retries
    return report


def _header(doctype: str | None) -> bytes:
    head = _XML_HEAD + (doctype.encode() + b"\n" if doctype else b"")
    return head + b"<PubmedArticleSet>\n"


def fetch_to_file(
    client: EutilsClient,
    pmids: Sequence[str],
    path: Path,
    *,
    batch_size: int = DEFAULT_BATCH,
    links: bool = False,
    workers: int = DEFAULT_WORKERS,
    on_batch: Callable[[Batch], None] | None = None,
) -> FetchReport:
    """:func:`fetch` into ``path`` atomically; what came is kept even when some batch failed."""
    try:
        with atomic_output(path) as out:
            return fetch(
                client,
                pmids,
                out,
                batch_size=batch_size,
                links=links,
                workers=workers,
                on_batch=on_batch,
            )
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", source=str(path)) from exc


def fetch_and_build(
    client: EutilsClient,
    pmids: Sequence[str],
    *,
    store: KgStore,
    settings: Settings,
    xml_path: Path | None = None,
    batch_size: int = DEFAULT_BATCH,
    links: bool = False,
    workers: int = DEFAULT_WORKERS,
    on_batch: Callable[[Batch], None] | None = None,
    on_record: Callable[[], None] | None = None,
) -> FetchReport:
    """Fetch ``pmids`` and run the normal build on them; elink's links go into the graph.

    The records are written to ``xml_path`` (a temporary file when None) and built from there,
    so the build's metadata names and hashes a real source file.
    """
    from kg.pipeline import build as run_build

    with tempfile.TemporaryDirectory(prefix="kg-fetch-") as tmp:
        path = xml_path or Path(tmp) / "eutils-efetch.xml"
        report = fetch_to_file(
            client,
            pmids,
            path,
            batch_size=batch_size,
            links=links,
            workers=workers,
            on_batch=on_batch,
        )
        found = report.links

        def read(p: Path) -> Iterator[Record]:
            for record in read_file(p):
                if isinstance(record, Article):
                    record = with_links(record, found.get(record.pmid))
                yield record

        report.build = run_build(
            [path], store=store, settings=settings, on_record=on_record, read=read
        )
    return report

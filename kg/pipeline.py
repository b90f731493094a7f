"""The only module that chains the stages: files → records → quads → store."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pyoxigraph import NamedNode, Quad

from kg import __version__
from kg.config import Settings
from kg.errors import InputError
from kg.extract import extract
from kg.mesh import MeshTable
from kg.models import Article, Deletion, Problem, Record
from kg.rdf.evidence import evidence_quads
from kg.rdf.iris import Iris
from kg.rdf.mapping import article_quads
from kg.rdf.metadata import BuildInfo, DatasetStats, SourceFile, metadata_quads
from kg.sources.files import read_file
from kg.store import KgStore

log = logging.getLogger(__name__)

BATCH = 500  # articles written to the store per transaction


@dataclass
class BuildReport:
    """What a build did, for the summary the CLI prints and for tests."""

    files: int = 0
    articles: int = 0  # article records read and written (a PMID read twice counts twice)
    books: int = 0
    deletions: int = 0  # PMIDs listed in DeleteCitation
    deleted: int = 0  # of those, graphs that were in the store and were removed
    problems: list[Problem] = field(default_factory=list)
    failed_files: list[InputError] = field(default_factory=list)
    triples: int = 0  # quads in the store after the build
    graphs: int = 0  # article graphs in the store after the build

    @property
    def ok(self) -> bool:
        return not self.failed_files and not any(p.fatal for p in self.problems)


class BuildAborted(InputError):
    """``--strict`` stopped the build at the first problem."""


def build(
    inputs: list[Path],
    *,
    store: KgStore,
    settings: Settings,
    strict: bool = False,
    on_record: Callable[[], None] | None = None,
    read: Callable[[Path], Iterable[Record]] = read_file,
) -> BuildReport:
    """Parse, map and upsert every record of ``inputs`` into ``store``; apply deletions.

    Bad records and unreadable files are reported and skipped (``strict`` stops instead);
    everything readable still lands. ``read`` yields one input's records (default
    :func:`read_file`; ``kg fetch`` passes one that adds E-utilities links).
    """
    iris = Iris(settings.base_iri)
    mesh = MeshTable.default()
    report = BuildReport()
    pending: dict[NamedNode, list[Quad]] = {}
    sources: list[SourceFile] = []

    def flush() -> None:
        if pending:
            store.replace_graphs(pending)
            pending.clear()

    for path in inputs:
        report.files += 1
        try:
            for record in read(path):
                if on_record is not None:
                    on_record()
                if isinstance(record, Article):
                    report.articles += 1
                    report.books += record.is_book
                    graph = iris.graph(record.pmid)
                    pending.pop(graph, None)  # keep insertion order = input order
                    pending[graph] = article_quads(record, iris=iris) + _evidence(
                        record, iris=iris, mesh=mesh, report=report
                    )
                    if len(pending) >= BATCH:
                        flush()
                elif isinstance(record, Deletion):
                    report.deletions += 1
                    graph = iris.graph(record.pmid)
                    was_pending = pending.pop(graph, None) is not None
                    if store.remove_graph(graph) or was_pending:
                        report.deleted += 1
                else:
                    report.problems.append(record)
                    log.debug("%s", record)
                    if strict:
                        raise BuildAborted(
                            record.message, source=record.source, record=record.where
                        )
        except BuildAborted:
            flush()
            raise
        except InputError as exc:
            report.failed_files.append(exc)
            log.debug("%s", exc)
            if strict:
                flush()
                raise
            continue
        sources.append(_source_file(path))
    flush()

    report.graphs = sum(1 for g in store.named_graphs() if g != iris.metadata_graph())
    info = BuildInfo(
        sources=tuple(sources),
        time=_build_time(inputs),
        tool_version=__version__,
        articles=report.articles,
        deletions=report.deletions,
        problems=len(report.problems) + len(report.failed_files),
    )
    # The metadata graph counts itself: write it once to learn its size, then for real.
    meta = iris.metadata_graph()
    store.remove_graph(meta)
    base = len(store)
    draft = metadata_quads(
        iris=iris, stats=DatasetStats(base, report.graphs, report.graphs), build=info
    )
    final = metadata_quads(
        iris=iris,
        stats=DatasetStats(base + len(draft), report.graphs, report.graphs + 1),
        build=info,
    )
    store.replace_graphs({meta: final})
    store.flush()
    report.triples = len(store)
    return report


def _evidence(article: Article, *, iris: Iris, mesh: MeshTable, report: BuildReport) -> list[Quad]:
    """The evidence quads; a failure of extraction costs the evidence, never the record."""
    try:
        return evidence_quads(extract(article, mesh=mesh), iris=iris)
    except Exception as exc:
        log.debug("extraction failed on %s", article.pmid, exc_info=True)
        report.problems.append(Problem(
            source=article.source or "?", where=f"PMID {article.pmid}",
            message=f"evidence extraction failed ({type(exc).__name__}: {exc}); record kept",
        ))
        return []


def _source_file(path: Path) -> SourceFile:
    with path.open("rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    return SourceFile(name=path.name, sha256=digest, size=path.stat().st_size)


def _build_time(inputs: list[Path]) -> datetime:
    """``SOURCE_DATE_EPOCH`` when set, else the newest input's modification time.

    Not the wall clock: the same input must give the same dump, byte for byte.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC)
    mtimes = [p.stat().st_mtime for p in inputs if p.is_file()]
    return datetime.fromtimestamp(int(max(mtimes)) if mtimes else 0, UTC)

"""The only module that chains the stages: files → records → quads → store."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import tempfile
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pyoxigraph import Quad

from kg import __version__
from kg.config import Settings
from kg.errors import InputError, StoreError, UsageError
from kg.models import Problem, Record
from kg.rdf.iris import Iris
from kg.rdf.metadata import BuildInfo, DatasetStats, SourceFile, metadata_quads
from kg.shard import Runner, ShardResult, build_shard
from kg.sources.files import is_stdin, read_file
from kg.store import SHARDS_PREFIX, AppliedFile, KgStore

log = logging.getLogger(__name__)

LOAD_QUADS = 1_000_000  # quads of consecutive shards bulk-loaded together


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
    skipped: list[tuple[Path, AppliedFile]] = field(default_factory=list)  # applied before

    @property
    def skipped_records(self) -> list[Problem]:
        """Records left out (bad records), not counting files that broke off."""
        return [p for p in self.problems if not p.fatal and not p.kept]

    @property
    def warnings(self) -> list[Problem]:
        """Records that went through with something left out (a DOI that is not one)."""
        return [p for p in self.problems if p.kept]

    @property
    def ok(self) -> bool:
        """Everything given was read: no file failed or broke off, no record was skipped."""
        return not self.failed_files and all(p.kept for p in self.problems)


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
    runner: Runner | None = None,
    skip_applied: bool = False,
    shard_dir: Path | None = None,
    check: Callable[[str, list[Quad]], list[str]] | None = None,
) -> BuildReport:
    """Parse, map and upsert every record of ``inputs`` into ``store``; apply deletions.

    Bad records and unreadable files are reported and skipped (``strict`` stops instead);
    everything readable still lands. ``read`` yields one input's records (default
    :func:`read_file`; ``kg fetch`` passes one that adds E-utilities links).

    Each file becomes a sorted N-Quads shard (:func:`kg.shard.build_shard`), in this process
    or, with ``runner``, on local processes or a Dask cluster; shards are applied in input
    order with the bulk loader, so a later record of a PMID replaces an earlier one and
    DeleteCitation removes, as in one pass over the records. Every applied file is recorded in
    the store; ``skip_applied`` skips those recorded before (whether NLM's files come in their
    order is the caller's to check, with :func:`check_update_order`, before it opens the
    store: ``kg build`` does). Shards are written under
    ``shard_dir`` (default: inside the store directory) and removed once applied.

    ``check`` sees each article's quads before they are written (``kg build --validate``; see
    :func:`kg.shard.build_shard`); it runs in this process, so a ``runner`` is not used then.
    """
    iris = Iris(settings.base_iri)
    report = BuildReport()
    sources: list[SourceFile] = []
    applied = store.applied_files() if skip_applied else {}
    queued: deque[SourceFile | None] = deque()  # the hash of each file sent to be built

    def todo() -> Iterator[Path]:
        for path in inputs:
            source = _source_file(path) if _is_plain_file(path) else None
            done = applied.get(source.sha256) if source is not None else None
            if done is not None:
                log.info("%s: already applied (%s, %s); skipped", path, done.name,
                         done.applied_at)
                report.skipped.append((path, done))
                continue
            queued.append(source)
            yield path

    with contextlib.ExitStack() as stack:
        where = shard_dir or store.path  # inside the store: a killed build's are cleaned up
        try:
            out_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(
                prefix=SHARDS_PREFIX, dir=where
            )))
        except OSError as exc:
            message = f"cannot write shards there: {exc.strerror}"
            raise StoreError(message, source=str(where)) from exc
        results: Generator[ShardResult, None, None]
        # Standard input, pipes and /dev/fd/N are this process's: other processes cannot read
        # them (a worker's /dev/stdin is not ours), so they are built here.
        here = any(
            not _is_plain_file(p) and (is_stdin(p) or (p.exists() and not p.is_dir()))
            for p in inputs
        )
        if runner is None or read is not read_file or check is not None or here:
            results = (
                build_shard(p, base_iri=iris.base, out_dir=out_dir, name=f"{i:06d}",
                            strict=strict, read=read, on_record=on_record, check=check)
                for i, p in enumerate(todo())
            )
        else:
            results = runner(todo(), base_iri=iris.base, out_dir=out_dir, strict=strict)
            if on_record is not None:
                results = _ticking(results, on_record)
        stack.enter_context(contextlib.closing(results))
        applier = _Applier(store, iris=iris, report=report)
        for result in results:
            source = queued.popleft()
            applier.apply(result, source if result.error is None else None)
            if result.aborted:
                applier.flush()
                problem = result.problems[-1]
                raise BuildAborted(problem.message, source=problem.source, record=problem.where)
            error = result.input_error()
            if error is not None:
                report.failed_files.append(error)
                if strict:
                    applier.flush()
                    raise error
            elif source is not None:
                sources.append(source)
        applier.flush()

    report.graphs = sum(1 for g in store.named_graphs() if g != iris.metadata_graph())
    if report.skipped and not report.files:  # everything was applied before: leave it as it is
        report.triples = len(store)
        return report
    info = BuildInfo(
        sources=tuple(sources),
        time=_build_time(inputs),
        tool_version=__version__,
        articles=report.articles,
        deletions=report.deletions,
        problems=len(report.problems) + len(report.failed_files),
    )
    # The metadata graph counts itself: write it once to learn its size, then for real. It
    # keeps the earlier builds and sources the store's metadata graph held (``previous``).
    meta = iris.metadata_graph()
    previous = store.graph_quads(meta)
    store.remove_graph(meta)
    base = len(store)
    draft = metadata_quads(
        iris=iris,
        stats=DatasetStats(base, report.graphs, report.graphs),
        build=info,
        previous=previous,
    )
    final = metadata_quads(
        iris=iris,
        stats=DatasetStats(base + len(draft), report.graphs, report.graphs + 1),
        build=info,
        previous=previous,
    )
    store.replace_graphs({meta: final})
    store.flush()
    report.triples = len(store)
    return report


class _Applier:
    """Applies shards in input order: drops the graphs each replaces or deletes, bulk-loads it.

    Consecutive shards are loaded together up to :data:`LOAD_QUADS` quads, since each bulk load
    has a fixed cost (a fraction of a second) that many small files would otherwise pay; a file
    that touches a graph still waiting to be loaded first loads what waits.
    """

    def __init__(self, store: KgStore, *, iris: Iris, report: BuildReport) -> None:
        self.store = store
        self.iris = iris
        self.report = report
        self.shards: list[Path] = []
        self.waiting: set[str] = set()  # PMIDs whose graphs are in ``shards``
        self.quads = 0
        self.sources: list[SourceFile] = []  # recorded as applied once their shards are loaded

    def apply(self, result: ShardResult, source: SourceFile | None) -> None:
        report, iris = self.report, self.iris
        report.files += 1
        report.articles += result.articles
        report.books += result.books
        report.deletions += result.deletions
        report.problems.extend(result.problems)
        for p in result.problems:
            log.debug("%s", p)
        touched = set(result.pmids).union(result.deleted)
        if not self.waiting.isdisjoint(touched):
            self.flush()
        # A DeleteCitation counts as a removal when the article was there: read earlier in the
        # same file (counted by the shard), or in the store before this file.
        report.deleted += result.deleted_here + self.store.remove_graphs(
            iris.graph(p) for p in result.deleted_unseen
        )
        self.store.remove_graphs(iris.graph(p) for p in touched.difference(result.deleted_unseen))
        if result.shard is not None:
            self.shards.append(result.shard)
            self.waiting.update(result.pmids)
            self.quads += result.quads
        if source is not None:
            self.sources.append(source)
        if self.quads >= LOAD_QUADS:
            self.flush()

    def flush(self) -> None:
        if self.shards:
            self.store.load_nquads(*self.shards)
            for shard in self.shards:
                shard.unlink(missing_ok=True)
        if self.sources:
            self.store.mark_applied(self.sources)
        self.shards, self.waiting, self.quads, self.sources = [], set(), 0, []


def _ticking(
    results: Generator[ShardResult, None, None], tick: Callable[[], None]
) -> Generator[ShardResult, None, None]:
    """Progress for shards built elsewhere: one tick per record, as each file is applied."""
    with contextlib.closing(results):
        for result in results:
            for _ in range(result.records):
                tick()
            yield result


def _is_plain_file(path: Path) -> bool:
    """A regular file others can open by its name too (not ``-``, /dev/stdin, /proc/…)."""
    if is_stdin(path) or str(path).startswith(("/dev/", "/proc/")):
        return False
    try:
        return path.is_file()
    except OSError:
        return False


def _source_file(path: Path) -> SourceFile | None:
    """The file's name, size and SHA-256; None when it cannot be read (reading it says why)."""
    try:
        with path.open("rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
        size = path.stat().st_size
    except OSError:
        return None
    return SourceFile(name=path.name, sha256=digest, size=size)


#: NLM's baseline and daily update files: pubmed{YY}n{NNNN}.xml(.gz), numbered in the order they
#: apply (a year's updates continue its baseline's numbers).
_NLM_FILE = re.compile(r"^pubmed(\d{2})n(\d{4})\.xml(?:\.gz)?$")


def check_update_order(inputs: list[Path], applied: dict[str, AppliedFile]) -> None:
    """Refuse NLM files out of their order: an older update applied after a newer one would
    bring back older versions of its records (and records deleted since).

    Files named otherwise are not checked; a file applied before (by name) is skipped by the
    build, not refused. Raises :class:`UsageError` naming both files; ``--force`` skips this.
    """
    done = {a.name for a in applied.values()}
    newest: tuple[tuple[int, int], str, str] | None = None  # (order, name, where it came from)
    for a in applied.values():
        if (m := _NLM_FILE.match(a.name)) and (newest is None or _order(m) > newest[0]):
            newest = (_order(m), a.name, f"applied to this store on {a.applied_at}")
    for path in inputs:
        m = _NLM_FILE.match(path.name)
        if m is None or path.name in done:
            continue
        if newest is not None and _order(m) < newest[0]:
            raise UsageError(
                f"{path}: {path.name} comes before {newest[1]} ({newest[2]}); NLM's files "
                "apply in number order, and an older one would bring back older versions of "
                "its records. Give them in order, or --force to apply it anyway"
            )
        newest = (_order(m), path.name, "given before it")


def _order(m: re.Match[str]) -> tuple[int, int]:
    return int(m.group(1)), int(m.group(2))


def _build_time(inputs: list[Path]) -> datetime:
    """``SOURCE_DATE_EPOCH`` when set, else the newest input's modification time.

    Not the wall clock: the same input must give the same dump, byte for byte.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC)
    mtimes = [p.stat().st_mtime for p in inputs if _is_plain_file(p)]
    return datetime.fromtimestamp(int(max(mtimes)) if mtimes else 0, UTC)

"""The only module that chains the stages: files → records → quads → store."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import tempfile
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyoxigraph import Quad

from kg import __version__
from kg.atomic import atomic_output, atomic_write
from kg.config import Settings
from kg.errors import InputError, StoreError, UsageError
from kg.extsort import write_lines
from kg.models import Problem, Record
from kg.rdf.iris import Iris
from kg.rdf.metadata import BuildInfo, DatasetStats, SourceFile, metadata_quads
from kg.shard import SHARD_SUFFIX, Runner, ShardResult, build_shard
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
    optimize: bool = True,
    on_phase: Callable[[str], None] | None = None,
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
    ``optimize`` compacts the store at the end (:meth:`KgStore.optimize`), before readers see it.
    ``on_phase`` hears what the build is doing ("file 3/20: name", "compacting the store"), for
    a progress display.
    """
    phase = on_phase or (lambda _: None)
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
        results = _shard_results(
            inputs, todo(), iris=iris, out_dir=out_dir, strict=strict, read=read,
            on_record=on_record, runner=runner, check=check,
        )
        stack.enter_context(contextlib.closing(results))
        applier = _Applier(store, iris=iris, report=report)
        phase(f"file 1/{len(inputs)}")
        for done, result in enumerate(results, start=1):
            if done < len(inputs):
                phase(f"file {done + 1}/{len(inputs)}")
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
        phase("loading into the store")
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
    if optimize:
        phase("compacting the store")
        store.optimize()
    report.triples = len(store)
    return report


def _shard_results(
    inputs: list[Path],
    paths: Iterable[Path],
    *,
    iris: Iris,
    out_dir: Path,
    strict: bool,
    read: Callable[[Path], Iterable[Record]],
    on_record: Callable[[], None] | None,
    runner: Runner | None,
    check: Callable[[str, list[Quad]], list[str]] | None,
) -> Generator[ShardResult, None, None]:
    """Each of ``paths`` built into a shard in ``out_dir``, here or by ``runner``, in order."""
    # Standard input, pipes and /dev/fd/N are this process's: other processes cannot read
    # them (a worker's /dev/stdin is not ours), so they are built here.
    here = any(
        not _is_plain_file(p) and (is_stdin(p) or (p.exists() and not p.is_dir()))
        for p in inputs
    )
    if runner is None or read is not read_file or check is not None or here:
        return (
            build_shard(p, base_iri=iris.base, out_dir=out_dir, name=f"{i:06d}",
                        strict=strict, read=read, on_record=on_record, check=check)
            for i, p in enumerate(paths)
        )
    results = runner(paths, base_iri=iris.base, out_dir=out_dir, strict=strict)
    return _ticking(results, on_record) if on_record is not None else results


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
        _count(report, result)
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


# --- shards as the output: for a triple store's own parallel loader ----------------------------

SHARDS_MANIFEST = "manifest.json"
SHARDS_DROP = "drop-graphs.ru"
SHARDS_METADATA = "metadata.nq.gz"


@dataclass
class ShardsReport(BuildReport):
    """A ``--shards-out`` build: the BuildReport, and what was written where."""

    out: Path | None = None
    shards: list[Path] = field(default_factory=list)
    superseded: int = 0  # graphs left out of a shard because a later input replaces or deletes them


def build_shards(
    inputs: list[Path],
    *,
    out: Path,
    settings: Settings,
    strict: bool = False,
    on_record: Callable[[], None] | None = None,
    read: Callable[[Path], Iterable[Record]] = read_file,
    runner: Runner | None = None,
    check: Callable[[str, list[Quad]], list[str]] | None = None,
) -> ShardsReport:
    """Build ``inputs`` into sorted, gzipped N-Quads shards in the new directory ``out``, for a
    triple store's own (parallel) loader, instead of into kg's store.

    One shard per input, in input order: ``{n:06d}-{name}.nq.gz``. Each holds the graphs of its
    input's articles less those a later input replaces or deletes, so the shards hold every
    article graph once, as its last version, and deleted ones not at all: loaded into an empty
    store in any order they give what ``kg build`` gives, and ``metadata.nq.gz`` is the
    metadata graph kg's store would hold after such a build. Beside each shard, ``.pmids``
    lists its PMIDs: ``+P`` a graph in the shard, ``~P`` read here but replaced or deleted by a
    later input, ``-P`` deleted here. ``drop-graphs.ru`` is the SPARQL Update (``DROP SILENT
    GRAPH``) that removes every graph the inputs touch, the metadata graph included: run it on
    a store that holds an earlier load before loading these shards. ``manifest.json``, written
    last, lists the shards in order with their counts and checksums: a directory without it is
    not a finished output.

    Which shard holds a PMID's last version is kept in an SQLite file in ``out`` while the
    shards are built (flat memory, however many PMIDs), and removed at the end.
    """
    iris = Iris(settings.base_iri)
    report = ShardsReport(out=out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: exists and is not a directory; --shards-out writes a new one")
    if out.exists():
        left = [p for p in out.iterdir() if not p.name.startswith(SHARDS_PREFIX)]
        if left:
            raise UsageError(f"{out}: exists and is not an empty directory; --shards-out writes "
                             "a new one")
        for p in out.iterdir():  # what a killed run into it left: scratch, no output
            shutil.rmtree(p, ignore_errors=True)
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=SHARDS_PREFIX, dir=out))
        stage = work / "out"  # everything is written here, then moved into ``out`` at the end
        stage.mkdir()
    except OSError as exc:
        raise StoreError(f"cannot write shards there: {exc.strerror}", source=str(out)) from exc
    sources: list[SourceFile] = []
    entries: list[tuple[str, ShardResult]] = []  # (file name stem, result) in input order
    queued: deque[SourceFile | None] = deque()

    def todo() -> Iterator[Path]:
        for path in inputs:
            queued.append(_source_file(path) if _is_plain_file(path) else None)
            yield path

    db = sqlite3.connect(work / "pmids.sqlite", isolation_level=None)
    try:
        db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            "CREATE TABLE holder (pmid TEXT PRIMARY KEY, shard INTEGER) WITHOUT ROWID;"
            "CREATE TABLE stale (shard INTEGER, pmid TEXT);"
            "CREATE INDEX stale_by_shard ON stale (shard);"  # read back one shard at a time
            "CREATE TABLE touched (pmid TEXT PRIMARY KEY) WITHOUT ROWID;"
            "CREATE TEMP TABLE cur (pmid TEXT PRIMARY KEY) WITHOUT ROWID;"
        )
        results = _shard_results(
            inputs, todo(), iris=iris, out_dir=work, strict=strict, read=read,
            on_record=on_record, runner=runner, check=check,
        )
        with contextlib.closing(results):
            for k, result in enumerate(results):
                source = queued.popleft()
                _count(report, result)
                if result.aborted:
                    problem = result.problems[-1]
                    raise BuildAborted(problem.message, source=problem.source,
                                       record=problem.where)
                error = result.input_error()
                if error is not None:
                    report.failed_files.append(error)
                    if strict:
                        raise error
                elif source is not None:
                    sources.append(source)
                # what this input replaces or deletes of the earlier inputs' graphs
                touched = [(p,) for p in (*result.pmids, *result.deleted)]
                db.execute("DELETE FROM cur")
                db.executemany("INSERT OR IGNORE INTO cur VALUES (?)", touched)
                db.executemany("INSERT OR IGNORE INTO touched VALUES (?)", touched)
                unseen = set(result.deleted_unseen)
                for pmid, shard in db.execute(
                    "SELECT pmid, shard FROM holder JOIN cur USING (pmid)"
                ).fetchall():
                    db.execute("INSERT INTO stale VALUES (?, ?)", (shard, pmid))
                    report.deleted += pmid in unseen
                report.deleted += result.deleted_here
                db.execute("DELETE FROM holder WHERE pmid IN (SELECT pmid FROM cur)")
                db.executemany("INSERT INTO holder VALUES (?, ?)", ((p, k) for p in result.pmids))
                stem = re.sub(r"[^\w-]+", "_", Path(result.input).name.split(".")[0]).strip("_")
                stem = stem if re.search(r"[^\W_]", stem) else "input"  # "-": standard input
                entries.append((f"{k:06d}-{stem}", result))
        report.graphs = db.execute("SELECT count(*) FROM holder").fetchone()[0]
        shards = _finish_shards(stage, entries, db, iris=iris, report=report)
        info = BuildInfo(
            sources=tuple(sources),
            time=_build_time(inputs),
            tool_version=__version__,
            articles=report.articles,
            deletions=report.deletions,
            problems=len(report.problems) + len(report.failed_files),
        )
        base = sum(s["quads"] for s in shards)
        draft = metadata_quads(iris=iris, stats=DatasetStats(base, report.graphs, report.graphs),
                               build=info)
        final = metadata_quads(
            iris=iris, stats=DatasetStats(base + len(draft), report.graphs, report.graphs + 1),
            build=info,
        )
        meta_lines = sorted({f"{q} .\n".encode() for q in final})
        with atomic_output(stage / SHARDS_METADATA, durable=False) as fh:
            write_lines(meta_lines, fh.write)
        with atomic_write(stage / SHARDS_DROP, durable=False) as fh:
            fh.write(b"# SPARQL Update: every graph these shards replace or delete, and the "
                     b"metadata graph.\n# Run it on a store holding an earlier load, then "
                     b"load the shards.\n")
            fh.write(f"DROP SILENT GRAPH <{iris.metadata_graph().value}> ;\n".encode())
            for (pmid,) in db.execute("SELECT pmid FROM touched ORDER BY pmid"):
                fh.write(f"DROP SILENT GRAPH <{iris.graph(pmid).value}> ;\n".encode())
        report.triples = base + len(final)
        manifest = {
            "kg_version": __version__,
            "base_iri": iris.base,
            "format": "N-Quads, gzip; lines sorted and unique; one shard per input, in order",
            "load": "into an empty store: every shard and metadata.nq.gz, in any order or in "
                    "parallel; into a store holding an earlier load: drop-graphs.ru first",
            "pmids": "beside each shard: +PMID a graph in it, ~PMID read but replaced or "
                     "deleted by a later input, -PMID deleted by this input",
            "shards": shards,
            "metadata": {"file": SHARDS_METADATA, "quads": len(final)},
            "drop": SHARDS_DROP,
            "graphs": report.graphs,
            "quads": report.triples,
            "superseded": report.superseded,
            "problems": len(report.problems) + len(report.failed_files),
        }
        for f in sorted(stage.iterdir()):  # on disk before the manifest says they are there
            with f.open("rb") as fh:
                os.fsync(fh.fileno())
            os.replace(f, out / f.name)
        with atomic_write(out / SHARDS_MANIFEST) as fh:  # last: the output is whole
            fh.write((json.dumps(manifest, indent=1) + "\n").encode())
        report.shards = [out / s["file"] for s in shards if s["file"]]
        return report
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise
    finally:
        db.close()
        shutil.rmtree(work, ignore_errors=True)


def _count(report: BuildReport, result: ShardResult) -> None:
    report.files += 1
    report.articles += result.articles
    report.books += result.books
    report.deletions += result.deletions
    report.problems.extend(result.problems)
    for p in result.problems:
        log.debug("%s", p)


def _finish_shards(
    out: Path, entries: list[tuple[str, ShardResult]], db: Any, *, iris: Iris,
    report: ShardsReport,
) -> list[dict[str, Any]]:
    """Each shard less its superseded graphs, moved into ``out`` with its ``.pmids`` list."""
    listed: list[dict[str, Any]] = []
    for k, (name, result) in enumerate(entries):
        stale = {p for (p,) in db.execute("SELECT pmid FROM stale WHERE shard = ?", (k,))}
        report.superseded += len(stale)
        target = out / f"{name}{SHARD_SUFFIX}"
        quads = result.quads
        if result.shard is not None and stale:
            drop = {f"<{iris.graph(p).value}>".encode() for p in stale}
            with gzip.open(result.shard, "rb") as src, atomic_output(target, durable=False) as dst:
                quads = write_lines(
                    (line for line in src if line[line.rindex(b"<") : -3] not in drop), dst.write
                )
            result.shard.unlink()
        elif result.shard is not None:
            os.replace(result.shard, target)
        kept = [p for p in result.pmids if p not in stale]
        if result.shard is None or not quads:
            target.unlink(missing_ok=True)
            quads = 0
        with atomic_write(out / f"{name}.pmids", durable=False) as fh:
            fh.writelines(f"+{p}\n".encode() for p in kept)
            fh.writelines(f"~{p}\n".encode() for p in result.pmids if p in stale)
            fh.writelines(f"-{p}\n".encode() for p in result.deleted)
        digest = ""
        if quads:
            with target.open("rb") as fh:
                digest = hashlib.file_digest(fh, "sha256").hexdigest()
        listed.append({
            "file": target.name if quads else None,
            "pmids": f"{name}.pmids",
            "input": result.input,
            "quads": quads,
            "graphs": len(kept),
            "deleted": len(result.deleted),
            "superseded": len(stale),
            "sha256": digest or None,
        })
    return listed

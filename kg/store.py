"""The embedded store: on-disk Oxigraph stores with one named graph per article.

A store directory holds **versions**, each a whole Oxigraph store, and ``current``, a relative
symlink naming the one readers open::

    out/store/current -> v000007        the version every reader opens
    out/store/v000007/                  an Oxigraph store, its kg-applied.json, kg-readers.lock
    out/store/.kg-writer.lock           held by the one build (or fetch) writing

A build (:meth:`KgStore.writing`) makes a checkpoint of the current version (Oxigraph's
``Store.backup``: hard links, so it costs neither time nor space), applies itself to the
checkpoint, and only when it has finished, and flushed, swings ``current`` to it with one
``rename``: a reader sees the store as it was before a build or after it, never between; a
build that fails or is killed leaves ``current`` as it was. Readers hold a shared ``flock`` on
their version's ``kg-readers.lock`` while they read; a version no longer current is deleted once
no reader holds it (a later build's clean-up). Other tools open ``out/store/current``.

A store from kg before versions (an Oxigraph store in the directory itself) is read as it is;
the first build checkpoints it into a version and removes the old files once no reader holds
them.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import gzip
import io
import json
import logging
import os
import re
import shutil
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol, cast

from pyoxigraph import NamedNode, Quad, RdfFormat, Store

from kg import search as searches
from kg import summary as summaries
from kg.atomic import atomic_write
from kg.errors import StoreError, one_line

log = logging.getLogger(__name__)

#: The record of the input files applied to a store, kept inside each version's directory so
#: that it changes (and is deleted) with the data it describes.
MANIFEST = "kg-applied.json"
#: The symlink naming the version readers open.
POINTER = "current"
#: In each version: readers hold a shared lock on it, clean-up an exclusive one.
READERS = "kg-readers.lock"
#: In the store directory: held by the one command writing the store.
WRITER = ".kg-writer.lock"
#: Shards a build writes inside the store directory (removed when a later build finds them).
SHARDS_PREFIX = ".kg-shards-"
_VERSION = re.compile(r"v(\d{6,})")
#: The files of an Oxigraph (RocksDB) store, for a store from before versions.
_LEGACY = re.compile(
    r"CURRENT|IDENTITY|LOCK|LOG(\.old\.\d+)?|MANIFEST-\d+|OPTIONS-\d+|\d+\.(sst|log|blob)"
    r"|bulk-.*\.sst|" + re.escape(MANIFEST) + "|" + re.escape(READERS)
)
#: N-Quads bytes handed to the bulk loader at once (about 170,000 quads; it then holds ~150 MiB).
LOAD_BYTES = 32 << 20


@dataclass(frozen=True, slots=True)
class AppliedFile:
    """An input file applied to the store: its name, content hash and when (UTC)."""

    name: str
    sha256: str
    size: int
    applied_at: str


class KgStore:
    """Per-article upserts and deletions over one version of the store at ``path``.

    ``KgStore(path)`` opens the current version read-only and holds it until :meth:`close`:
    what it reads does not change under it, whatever builds run meanwhile. A build writes
    through :meth:`writing`.
    """

    path: Path  #: the store directory
    version: Path  #: the version directory this object reads or writes
    store: Store

    def __init__(self, path: Path) -> None:
        version, lock = _open_for_reading(path)
        try:
            self._attach(path, version, _open(version, read_only=True), lock)
        except BaseException:
            if lock is not None:
                os.close(lock)
            raise

    def _attach(self, path: Path, version: Path, store: Store, lock: int | None) -> None:
        self.path, self.version, self.store, self._lock = path, version, store, lock
        # What a build changed, for the summary (kg.summary): the graphs it emptied or wrote,
        # and the descriptors those graphs named before.
        self._graphs: set[NamedNode] = set()
        self._descriptors: set[NamedNode] = set()

    @classmethod
    @contextlib.contextmanager
    def writing(
        cls, path: Path, *, on_phase: Callable[[str], None] | None = None
    ) -> Iterator[KgStore]:
        """A new version of the store at ``path`` to write, made current when the block ends.

        It starts as a checkpoint of the current version (none: empty). If the block raises
        (or the process dies), the current version stays as it was and the new one is removed,
        by this call or the next build's clean-up. One writer at a time: another gets a
        :class:`StoreError` at once, not a wait. ``on_phase`` hears what the end of the block
        does (indexing for search, the summary), for a progress display.
        """
        phase = on_phase or (lambda _: None)
        created = not path.exists()
        try:
            path.mkdir(parents=True, exist_ok=True)
            writer = os.open(path / WRITER, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError as exc:
            raise StoreError(f"cannot write the store: {exc.strerror}", source=str(path)) from exc
        try:
            try:
                fcntl.flock(writer, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StoreError(
                    "another kg build or kg fetch is writing this store; "
                    "run this one when it has finished",
                    source=str(path),
                ) from None
            collect(path)
            new = path / f"v{_next_number(path):06d}"
            try:
                self = cls.__new__(cls)
                self._attach(path, new, _new_version(current_version(path), new), None)
            except BaseException:
                _discard(path, new, created=created)
                raise
            try:
                yield self
                phase("indexing for search")
                self.refresh_search()
                phase("summarising (co-occurrences, outcomes, studies, adverse events)")
                self.refresh_summary()
                self.flush()
            except BaseException:
                self.close()
                _discard(path, new, created=created)
                raise
            self.close()
            _switch(path, new)
            collect(path)
        finally:
            os.close(writer)

    def close(self) -> None:
        """Let go of the version (and of its readers' lock): the object is not used after."""
        self.__dict__.pop("store", None)
        self.__dict__.pop("summary", None)
        lock, self._lock = getattr(self, "_lock", None), None
        if lock is not None:
            os.close(lock)

    def __enter__(self) -> KgStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        lock = getattr(self, "_lock", None)
        if lock is not None:
            os.close(lock)

    def replace_graphs(self, graphs: dict[NamedNode, list[Quad]]) -> None:
        """Make each named graph hold exactly its quads (an upsert per article)."""
        for g in graphs:
            self.remove_graph(g)
        # bulk_extend skips per-quad transaction bookkeeping: ~10x faster than extend, and the
        # graphs it writes were emptied just above, so there is nothing to conflict with.
        self.store.bulk_extend(q for quads in graphs.values() for q in quads)

    def load_nquads(self, *paths: Path) -> None:
        """Add N-Quads files (gzip detected by its magic bytes) with Oxigraph's bulk loader.

        The bulk loader writes sorted index files directly, without per-quad transactions: the
        caller makes sure the graphs it fills were emptied first with :meth:`remove_graphs`
        (which also tells the summary which graphs change).
        Its memory grows with what one call loads (about 0.75 KiB a quad), so the files go to it
        in slices of :data:`LOAD_BYTES`, cut at line ends: memory stays flat for any file size.
        """
        files = _Concatenated(paths)
        with io.BufferedReader(files, buffer_size=1 << 20) as stream:
            while True:
                try:
                    data = stream.read(LOAD_BYTES)
                    if data and not data.endswith(b"\n"):
                        data += stream.readline()
                except OSError as exc:
                    where = str(files.current)
                    raise StoreError(f"cannot read a shard: {exc}", source=where) from exc
                if not data:
                    return
                try:
                    self.store.bulk_load(input=data, format=RdfFormat.N_QUADS)
                except SyntaxError as exc:  # a shard kg wrote, so this is no user's input
                    where = str(files.current)
                    raise StoreError(f"cannot load a shard: {exc}", source=where) from exc
                except OSError as exc:  # a full disk: "IO error: No space left on device: …"
                    raise StoreError(
                        f"cannot write the store: {one_line(str(exc))}", source=str(self.path)
                    ) from exc

    def remove_graphs(self, graphs: Iterable[NamedNode]) -> int:
        """Drop each named graph that is there; return how many were."""
        return sum(self.remove_graph(g) for g in graphs)

    def remove_graph(self, graph: NamedNode) -> bool:
        """Drop a named graph; True if it was there. Either way the graph counts as changed
        by this build (a graph loaded next was emptied here first)."""
        self._graphs.add(graph)
        if not self.store.contains_named_graph(graph):
            return False
        self._descriptors |= summaries.descriptors(self.store, graph)
        self.store.remove_graph(graph)
        return True

    def named_graphs(self) -> Iterator[NamedNode]:
        for g in self.store.named_graphs():
            if isinstance(g, NamedNode):
                yield g

    def quads(self) -> Iterable[Quad]:
        return self.store.quads_for_pattern(None, None, None, None)

    def graph_quads(self, graph: NamedNode) -> list[Quad]:
        """The quads of one named graph (none when it is not there)."""
        return list(self.store.quads_for_pattern(None, None, None, graph))

    def __len__(self) -> int:
        return len(self.store)

    @functools.cached_property
    def summary(self) -> Store | None:
        """The summary of this version (:mod:`kg.summary`), read-only; None when it has none."""
        return summaries.open_summary(self.version)

    def refresh_search(self) -> None:
        """Re-index (:mod:`kg.search`) the graphs this build changed (every graph when the
        version has no index yet). :meth:`writing` calls it before the version is made current;
        it leaves the record of changed graphs to :meth:`refresh_summary`."""
        path = searches.search_path(self.version)
        fresh = searches.index_of(self.version) is None
        if not fresh and not self._graphs:
            return
        try:
            written = searches.refresh(self.store, path, None if fresh else set(self._graphs))
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot write the search index: {one_line(str(exc))}",
                             source=str(path)) from exc
        log.info("search index: %s articles indexed (%s)", written,
                 "all" if fresh else f"{len(self._graphs)} graphs changed")

    def refresh_summary(self) -> None:
        """Bring the summary up to date with what this build changed (the whole summary when
        the version has none yet). :meth:`writing` calls it before the version is made current."""
        path = summaries.summary_path(self.version)
        fresh = not (path / "CURRENT").exists()
        if not fresh and not self._graphs:
            return
        touched = set(self._descriptors)
        for g in self._graphs:
            touched |= summaries.descriptors(self.store, g)
        try:
            written = summaries.refresh(
                self.store, Store(str(path)), None if fresh else touched
            )
        except OSError as exc:  # a full disk: "IO error: No space left on device: …"
            raise StoreError(f"cannot write the summary: {one_line(str(exc))}",
                             source=str(path)) from exc
        log.info("summary: %s rows for %s descriptors", written,
                 "all" if fresh else len(touched))
        self._graphs.clear()
        self._descriptors.clear()

    def flush(self) -> None:
        self.store.flush()

    def optimize(self) -> None:
        """Compact the store (RocksDB's full compaction). Each bulk load leaves its own sorted
        index files, and every lookup searches all of them: on 10 million quads loaded in slices
        a named question's lookups cost about 100 µs each before, 10 µs after (see the README).
        It rewrites the whole store, so it costs time in proportion to the store's size."""
        try:
            self.store.optimize()
        except OSError as exc:  # a full disk: "IO error: No space left on device: …"
            raise StoreError(f"cannot compact the store: {one_line(str(exc))}",
                             source=str(self.path)) from exc

    # --- the record of applied input files ---------------------------------------------------

    def applied_files(self) -> dict[str, AppliedFile]:
        """The input files applied to this version so far, by SHA-256."""
        return _read_manifest(self.version / MANIFEST)

    def mark_applied(self, files: Iterable[_InputFile]) -> None:
        """Add files to the record of applied files (once per SHA-256), written atomically."""
        applied = self.applied_files()
        when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for f in files:
            applied[f.sha256] = AppliedFile(
                name=f.name, sha256=f.sha256, size=f.size, applied_at=when
            )
        data = {"applied": [asdict(e) for e in applied.values()]}
        try:
            with atomic_write(self.version / MANIFEST, "w") as fh:
                json.dump(data, fh, indent=1)
                fh.write("\n")
        except OSError as exc:
            raise StoreError(f"cannot record applied files: {exc}", source=str(self.path)) from exc


def read_applied(store_path: Path) -> dict[str, AppliedFile]:
    """The record of the input files applied to the store at ``store_path``, by SHA-256;
    read without opening the store (it needs no lock)."""
    for _ in range(_TRIES):
        version = current_version(store_path)
        if version is None:
            return {}
        applied = _read_manifest(version / MANIFEST)
        if applied or current_version(store_path) == version:  # not removed meanwhile
            return applied
    return {}


def _read_manifest(path: Path) -> dict[str, AppliedFile]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = [AppliedFile(**e) for e in data["applied"]]
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StoreError(f"unreadable record of applied files: {exc}", source=str(path)) from exc
    return {e.sha256: e for e in entries}


# --- versions ------------------------------------------------------------------------------------

#: How often a reader looks again when the version it found was removed before it held it.
_TRIES = 50


def current_version(path: Path) -> Path | None:
    """The directory that readers of the store at ``path`` open now; None: no store there."""
    pointer = path / POINTER
    try:
        target = os.readlink(pointer)
    except FileNotFoundError:
        return path if (path / "CURRENT").exists() else None
    except OSError as exc:
        if exc.errno == errno.EINVAL and pointer.is_dir():  # a copy made without -a (cp -r)
            return pointer
        raise StoreError(f"unreadable {POINTER}: {exc.strerror}", source=str(path)) from exc
    if not _VERSION.fullmatch(target):
        raise StoreError(f"{POINTER} names {target!r}, not a version", source=str(path))
    return path / target


def _open_for_reading(path: Path) -> tuple[Path, int | None]:
    """The current version of ``path`` and a shared lock on it (None where the user cannot
    take one: a store from before versions, on a read-only medium, is read without)."""
    for _ in range(_TRIES):
        version = current_version(path)
        if version is None:
            raise StoreError(
                f"no store here; build one first with `kg build INPUT... --store {path}`",
                source=str(path),
            )
        lock = version / READERS
        try:
            fd = os.open(lock, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            if version != path:
                continue  # removed since ``current`` named it: look again
            try:
                fd = os.open(lock, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o666)
            except OSError:
                return version, None
        except PermissionError:
            return version, None
        fcntl.flock(fd, fcntl.LOCK_SH)
        try:
            held = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            held = False
        if held:
            return version, fd
        os.close(fd)  # removed while this waited for the lock: look again
    raise StoreError("the store changed too often while kg tried to open it", source=str(path))


def hold_version(version: Path) -> int | None:
    """A shared lock on ``version`` for a process that opens it by its path (a query worker):
    the file descriptor to keep open while reading; None where there is no lock to take (a
    store from before versions, a read-only medium)."""
    try:
        fd = os.open(version / READERS, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def _open(version: Path, *, read_only: bool) -> Store:
    try:
        return Store.read_only(str(version)) if read_only else Store(str(version))
    except OSError as exc:
        raise StoreError(f"cannot open the store: {exc}", source=str(version)) from exc
    except RuntimeError as exc:  # RocksDB's "Corruption: …", "Invalid argument: …"
        raise StoreError(
            f"not a readable Oxigraph store ({one_line(str(exc))}); "
            "rebuild it, or restore a copy",
            source=str(version),
        ) from exc


def _new_version(base: Path | None, new: Path) -> Store:
    """Open ``new`` for writing: a checkpoint of ``base`` (hard links), or empty."""
    try:
        if base is None:
            new.mkdir()
        else:
            _open(base, read_only=True).backup(str(new))
            with contextlib.suppress(FileNotFoundError):
                shutil.copyfile(base / MANIFEST, new / MANIFEST)
            with contextlib.suppress(FileNotFoundError):
                shutil.copyfile(searches.search_path(base), searches.search_path(new))
            summary = summaries.open_summary(base)
            if summary is not None:
                summary.backup(str(summaries.summary_path(new)))
        os.close(os.open(new / READERS, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o666))
    except OSError as exc:
        raise StoreError(f"cannot make a new version: {exc}", source=str(new)) from exc
    except RuntimeError as exc:
        raise StoreError(f"cannot make a new version: {one_line(str(exc))}",
                         source=str(new)) from exc
    return _open(new, read_only=False)


def _switch(path: Path, new: Path) -> None:
    """Make ``new`` the version readers open: one atomic rename of a symlink, then synced."""
    tmp = path / f".current-{os.getpid()}"
    try:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.symlink(new.name, tmp)
        pointer = path / POINTER
        if pointer.is_dir() and not pointer.is_symlink():  # a copy's: retired as a version
            os.rename(pointer, path / f"v{_next_number(path):06d}")
        os.replace(tmp, pointer)
        _sync_dir(path)
    except OSError as exc:
        raise StoreError(f"cannot switch to the new version: {exc}", source=str(path)) from exc


def _discard(path: Path, new: Path, *, created: bool) -> None:
    """After a failed build: remove its version (and the store directory it created)."""
    if created and current_version(path) is None:
        shutil.rmtree(path, ignore_errors=True)
    else:
        shutil.rmtree(new, ignore_errors=True)


def collect(path: Path) -> None:
    """Remove what no reader or writer of the store at ``path`` holds: versions no longer
    current (and unfinished ones), a killed build's shards, the files of a store from before
    versions once a version replaced it. Only the writer (who holds the store's lock) calls it.
    """
    keep = current_version(path)
    for entry in path.iterdir():
        name = entry.name
        try:
            if name.startswith((SHARDS_PREFIX, ".trash-", ".current-")):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
            elif _VERSION.fullmatch(name) and entry != keep and entry.is_dir():
                _remove_unread(path, entry)
        except OSError as exc:  # left for a later build; the store itself is whole
            log.warning("%s: cannot remove %s: %s", path, name, exc.strerror or exc)
    if keep is not None and keep != path and (path / "CURRENT").exists():
        try:
            _remove_legacy(path)
        except OSError as exc:
            log.warning("%s: cannot remove the files from before versions: %s", path, exc)


def _remove_unread(path: Path, version: Path) -> None:
    try:
        fd: int | None = os.open(version / READERS, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        fd = None  # never finished: never read
    try:
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # still read: a later build removes it
        trash = path / f".trash-{version.name}"
        os.rename(version, trash)
        shutil.rmtree(trash, ignore_errors=True)
        log.debug("removed %s", version)
    finally:
        if fd is not None:
            os.close(fd)


def _remove_legacy(path: Path) -> None:
    try:
        fd = os.open(path / READERS, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o666)
    except OSError:
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return
        for entry in path.iterdir():
            if _LEGACY.fullmatch(entry.name) and entry.is_file():
                entry.unlink(missing_ok=True)
    finally:
        os.close(fd)


def _next_number(path: Path) -> int:
    numbers = [int(m[1]) for e in path.iterdir() if (m := _VERSION.fullmatch(e.name))]
    return max(numbers, default=0) + 1


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # some file systems cannot sync a directory
            raise
    finally:
        os.close(fd)


class _InputFile(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def sha256(self) -> str: ...
    @property
    def size(self) -> int: ...


class _Concatenated(io.RawIOBase):
    """The bytes of several files one after the other, each gunzipped if it is gzip."""

    def __init__(self, paths: Iterable[Path]) -> None:
        self._paths = iter(paths)
        self._fh: IO[bytes] | None = None
        self.current: Path | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while True:
            if self._fh is None:
                self.current = next(self._paths, None)
                if self.current is None:
                    return 0
                self._fh = _open_maybe_gzip(self.current)
            n = self._fh.readinto(buffer)  # type: ignore[attr-defined]
            if n:
                return int(n)
            self._fh.close()
            self._fh = None

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        super().close()


def _open_maybe_gzip(path: Path) -> IO[bytes]:
    with path.open("rb") as fh:
        gzipped = fh.read(2) == b"\x1f\x8b"
    return cast(IO[bytes], gzip.open(path, "rb")) if gzipped else path.open("rb")

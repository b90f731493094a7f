"""The embedded store: an on-disk Oxigraph store with one named graph per article."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol, cast

from pyoxigraph import NamedNode, Quad, RdfFormat, Store

from kg.atomic import atomic_write
from kg.errors import StoreError, one_line

#: The record of the input files applied to a store, kept inside the store's directory so that
#: it goes (and is deleted) with the store it describes.
MANIFEST = "kg-applied.json"
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
    """Per-article upserts and deletions over a pyoxigraph ``Store`` at ``path``."""

    def __init__(self, path: Path, *, create: bool = True, read_only: bool = False) -> None:
        self.path = path
        if not create and not (path / "CURRENT").exists():
            raise StoreError(
                f"no store here; build one first with `kg build INPUT... --store {path}`",
                source=str(path),
            )
        try:
            if read_only:
                self.store = Store.read_only(str(path))
            else:
                path.mkdir(parents=True, exist_ok=True)
                self.store = Store(str(path))
        except OSError as exc:
            raise StoreError(f"cannot open the store: {exc}", source=str(path)) from exc
        except RuntimeError as exc:  # RocksDB's "Corruption: …", "Invalid argument: …"
            raise StoreError(
                f"not a readable Oxigraph store ({one_line(str(exc))}); "
                "rebuild it, or restore a copy",
                source=str(path),
            ) from exc

    def replace_graphs(self, graphs: dict[NamedNode, list[Quad]]) -> None:
        """Make each named graph hold exactly its quads (an upsert per article)."""
        for g in graphs:
            if self.store.contains_named_graph(g):
                self.store.remove_graph(g)
        # bulk_extend skips per-quad transaction bookkeeping: ~10x faster than extend, and the
        # graphs it writes were emptied just above, so there is nothing to conflict with.
        self.store.bulk_extend(q for quads in graphs.values() for q in quads)

    def load_nquads(self, *paths: Path) -> None:
        """Add N-Quads files (gzip detected by its magic bytes) with Oxigraph's bulk loader.

        The bulk loader writes sorted index files directly, without per-quad transactions: the
        caller makes sure the graphs it fills were emptied first (see :meth:`remove_graphs`).
        Its memory grows with what one call loads (about 0.75 KiB a quad), so the files go to it
        in slices of :data:`LOAD_BYTES`, cut at line ends: memory stays flat for any file size.
        """
        files = _Concatenated(paths)
        try:
            with io.BufferedReader(files, buffer_size=1 << 20) as stream:
                while data := stream.read(LOAD_BYTES):
                    if not data.endswith(b"\n"):
                        data += stream.readline()
                    self.store.bulk_load(input=data, format=RdfFormat.N_QUADS)
        except (OSError, SyntaxError) as exc:
            raise StoreError(f"cannot load: {exc}", source=str(files.current)) from exc

    def remove_graphs(self, graphs: Iterable[NamedNode]) -> int:
        """Drop each named graph that is there; return how many were."""
        return sum(self.remove_graph(g) for g in graphs)

    def remove_graph(self, graph: NamedNode) -> bool:
        """Drop a named graph; True if it was there."""
        if not self.store.contains_named_graph(graph):
            return False
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

    def flush(self) -> None:
        self.store.flush()

    # --- the record of applied input files ---------------------------------------------------

    def applied_files(self) -> dict[str, AppliedFile]:
        """The input files applied to this store so far, by SHA-256."""
        return read_applied(self.path)

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
            with atomic_write(self.path / MANIFEST, "w") as fh:
                json.dump(data, fh, indent=1)
                fh.write("\n")
        except OSError as exc:
            raise StoreError(f"cannot record applied files: {exc}", source=str(self.path)) from exc


def read_applied(store_path: Path) -> dict[str, AppliedFile]:
    """The record of the input files applied to the store at ``store_path``, by SHA-256;
    read without opening the store (it needs no lock)."""
    path = store_path / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = [AppliedFile(**e) for e in data["applied"]]
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StoreError(f"unreadable record of applied files: {exc}", source=str(path)) from exc
    return {e.sha256: e for e in entries}


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

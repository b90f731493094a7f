"""External sort: the sorted, unique lines of more text than memory should hold.

Lines are held up to a bounded number of bytes, sorted and written as a *run* to a scratch
directory; the runs are then merged (``heapq.merge``) into one stream in byte order with each
line once, at most ``max_fanin`` files open at a time (more runs are merged in several passes).
Build shards (:mod:`kg.shard`) and canonical dumps (:mod:`kg.export`) both sort this way.

Lines are bytes without line breaks inside (N-Triples, N-Quads); the merged stream gives each
with its ``\\n``. Byte order of the lines with or without their ``\\n`` is the same, since no
character of such a line sorts below ``\\n``.
"""

from __future__ import annotations

import contextlib
import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType

#: Bytes of lines held in memory before they are sorted and written as one run.
RUN_BYTES = 32 << 20
#: Runs merged at once (open files); more runs are merged in several passes.
MAX_FANIN = 64
_WRITE_LINES = 4096  # lines joined per write
_READ_BUFFER = 1 << 16  # bytes read at a time from each run

#: Whether a line of a run is kept when the runs are merged.
Keep = Callable[[bytes], bool]


class Runs:
    """Sorted runs in ``directory`` (``.{stem}.run00000``, …); :meth:`remove` removes them."""

    def __init__(self, directory: Path, stem: str) -> None:
        self.directory = directory
        self.stem = stem
        self.paths: list[Path] = []  # every run written, merged ones included
        self.first = 0  # runs written by :meth:`add` (the first pass)

    def _new(self) -> Path:
        path = self.directory / f".{self.stem}.run{len(self.paths):05d}"
        self.paths.append(path)
        return path

    def add(self, lines: list[bytes]) -> None:
        """Sort ``lines`` (in place; each without its ``\\n``) and write them as the next run."""
        lines.sort()
        with self._new().open("wb") as fh:
            fh.write(b"\n".join(lines))
            fh.write(b"\n")
        self.first += 1

    def merged(
        self, *, keep: Sequence[Keep | None] = (), max_fanin: int = MAX_FANIN
    ) -> Iterator[bytes]:
        """The lines of every run in byte order, each once (with its ``\\n``).

        ``keep[i]``, when given, chooses the lines of the ``i``-th run that take part. Runs
        merged in an earlier pass are removed as soon as their merge is written.
        """
        if max_fanin < 2:
            raise ValueError(f"max_fanin must be at least 2, not {max_fanin}")
        sources: list[tuple[Path, Keep | None]] = [
            (path, keep[i] if i < len(keep) else None) for i, path in enumerate(self.paths)
        ]
        while len(sources) > max_fanin:  # more runs than files to keep open: pre-merge
            group, sources = sources[:max_fanin], sources[max_fanin:]
            path = self._new()
            with path.open("wb") as fh:
                write_lines(_unique_merge(group), fh.write)
            for done, _ in group:
                done.unlink(missing_ok=True)
            sources.append((path, None))
        return _unique_merge(sources)

    def remove(self) -> None:
        """Remove every run written (those already gone are fine)."""
        for path in self.paths:
            path.unlink(missing_ok=True)


def _unique_merge(sources: list[tuple[Path, Keep | None]]) -> Iterator[bytes]:
    """The sorted union of sorted files, each line once."""
    with contextlib.ExitStack() as stack:
        streams: list[Iterable[bytes]] = []
        for path, keep in sources:
            fh = stack.enter_context(path.open("rb", buffering=_READ_BUFFER))
            streams.append(fh if keep is None else filter(keep, fh))
        previous = b""
        for line in heapq.merge(*streams):
            if line != previous:
                previous = line
                yield line


def write_lines(lines: Iterable[bytes], write: Callable[[bytes], object]) -> int:
    """Write ``lines`` through ``write``, a few thousand joined per call; return how many."""
    n = 0
    pending: list[bytes] = []
    for line in lines:
        pending.append(line)
        if len(pending) >= _WRITE_LINES:
            write(b"".join(pending))
            n += len(pending)
            pending.clear()
    write(b"".join(pending))
    return n + len(pending)


class ExternalSort:
    """A binary sink for newline-terminated lines (``write`` them in chunks of any size, e.g.
    from pyoxigraph's ``Store.dump``) that gives them back sorted and unique (:meth:`lines`).

    At most about ``run_bytes`` of text is held (twice that while a run is cut); beyond, sorted
    runs go to ``directory`` and are merged. A store that fits is sorted in memory, no file
    written. Use it as a context manager: the runs are removed on the way out, error or not.
    """

    def __init__(
        self,
        directory: Path,
        *,
        run_bytes: int = RUN_BYTES,
        max_fanin: int = MAX_FANIN,
        stem: str = "sort",
        on_lines: Callable[[int], object] | None = None,
    ) -> None:
        if run_bytes < 1:
            raise ValueError(f"run_bytes must be at least 1, not {run_bytes}")
        self.runs = Runs(directory, stem)
        self.run_bytes = run_bytes
        self.max_fanin = max_fanin
        self.on_lines = on_lines  # told how many lines each cut took in (progress)
        self._chunks: list[bytes] = []
        self._held = 0
        self._last: list[bytes] | None = None  # the lines of the final cut, while not written

    # --- the sink --------------------------------------------------------------------------

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        self._held += len(data)
        if self._held >= self.run_bytes:
            self.runs.add(self._cut(final=False))
        return len(data)

    def flush(self) -> None:
        """Nothing to do (lines go to disk only as whole sorted runs)."""

    def _cut(self, *, final: bool) -> list[bytes]:
        """The whole lines held, without their ``\\n``; a partial last line stays held."""
        data = b"".join(self._chunks)
        self._chunks.clear()
        lines = data.split(b"\n") if data else []
        del data
        rest = lines.pop() if lines else b""  # after the last line break: a partial line
        if final and rest:
            lines.append(rest)
        elif rest:
            self._chunks.append(rest)
        self._held = len(rest) if self._chunks else 0
        if self.on_lines is not None:
            self.on_lines(len(lines))
        return lines

    # --- the sorted lines ------------------------------------------------------------------

    def lines(self) -> Iterator[bytes]:
        """Every line written, in byte order, each once, with its ``\\n``."""
        last = self._cut(final=True)
        if not self.runs.paths:  # it all fitted: no file written
            last.sort()
            return _unique_in_memory(last)
        if last:
            self.runs.add(last)
        del last
        return self.runs.merged(max_fanin=self.max_fanin)

    def close(self) -> None:
        self._chunks.clear()
        self.runs.remove()

    def __enter__(self) -> ExternalSort:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _unique_in_memory(lines: list[bytes]) -> Iterator[bytes]:
    previous: bytes | None = None
    for line in lines:
        if line != previous:
            previous = line
            yield line + b"\n"

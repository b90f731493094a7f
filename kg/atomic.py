"""Writing a file so that readers see the old content or the new, never half of it.

:func:`atomic_write` is the one way kg writes a file it names: dumps (``kg export``), fetched
records (``kg fetch -o``), the record of applied files (``kg-applied.json``), publish records,
the E-utilities cache and build shards. What it does with each kind of target:

- a regular file, or none yet: the data goes to a temporary file beside it, which is flushed to
  disk and renamed over it (then the directory is synced). An existing file keeps its
  permission bits; a new one gets the user's umask (``0o666 & ~umask``, as ``open`` gives);
- a symbolic link is followed on purpose: the file it points to is replaced as above and the
  link stays a link (a dangling link creates its target, as the shell's ``>`` does);
- a character or block device, a FIFO, or a name for an open file (``/proc/…``, ``/dev/fd/N``,
  ``/dev/stdout`` — links into ``/proc``) is opened and written directly: ``/dev/null`` or a
  named pipe a reader waits on cannot be replaced by renaming, and ``/dev/stdout`` redirected to
  a file (``>>`` included) must write into that open file, not replace it;
- a directory is refused (``IsADirectoryError``);
- ``-`` is standard output.

On any exception — ``KeyboardInterrupt`` included — the temporary file is removed and the target
is left as it was.

:func:`atomic_output` is the same for bytes, gzip-compressed when the name ends ``.gz``: the one
place where kg chooses gzip by the name of what it writes.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import io
import os
import secrets
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal, cast, overload

#: Symbolic-link hops followed when looking for a link into /proc.
_MAX_HOPS = 40


@overload
def atomic_write(
    target: str | Path, mode: Literal["wb"] = ..., *, durable: bool = ...
) -> contextlib.AbstractContextManager[IO[bytes]]: ...
@overload
def atomic_write(
    target: str | Path, mode: Literal["w"], *, durable: bool = ..., encoding: str = ...
) -> contextlib.AbstractContextManager[IO[str]]: ...
def atomic_write(
    target: str | Path, mode: str = "wb", *, durable: bool = True, encoding: str = "utf-8"
) -> contextlib.AbstractContextManager[IO[Any]]:
    """A file object whose content becomes ``target`` when the ``with`` block ends without error.

    ``mode`` is ``"wb"`` or ``"w"`` (text in ``encoding``). ``durable=False`` skips the fsyncs,
    for scratch files that a crash makes worthless anyway (build shards).
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write writes in mode 'wb' or 'w', not {mode!r}")
    return _atomic_write(target, binary=mode == "wb", durable=durable, encoding=encoding)


@contextlib.contextmanager
def atomic_output(
    target: str | Path, *, durable: bool = True, compresslevel: int = 6
) -> Iterator[IO[bytes]]:
    """:func:`atomic_write` in binary mode, through gzip when ``target``'s name ends ``.gz``.

    The gzip header holds no file name and no time (``mtime=0``): the same bytes written give
    the same file. ``compresslevel`` trades time for size (1 fast … 9 small).
    """
    with atomic_write(target, durable=durable) as raw:
        if not str(target).endswith(".gz"):
            yield raw
            return
        with gzip.GzipFile(
            filename="", mode="wb", fileobj=raw, compresslevel=compresslevel, mtime=0
        ) as gz:
            yield cast(IO[bytes], gz)


@contextlib.contextmanager
def _atomic_write(
    target: str | Path, *, binary: bool, durable: bool, encoding: str
) -> Iterator[IO[Any]]:
    if str(target) == "-":
        stream: IO[Any] = sys.stdout.buffer if binary else sys.stdout
        yield stream
        stream.flush()
        return
    path = Path(target)
    kind = _kind(path)
    if kind == "directory":
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    if kind == "direct":
        own = _own_stream(path)
        if own is not None:  # /dev/stdout and the like: write where the stream is (``>>`` too)
            own.flush()
            opened: IO[Any] = os.fdopen(os.dup(own.fileno()), "wb")
        else:
            opened = open(path, "wb")  # noqa: SIM115  (closed below)
        with opened as raw, _stream(raw, binary=binary, encoding=encoding) as out:
            yield out
        return
    final = Path(os.path.realpath(path)) if path.is_symlink() else path
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        keep = stat.S_IMODE(final.stat().st_mode)
    except FileNotFoundError:
        keep = None
    fd, tmp = _create_beside(final)
    try:
        raw = os.fdopen(fd, "wb")
        with raw:
            if keep is not None:
                os.fchmod(raw.fileno(), keep)
            with _stream(raw, binary=binary, encoding=encoding) as out:
                yield out
            raw.flush()
            if durable:
                os.fsync(raw.fileno())
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable:
        _sync_dir(final.parent)


@contextlib.contextmanager
def _stream(raw: IO[bytes], *, binary: bool, encoding: str) -> Iterator[IO[Any]]:
    """``raw`` itself, or a text layer over it that is flushed and taken off (leaving ``raw``
    open) once the caller is done; after an exception nothing more is written."""
    if binary:
        yield raw
        return
    text = io.TextIOWrapper(raw, encoding=encoding)
    yield text
    text.flush()
    text.detach()


def _kind(path: Path) -> Literal["file", "direct", "directory"]:
    """How ``path`` is written: replaced atomically, written in place, or refused."""
    if _names_an_open_file(path):
        return "direct"
    try:
        mode = path.stat().st_mode  # follows a symbolic link
    except FileNotFoundError:
        return "file"  # nothing there yet (or a dangling link: its target is created)
    if stat.S_ISDIR(mode):
        return "directory"
    return "file" if stat.S_ISREG(mode) else "direct"


def _names_an_open_file(path: Path) -> bool:
    """Whether ``path`` is (or links to) one of /proc's names for an open file."""
    for _ in range(_MAX_HOPS):
        try:
            if os.path.realpath(path.parent).startswith("/proc/") or str(path).startswith("/proc/"):
                return True
            if not path.is_symlink():
                return False
            path = path.parent / os.readlink(path)
        except OSError:
            return False
    return False


def _own_stream(path: Path) -> IO[Any] | None:
    """This process's standard output or error when ``path`` names it (through /proc)."""
    if not _names_an_open_file(path):
        return None
    for stream in (sys.stdout, sys.stderr):
        try:
            if os.path.samestat(os.stat(path), os.fstat(stream.fileno())):
                return stream
        except (OSError, ValueError, AttributeError):  # no such stream, or not a real file
            continue
    return None


def _create_beside(path: Path) -> tuple[int, str]:
    """A new, empty temporary file in ``path``'s directory, created with mode 0o666 so that the
    kernel applies the umask (``mkstemp`` would make it 0o600)."""
    for _ in range(100):
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path.parent))


def _sync_dir(directory: Path) -> None:
    """Make the rename itself durable; not every file system lets a directory be synced."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

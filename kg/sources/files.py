"""Bytes in from files, pipes and standard input: gzip detected by its magic bytes, the format
sniffed from the head.

``read_file`` is the one entry point the pipeline uses: it yields the records of one input
(Article, Deletion or Problem), whatever its format, and raises :class:`InputError` for an
input that cannot be read at all (missing, a directory, unreadable, empty, not a PubMed
format). Everything is read forward only, never sought, so ``-`` (standard input), pipes and
FIFOs work like files. A gzip stream cut short gives every record that was whole before the
cut, then one fatal Problem saying where it ends.
"""

from __future__ import annotations

import io
import os
import sys
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from kg.errors import InputError, one_line
from kg.models import Article, Deletion, Problem, Record
from kg.parse import medline, pagetext, pubmed_xml

GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF16_LT = (b"<\x00", b"\x00<")  # "<" in UTF-16 LE / BE without a byte order mark
_HEAD = 4096  # bytes read to tell the format
_CHUNK = 1 << 16
STDIN = "-"  # the name that reads standard input
STDIN_SOURCE = "<stdin>"  # how messages name it

Parser = Callable[..., Iterator[Record]]


def is_stdin(path: Path) -> bool:
    """True for ``-``, the input name of standard input."""
    return str(path) == STDIN


def source_name(path: Path) -> str:
    """How messages name an input."""
    return STDIN_SOURCE if is_stdin(path) else str(path)


class _Prefixed(io.RawIOBase):
    """``head`` (bytes already read from ``rest``), then the rest of ``rest``: a look ahead
    that needs no ``seek``, so pipes and standard input can be sniffed."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._head.nbytes:
            n = min(len(b), self._head.nbytes)
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(b))
        b[: len(data)] = data
        return len(data)


class _Gunzip(io.RawIOBase):
    """gzip members decompressed as they are read, with zlib's streaming decompressor (output
    bounded per call, so memory stays flat). A stream that ends inside a member ends like a file
    and sets ``cut_at`` (the compressed bytes read): everything before the cut is read."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._z: zlib._Decompress | None = None  # the member being read
        self._input = b""  # compressed bytes not yet given to ``_z``
        self._output = memoryview(b"")
        self._done = False
        self.consumed = 0  # compressed bytes read so far
        self.cut_at: int | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._output.nbytes and not self._done:
            self._fill()
        n = min(len(b), self._output.nbytes)
        b[:n] = self._output[:n]
        self._output = self._output[n:]
        return n

    def _fill(self) -> None:
        if not self._input:
            self._input = self._raw.read(_CHUNK)
            self.consumed += len(self._input)
            if not self._input:
                if self._z is not None:  # inside a member: the stream was cut short
                    self.cut_at = self.consumed
                self._done = True
                return
        if self._z is None:
            self._input = self._input.lstrip(b"\x00")  # padding between members, as gzip allows
            if not self._input:
                return
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = self._z.decompress(self._input, _CHUNK)
        self._input = self._z.unconsumed_tail
        if self._z.eof:  # the member is complete (CRC and size checked): maybe another follows
            self._input = self._z.unused_data + self._input
            self._z = None
        self._output = memoryview(out)


def _read_up_to(fh: BinaryIO, n: int) -> bytes:
    """Up to ``n`` bytes, fewer only at the end (a pipe gives what it holds at each read)."""
    parts: list[bytes] = []
    left = n
    while left > 0:
        part = fh.read(left)
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


@contextmanager
def _open_raw(path: Path) -> Iterator[BinaryIO]:
    if is_stdin(path):
        yield sys.stdin.buffer  # not closed: it is not ours
        return
    if not path.exists():
        raise InputError("no such file", source=str(path))
    if path.is_dir():
        try:
            with os.scandir(path):
                pass
        except OSError as exc:
            raise InputError(f"cannot list the directory: {exc.strerror or exc}",
                             source=str(path)) from exc
        raise InputError("is a directory (pass its files, or use --recursive)", source=str(path))
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror or exc}", source=str(path)) from exc
    with raw:
        yield raw


@contextmanager
def open_binary(path: Path) -> Iterator[BinaryIO]:
    """Open ``path`` (``-``: standard input) for reading, transparently decompressing gzip
    (by its magic bytes, not its name). Reads forward only: pipes and FIFOs work."""
    with _open_raw(path) as raw:
        fh = _gunzip_or_not(path, raw)
        yield fh


def _gunzip_or_not(path: Path, raw: BinaryIO) -> BinaryIO:
    try:
        magic = _read_up_to(raw, 2)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", source=source_name(path)) from exc
    stream: BinaryIO = io.BufferedReader(_Prefixed(magic, raw), _CHUNK)
    if magic == GZIP_MAGIC:
        return io.BufferedReader(_Gunzip(stream), _CHUNK)
    return stream


def _gunzip_of(fh: BinaryIO) -> _Gunzip | None:
    raw = getattr(fh, "raw", None)
    return raw if isinstance(raw, _Gunzip) else None


def is_utf16(head: bytes) -> bool:
    """True when ``head`` starts UTF-16 text (a byte order mark, or ``<`` in UTF-16)."""
    return head.startswith(_UTF16_BOMS) or head.startswith(_UTF16_LT)


def sniff(head: bytes) -> tuple[str, Parser] | None:
    """Name and parser of the format whose start ``head`` is, or None."""
    if is_utf16(head):
        # lxml reads UTF-16 XML as it is; MEDLINE and page text come in UTF-8 only
        codec = "utf-16" if head.startswith(_UTF16_BOMS) else (
            "utf-16-le" if head.startswith(b"<") else "utf-16-be"
        )
        text = head.decode(codec, errors="replace").lstrip("\ufeff").lstrip()
        return ("pubmed-xml", pubmed_xml.iter_records) if text.startswith("<") else None
    text_b = head.removeprefix(_BOM).lstrip()
    if text_b.startswith(b"<"):
        return "pubmed-xml", pubmed_xml.iter_records
    if text_b.startswith(b"PMID-"):
        return "medline", medline.iter_records
    if pagetext.looks_like_page_text(head):
        return "page-text", pagetext.iter_records
    return None


def read_file(path: Path) -> Iterator[Record]:
    """Yield every record of one input (``-``: standard input); raise InputError if it cannot
    be read at all."""
    source = source_name(path)
    with open_binary(path) as fh:
        gunzip = _gunzip_of(fh)
        try:
            head = _read_up_to(fh, _HEAD)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"cannot read: {_reason(exc)}", source=source) from exc
        if gunzip is not None and gunzip.cut_at is not None and not head.strip():
            raise InputError(
                f"the gzip data is cut short (the file ends at byte {gunzip.cut_at}) before "
                "anything could be read", source=source,
            )
        if not head.strip(b" \t\r\n\x00"):
            raise InputError("file is empty", source=source)
        found = sniff(head)
        if found is None:
            raise InputError("not PubMed XML, MEDLINE text or PubMed page text", source=source)
        _name, parser = found
        body: BinaryIO = io.BufferedReader(_Prefixed(head, fh), _CHUNK)
        kept = 0
        fatal = False
        try:
            for record in parser(body, source=source):
                if isinstance(record, Problem) and record.fatal:
                    fatal = True
                    if gunzip is not None and gunzip.cut_at is not None:
                        record = Problem(
                            source=record.source, where=record.where, fatal=True,
                            message=f"{_cut(gunzip.cut_at)}; {record.message}",
                        )
                elif isinstance(record, Article | Deletion):
                    kept += 1
                yield record
        except (OSError, EOFError, zlib.error) as exc:
            # what came before the fault has been yielded already
            yield Problem(
                source=source, fatal=True,
                message=f"cannot read further: {_reason(exc)}; the {kept} records before it "
                "were kept",
            )
            return
        if gunzip is not None and gunzip.cut_at is not None and not fatal:
            yield Problem(
                source=source, fatal=True,
                message=f"{_cut(gunzip.cut_at)}; the {kept} records before the cut were kept",
            )


def _cut(at: int) -> str:
    return f"the gzip data is cut short (the file ends at byte {at}, inside a compressed stream)"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return one_line(exc.strerror)
    return one_line(str(exc) or type(exc).__name__)


RECORD_SUFFIXES = (".xml", ".xml.gz", ".gz", ".txt", ".nbib", ".medline")


def _is_record_file(path: Path) -> bool:
    return not path.name.startswith(".") and path.name.lower().endswith(RECORD_SUFFIXES)


def expand(paths: list[Path], *, recursive: bool = False) -> list[Path]:
    """The input files: ``paths`` as given; under directories (``recursive``), record files.

    A directory that cannot be listed stays in the list, so that reading it names it (a
    walk that skipped it would lose its records without a word).
    """
    files: list[Path] = []
    for p in paths:
        if recursive and p.is_dir():
            found: list[Path] = []

            def unlisted(exc: OSError) -> None:
                found.append(Path(exc.filename))  # noqa: B023 (called during this walk only)

            for root, _dirs, names in os.walk(p, onerror=unlisted):
                found.extend(
                    f for n in names if _is_record_file(f := Path(root, n)) and f.is_file()
                )
            files.extend(sorted(found))
        else:
            files.append(p)
    return files

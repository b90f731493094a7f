"""Bytes in from files: gzip detected by its magic bytes, the format sniffed from the head.

``read_file`` is the one entry point the pipeline uses: it yields the records of one input file
(Article, Deletion or Problem), whatever its format, and raises :class:`InputError` for a file
that cannot be read at all (missing, a directory, empty, not a PubMed format).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from kg.errors import InputError
from kg.models import Problem, Record
from kg.parse import medline, pagetext, pubmed_xml

GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"

Parser = Callable[..., Iterator[Record]]


@contextmanager
def open_binary(path: Path) -> Iterator[BinaryIO]:
    """Open ``path`` for reading, transparently decompressing gzip (by magic bytes, not name)."""
    if not path.exists():
        raise InputError("no such file", source=str(path))
    if path.is_dir():
        raise InputError("is a directory (pass its files, or use --recursive)", source=str(path))
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror}", source=str(path)) from exc
    try:
        magic = raw.read(2)
        raw.seek(0)
        if magic == GZIP_MAGIC:
            yield gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[misc]
        else:
            yield raw
    finally:
        raw.close()


def sniff(head: bytes) -> tuple[str, Parser] | None:
    """Name and parser of the format whose start ``head`` is, or None."""
    text = head.removeprefix(_BOM).lstrip()
    if text.startswith(b"<"):
        return "pubmed-xml", pubmed_xml.iter_records
    if text.startswith(b"PMID-"):
        return "medline", medline.iter_records
    if pagetext.looks_like_page_text(head):
        return "page-text", pagetext.iter_records
    return None


def read_file(path: Path) -> Iterator[Record]:
    """Yield every record of one input file; raise InputError if it cannot be read at all."""
    source = str(path)
    with open_binary(path) as fh:
        try:
            head = fh.peek(4096)[:4096]  # type: ignore[attr-defined]
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"cannot read: {exc}", source=source) from exc
        if not head.strip():
            raise InputError("file is empty", source=source)
        found = sniff(head)
        if found is None:
            raise InputError("not PubMed XML, MEDLINE text or PubMed page text", source=source)
        _name, parser = found
        try:
            yield from parser(fh, source=source)
        except (OSError, EOFError, zlib.error) as exc:
            # e.g. a gzip stream cut short: what came before it has been yielded already
            yield Problem(source=source, message=f"cannot read further: {exc}", fatal=True)


RECORD_SUFFIXES = (".xml", ".xml.gz", ".gz", ".txt", ".nbib", ".medline")


def _is_record_file(path: Path) -> bool:
    return not path.name.startswith(".") and path.name.lower().endswith(RECORD_SUFFIXES)


def expand(paths: list[Path], *, recursive: bool = False) -> list[Path]:
    """The input files: ``paths`` as given; under directories (``recursive``), record files."""
    files: list[Path] = []
    for p in paths:
        if recursive and p.is_dir():
            found = (f for f in p.rglob("*") if f.is_file() and _is_record_file(f))
            files.extend(sorted(found))
        else:
            files.append(p)
    return files

"""Dumps of the store in every registered format, written atomically.

N-Triples and N-Quads dumps are canonical: one statement per line, lines sorted and unique,
so the same store always gives the same bytes. Triple formats (Turtle, N-Triples) hold the
union of all named graphs; quad formats keep each article's graph.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from pyoxigraph import DefaultGraph, Quad, Triple, serialize

from kg.errors import KgError
from kg.formats import Format
from kg.rdf.namespaces import PREFIXES
from kg.store import KgStore


@contextmanager
def atomic_output(target: str | Path) -> Iterator[BinaryIO]:
    """Write to a temporary file beside ``target`` and rename it into place on success.

    ``-`` is standard output. On any error the temporary file is removed and ``target`` is
    left as it was: never a half-written dump.
    """
    if str(target) == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def canonical_lines(store: KgStore, *, quads: bool) -> list[bytes]:
    """Sorted, unique N-Quads (or N-Triples) lines of the whole store."""
    lines: set[bytes] = set()
    for q in store.quads():
        s, p, o = str(q.subject), str(q.predicate), str(q.object)
        g = q.graph_name
        if quads and not isinstance(g, DefaultGraph):
            line = f"{s} {p} {o} {g} .\n"
        else:
            line = f"{s} {p} {o} .\n"
        lines.add(line.encode("utf-8"))
    return sorted(lines)


def export(store: KgStore, target: str | Path, fmt: Format) -> int:
    """Write the store to ``target`` in ``fmt``; return the number of statements written."""
    try:
        with atomic_output(target) as out:
            if fmt.name in ("nt", "nq"):
                lines = canonical_lines(store, quads=fmt.quads)
                out.writelines(lines)
                return len(lines)
            items: list[Quad] | list[Triple]
            if fmt.quads:
                items = sorted(store.quads(), key=str)
            else:
                items = sorted({q.triple for q in store.quads()}, key=str)
            serialize(items, out, fmt.rdf_format, prefixes=_prefixes(fmt))
            return len(items)
    except OSError as exc:
        raise KgError(f"cannot write: {exc.strerror or exc}", source=str(target)) from exc


def _prefixes(fmt: Format) -> dict[str, str] | None:
    return None if fmt.name == "jsonld" else dict(PREFIXES)

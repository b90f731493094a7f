"""Dumps of the store in every registered format, written atomically.

``-o`` is handled by :func:`kg.atomic.atomic_write`: a file is replaced whole (keeping its
mode), a symbolic link's target is replaced (the link stays), a device or FIFO is written
directly, ``-`` is standard output.

N-Triples and N-Quads dumps are canonical: one statement per line, lines sorted and unique,
so the same store always gives the same bytes. Triple formats (Turtle, N-Triples) hold the
union of all named graphs; quad formats keep each article's graph.
"""

from __future__ import annotations

from pathlib import Path

from pyoxigraph import DefaultGraph, Quad, Triple, serialize

from kg.atomic import atomic_write
from kg.errors import KgError
from kg.formats import Format
from kg.rdf.namespaces import PREFIXES
from kg.store import KgStore


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
        with atomic_write(target) as out:
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

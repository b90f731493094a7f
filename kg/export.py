"""Dumps of the store in every registered format, streamed in flat memory, written atomically.

``-o`` is handled by :func:`kg.atomic.atomic_output`: a file is replaced whole (keeping its
mode), a symbolic link's target is replaced (the link stays), a device or FIFO is written
directly, ``-`` is standard output; a name ending ``.gz`` is written through gzip (the same
store gives the same bytes, compressed or not).

Every dump comes out in a canonical order, sorted by an external sort (:mod:`kg.extsort`):
the store's N-Quads (or each graph's N-Triples) go to sorted runs on disk, in a scratch
directory beside the output (or ``tmp_dir``), merged into one stream with each statement once.
Memory stays about the same whatever the size of the store.

- N-Triples and N-Quads: one statement per line, lines sorted and unique (byte order);
- Turtle and RDF/XML: the same triples, written a few hundred subjects at a time, each
  subject's triples together, the prefixes once;
- TriG: one block per named graph, graphs and triples sorted;
- JSON-LD: compacted with a ``@context`` of kg's prefixes, one object per named graph
  (``{"@context": …, "@graph": [{"@id": graph, "@graph": [nodes…]}, …]}``), one graph a line.

Triple formats (Turtle, N-Triples, RDF/XML) hold the union of all named graphs; quad formats
keep each article's graph.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    Literal,
    NamedNode,
    RdfFormat,
    Triple,
    parse,
    serialize,
)
from tqdm import tqdm

from kg.atomic import atomic_output
from kg.errors import KgError
from kg.extsort import ExternalSort, write_lines
from kg.formats import Format
from kg.rdf.namespaces import PREFIXES
from kg.store import KgStore

log = logging.getLogger(__name__)

#: Bytes of N-Quads held in memory before a sorted run goes to disk (peak about twice that).
RUN_BYTES = 8 << 20
#: Runs merged at once: a dump of 1 GB of N-Quads is merged in one pass.
MAX_FANIN = 128
#: N-Triples lines serialized at a time as Turtle or RDF/XML (then the rest of the subject).
CHUNK_LINES = 5000

_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_XML_END = b"</rdf:RDF>"
# Characters XML 1.0 cannot hold, even escaped: RDF/XML loses them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(slots=True)
class _Job:
    """What every writer needs: the store, the output, where to sort, how to show progress."""

    store: KgStore
    out: IO[bytes]
    scratch: Path
    run_bytes: int
    bar: tqdm[Any]

    def sorter(self, stem: str) -> ExternalSort:
        return ExternalSort(
            self.scratch, run_bytes=self.run_bytes, max_fanin=MAX_FANIN, stem=stem
        )

    def statements(self, *, quads: bool) -> contextlib.AbstractContextManager[Iterator[bytes]]:
        """The sorted statements (:func:`sorted_statements`); the bar counts them read, then
        starts again for writing."""
        return _phases(
            sorted_statements(
                self.store, quads=quads, directory=self.scratch, run_bytes=self.run_bytes,
                on_read=self.bar.update,
            ),
            self.bar,
        )


def export(
    store: KgStore,
    target: str | Path,
    fmt: Format,
    *,
    run_bytes: int = RUN_BYTES,
    tmp_dir: Path | None = None,
    progress: bool | None = None,
) -> int:
    """Write the store to ``target`` in ``fmt``; return the number of statements written.

    ``run_bytes`` bounds the text held in memory while sorting; the sorted runs go to
    ``tmp_dir`` (default: beside ``target``, or ``TMPDIR`` for standard output and devices).
    ``progress`` shows a progress bar on standard error (default: when it is a terminal).
    """
    if progress is None:
        progress = sys.stderr.isatty()
    writer = _WRITERS.get(fmt.name)
    if writer is None:
        raise KgError(f"no export writer for format {fmt.name!r}")
    try:
        with (
            atomic_output(target) as out,
            _scratch(target, tmp_dir) as scratch,
            tqdm(
                total=len(store) if progress else None, unit=" quads", unit_scale=True,
                desc=f"export {fmt.name}", disable=not progress, file=sys.stderr, leave=False,
            ) as bar,
        ):
            return writer(_Job(store, out, scratch, run_bytes, bar))
    except OSError as exc:
        raise KgError(f"cannot write: {exc.strerror or exc}", source=str(target)) from exc


@contextlib.contextmanager
def _scratch(target: str | Path, tmp_dir: Path | None) -> Iterator[Path]:
    """A scratch directory for sorted runs, removed afterwards: in ``tmp_dir`` if given, else
    beside a regular output file (the disk the user chose for the dump), else in TMPDIR."""
    where: str | None = str(tmp_dir) if tmp_dir is not None else None
    if where is None and str(target) != "-":
        path = Path(os.path.realpath(target))
        if not path.exists() or path.is_file():
            where = str(path.parent)
    with tempfile.TemporaryDirectory(prefix=".kg-export-", dir=where) as name:
        yield Path(name)


# --- the canonical statements ---------------------------------------------------------------


@contextlib.contextmanager
def sorted_statements(
    store: KgStore,
    *,
    quads: bool,
    directory: Path,
    run_bytes: int = RUN_BYTES,
    max_fanin: int = MAX_FANIN,
    on_read: Callable[[int], object] | None = None,
) -> Iterator[Iterator[bytes]]:
    """The store's N-Quads (``quads``) or N-Triples lines (the union of its graphs), sorted in
    byte order, each once, with their ``\\n``: the canonical dump, in bounded memory.

    Runs go to ``directory``, merged ``max_fanin`` at a time, and are removed when the block
    ends.
    """
    with ExternalSort(
        directory, run_bytes=run_bytes, max_fanin=max_fanin, stem="statements", on_lines=on_read
    ) as sort:
        sink = cast(IO[bytes], sort)  # a binary sink: ``write`` and ``flush``
        if quads:
            store.store.dump(sink, RdfFormat.N_QUADS)
        else:
            for graph in _graphs(store):
                store.store.dump(sink, RdfFormat.N_TRIPLES, from_graph=graph)
        yield sort.lines()


def _graphs(store: KgStore) -> Iterator[NamedNode | BlankNode | DefaultGraph]:
    yield DefaultGraph()
    yield from store.store.named_graphs()


def _sorted_graphs(job: _Job) -> Iterator[NamedNode | BlankNode | DefaultGraph]:
    """The default graph (when it holds anything), then the named graphs in byte order of
    their N-Triples terms (sorted on disk: there may be tens of millions)."""
    default = job.store.store.quads_for_pattern(None, None, None, DefaultGraph())
    if next(iter(default), None) is not None:
        yield DefaultGraph()
    with job.sorter("graphs") as sort:
        for graph in job.store.store.named_graphs():
            sort.write(f"{graph}\n".encode())
        for line in sort.lines():
            term = line[:-1].decode()
            yield BlankNode(term[2:]) if term.startswith("_:") else NamedNode(term[1:-1])


def _graph_lines(job: _Job, graph: NamedNode | BlankNode | DefaultGraph) -> list[bytes]:
    """One graph's N-Triples lines, sorted (a graph is one article: it fits in memory)."""
    text = job.store.store.dump(format=RdfFormat.N_TRIPLES, from_graph=graph) or b""
    return sorted(text.splitlines(keepends=True))


@contextlib.contextmanager
def _phases(
    statements: contextlib.AbstractContextManager[Iterator[bytes]], bar: tqdm[Any]
) -> Iterator[Iterator[bytes]]:
    if bar.disable:
        with statements as lines:
            yield lines
        return
    desc = bar.desc
    bar.set_description(f"{desc}: sorting", refresh=False)
    with statements as lines:
        bar.set_description(f"{desc}: writing", refresh=False)
        bar.reset(total=bar.total)
        yield lines


# --- writers, one per format ----------------------------------------------------------------


def _lines(job: _Job, *, quads: bool) -> int:
    bar = job.bar

    def write(data: bytes) -> None:
        job.out.write(data)
        bar.update(data.count(b"\n"))

    with job.statements(quads=quads) as lines:
        return write_lines(lines, write)


def _turtle(job: _Job) -> int:
    job.out.write(_prefix_lines())
    n = 0
    with job.statements(quads=False) as lines:
        for chunk in _subject_chunks(lines):
            job.out.write(_turtle_body(chunk))
            n += len(chunk)
            job.bar.update(len(chunk))
    return n


def _trig(job: _Job) -> int:
    job.out.write(_prefix_lines())
    n = 0
    for graph in _sorted_graphs(job):
        lines = _graph_lines(job, graph)
        body = _turtle_body(lines)
        if isinstance(graph, DefaultGraph):
            job.out.write(body)
        else:
            job.out.write(b"%s {\n%s}\n" % (str(graph).encode(), body))
        n += len(lines)
        job.bar.update(len(lines))
    return n


def _rdf_xml(job: _Job) -> int:
    head = _rdf_xml_head()
    job.out.write(head)
    n = lost = 0
    with job.statements(quads=False) as lines:
        for chunk in _subject_chunks(lines):
            triples = list(_parse_lines(chunk))
            lost += sum(
                1 for t in triples
                if isinstance(t.object, Literal) and _NOT_XML.search(t.object.value)
            )
            try:
                text = serialize(triples, format=RdfFormat.RDF_XML, prefixes=PREFIXES) or b""
            except ValueError as exc:  # a predicate IRI that is no XML name
                raise KgError(f"cannot be written as RDF/XML: {exc}") from exc
            if not (text.startswith(head) and text.endswith(_RDF_XML_END)):
                raise KgError("RDF/XML serializer wrote an unexpected document frame")
            job.out.write(text[len(head) : -len(_RDF_XML_END)])
            n += len(chunk)
            job.bar.update(len(chunk))
    job.out.write(_RDF_XML_END + b"\n")
    if lost:
        log.warning(
            "%d literals hold characters XML 1.0 cannot represent (control characters): "
            "RDF/XML leaves those characters out; N-Triples, N-Quads and Turtle keep them", lost
        )
    return n


def _jsonld(job: _Job) -> int:
    context = {name: iri for name, iri in PREFIXES.items() if iri[-1:] in _GEN_DELIMS}
    compact = _Compactor(context)
    job.out.write(b'{"@context": %s,\n"@graph": [' % _json(context))
    n = 0
    first = True
    for graph in _sorted_graphs(job):
        lines = _graph_lines(job, graph)
        nodes = _jsonld_nodes(_parse_lines(lines), compact)
        items: list[dict[str, Any]]
        if isinstance(graph, DefaultGraph):
            items = nodes
        else:
            items = [{"@id": _node_id(graph, compact), "@graph": nodes}]
        for item in items:
            job.out.write(b"%s\n%s" % (b"" if first else b",", _json(item)))
            first = False
        n += len(lines)
        job.bar.update(len(lines))
    job.out.write(b"\n]}\n")
    return n


_WRITERS: dict[str, Callable[[_Job], int]] = {
    "nq": lambda job: _lines(job, quads=True),
    "nt": lambda job: _lines(job, quads=False),
    "ttl": _turtle,
    "trig": _trig,
    "rdfxml": _rdf_xml,
    "jsonld": _jsonld,
}


# --- helpers of the writers -----------------------------------------------------------------


def _subject_chunks(lines: Iterable[bytes], size: int = CHUNK_LINES) -> Iterator[list[bytes]]:
    """Sorted N-Triples lines in lists of about ``size`` lines, never splitting a subject."""
    chunk: list[bytes] = []
    it = iter(lines)
    for line in it:
        chunk.append(line)
        if len(chunk) < size:
            continue
        head = line[: line.index(b" ") + 1]  # the subject and its space
        after = None
        for after in it:  # the rest of this subject's lines
            if not after.startswith(head):
                break
            chunk.append(after)
        else:
            after = None
        yield chunk
        chunk = [] if after is None else [after]
    if chunk:
        yield chunk


def _parse_lines(lines: list[bytes]) -> Iterator[Triple]:
    return parse(b"".join(lines), format=RdfFormat.N_TRIPLES)


def _prefix_lines() -> bytes:
    return "".join(f"@prefix {name}: <{iri}> .\n" for name, iri in PREFIXES.items()).encode()


def _turtle_body(lines: list[bytes]) -> bytes:
    """Sorted N-Triples lines as Turtle statements (prefixed names, ``;`` and ``,``), without
    the ``@prefix`` lines (written once at the top)."""
    if not lines:
        return b""
    text = serialize(_parse_lines(lines), format=RdfFormat.TURTLE, prefixes=PREFIXES) or b""
    start = 0
    while text.startswith(b"@prefix ", start):
        start = text.index(b"\n", start) + 1
    return text[start:] if start else text


def _rdf_xml_head() -> bytes:
    empty = serialize([], format=RdfFormat.RDF_XML, prefixes=PREFIXES) or b""
    if not empty.endswith(_RDF_XML_END):
        raise KgError("RDF/XML serializer wrote an unexpected document frame")
    return empty[: -len(_RDF_XML_END)]


# JSON-LD: a compact IRI ``prefix:local`` expands only when the prefix's IRI ends with one of
# these (a JSON-LD 1.1 "prefix" term) and ``local`` does not begin with ``//``.
_GEN_DELIMS = frozenset(":/?#[]@")


class _Compactor:
    """IRI → ``prefix:local`` with the longest namespace of the context that fits."""

    def __init__(self, context: dict[str, str]) -> None:
        self._by_length = sorted(context.items(), key=lambda item: -len(item[1]))
        self._cache: dict[str, str] = {}

    def __call__(self, iri: str) -> str:
        found = self._cache.get(iri)
        if found is None:
            found = iri
            for name, ns in self._by_length:
                if iri.startswith(ns) and not iri.startswith("//", len(ns)):
                    found = f"{name}:{iri[len(ns):]}"
                    break
            if len(self._cache) < 100_000:  # predicates, classes, datatypes: a few hundred
                self._cache[iri] = found
        return found


def _node_id(term: Any, compact: _Compactor) -> str:
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    return compact(term.value)


def _jsonld_nodes(triples: Iterable[Triple], compact: _Compactor) -> list[dict[str, Any]]:
    """Node objects, one per subject, in the order of the (sorted) triples."""
    nodes: dict[str, dict[str, Any]] = {}
    for t in triples:
        subject = _node_id(t.subject, compact)
        node = nodes.get(subject)
        if node is None:
            node = nodes[subject] = {"@id": subject}
        o = t.object
        if t.predicate.value == _RDF_TYPE and isinstance(o, NamedNode):
            node.setdefault("@type", []).append(compact(o.value))
            continue
        value: Any
        if isinstance(o, Literal):
            dt = o.datatype.value
            if o.language:
                value = {"@value": o.value, "@language": o.language}
            elif dt == _XSD_STRING:
                value = o.value
            else:
                value = {"@value": o.value, "@type": compact(dt)}
        else:
            value = {"@id": _node_id(o, compact)}
        node.setdefault(compact(t.predicate.value), []).append(value)
    for node in nodes.values():
        for key, values in node.items():
            if key != "@id" and len(values) == 1:
                node[key] = values[0]
    return list(nodes.values())


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


"""SHACL validation of kg's graphs into a :class:`ValidationReport`.

The shapes in ``shapes/`` are checked one article at a time (its named graph), the metadata
graph on its own, in parallel over the machine's cores: each unit is a few hundred triples, so
pySHACL answers fast, and a fault names its article. A triple dump (Turtle, N-Triples) has lost
its graphs; it is cut into units by following each article's links.

MeSH terms: SHACL cannot ask kg's MeSH table, so each unit gets, for validation only, the triple
``<mesh IRI> a kg:KnownMeshTerm`` for every MeSH IRI it uses that
``MeshTable.default().is_known()``. They are added to the unit's own (throw-away) data graph
rather than passed as pySHACL's ``ont_graph``: the effect is the same, without pySHACL cloning
the data graph to mix them in, and it works with any engine. Such triples already in the input
are dropped first: the data cannot vouch for itself.

Severities: a ``sh:Violation`` makes the data non-conforming; ``sh:Warning`` (numbers the
abstract itself gets wrong, recorded in ``kg:conflict``) and ``sh:Info`` (NLM headings missing
from kg's MeSH table) are reported but do not, unless ``fail_on`` says so.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from typing import Literal as TypingLiteral

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH, XSD
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import Node

from kg.errors import InputError, UsageError, WorkerError
from kg.formats import format_for_path
from kg.mesh import MeshTable
from kg.rdf.iris import is_mesh_ui
from kg.rdf.namespaces import PREFIXES

log = logging.getLogger(__name__)

#: The shapes shipped in the repository (``shapes/*.ttl``).
SHAPES_DIR = Path(__file__).resolve().parent.parent / "shapes"

Severity = TypingLiteral["Violation", "Warning", "Info"]
Engine = TypingLiteral["pyshacl", "turbo", "sparql"]
SEVERITIES: tuple[Severity, ...] = ("Violation", "Warning", "Info")
ENGINES: tuple[Engine, ...] = ("pyshacl", "turbo", "sparql")

KG = Namespace(PREFIXES["kg"])
FABIO = Namespace(PREFIXES["fabio"])
KNOWN_MESH_TERM = KG.KnownMeshTerm
_MESH = "http://id.nlm.nih.gov/mesh/"
_XSD_STRING = str(XSD.string)
_ARTICLE_CLASSES = frozenset({str(FABIO.JournalArticle), str(FABIO.BookChapter)})
_GRAPH_PMID = re.compile(r"/pubmed/([1-9][0-9]{0,9})$")
_OX_TYPE = ox.NamedNode(str(RDF.type))
_OX_PMID = ox.NamedNode(str(FABIO.hasPubMedId))
_OX_KNOWN = ox.NamedNode(str(KNOWN_MESH_TERM))


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """One finding, in plain words, with the article it belongs to.

    ``shape`` is the IRI of the shape that failed (for a property shape written inline, the
    node shape holding it); ``constraint`` the SPARQL constraint's IRI or the SHACL component
    ("minCount", "pattern"…); terms are IRIs or literal values as strings.
    """

    pmid: str | None
    graph: str | None
    shape: str
    constraint: str
    focus: str
    path: str | None
    value: str | None
    severity: Severity
    message: str

    def __str__(self) -> str:
        where = f"PMID {self.pmid}" if self.pmid else (self.graph or "data")
        path = f" {compact(self.path)}" if self.path else ""
        value = f" = {self.value!r}" if self.value is not None and self.value != self.focus else ""
        return (
            f"{where}: {self.severity}: {compact(self.shape)}: <{self.focus}>{path}{value}: "
            f"{self.message}"
        )


@dataclass
class ValidationReport:
    """What validation found: ``conforms`` is False when a result reaches ``fail_on``."""

    conforms: bool
    results: list[ValidationResult]
    graph: Graph  # the SHACL report: one sh:ValidationReport with every sh:result
    units: int = 0  # graphs (or pieces of a triple dump) validated
    triples: int = 0  # data triples validated
    fail_on: Severity = "Violation"
    articles: set[str] = field(default_factory=set)  # PMIDs validated

    def count(self, severity: Severity) -> int:
        return sum(1 for r in self.results if r.severity == severity)

    def failing(self) -> list[ValidationResult]:
        """The results that make the data non-conforming."""
        return [r for r in self.results if _at_least(r.severity, self.fail_on)]


def _at_least(severity: Severity, threshold: Severity) -> bool:
    return SEVERITIES.index(severity) <= SEVERITIES.index(threshold)


def compact(iri: str) -> str:
    """``kg:count`` for a term of a known namespace (kgsh: for the shapes), else the IRI."""
    for prefix, ns in _COMPACT:
        if iri.startswith(ns) and re.fullmatch(r"[\w.-]*", iri[len(ns) :]):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


_COMPACT = (("kgsh", "https://w3id.org/kg/shapes#"), *PREFIXES.items())


# --- shapes --------------------------------------------------------------------------------------


def load_shapes(directory: Path | None = None) -> Graph:
    """Every ``*.ttl`` under ``directory`` (default :data:`SHAPES_DIR`) as one shapes graph."""
    directory = directory or SHAPES_DIR
    files = sorted(directory.glob("*.ttl")) if directory.is_dir() else []
    if not files:
        raise InputError("no shapes (*.ttl) here", source=str(directory))
    graph = Graph()
    for path in files:
        try:
            graph.parse(path, format="turtle")
        except Exception as exc:  # rdflib raises many kinds for bad Turtle
            raise InputError(f"cannot parse shapes: {exc}", source=str(path)) from exc
    return graph


def _shape_names(shapes: Graph) -> dict[Node, str]:
    """Inline (blank) property shapes → the IRI of the node shape that holds them."""
    names: dict[Node, str] = {}
    for parent, prop in shapes.subject_objects(SH.property):
        if isinstance(prop, BNode) and isinstance(parent, URIRef):
            names[prop] = str(parent)
    return names


# --- data ----------------------------------------------------------------------------------------


def load_files(paths: Sequence[Path]) -> ox.Store:
    """RDF dumps (ttl, nt, nq, trig, jsonld; gzip or not) in one in-memory store."""
    import gzip

    store = ox.Store()
    for path in paths:
        fmt = format_for_path(path)
        if fmt is None:
            raise InputError(
                "not an RDF dump kg reads (ttl, nt, nq, trig, jsonld)", source=str(path)
            )
        try:
            data = path.read_bytes()
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            store.bulk_load(data, fmt.rdf_format)
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", source=str(path)) from exc
        except (SyntaxError, ValueError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(f"cannot parse as {fmt.name}: {first}", source=str(path)) from exc
    return store


@dataclass(frozen=True, slots=True)
class _Unit:
    """What one validation call sees: a graph's triples as N-Triples."""

    key: str  # the graph IRI, or "default#n" for a piece of the default graph
    pmid: str | None
    data: bytes
    triples: int


def _units(store: ox.Store, *, per_article: bool) -> Iterator[_Unit]:
    """The store cut into units: each named graph, and the default graph by article."""
    if not per_article:
        union = {q.triple for q in store.quads_for_pattern(None, None, None, None)}
        yield _unit("all", None, union)
        return
    for graph in sorted(store.named_graphs(), key=str):
        triples = [q.triple for q in store.quads_for_pattern(None, None, None, graph)]
        key = graph.value if isinstance(graph, ox.NamedNode) else str(graph)
        yield _unit(key, _pmid_of(triples, key), triples)
    default = [q.triple for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())]
    if default:
        yield from _split_default(default)


def _unit(key: str, pmid: str | None, triples: Iterable[ox.Triple]) -> _Unit:
    listed = list(triples)
    data = ox.serialize(listed, format=ox.RdfFormat.N_TRIPLES) or b""
    return _Unit(key=key, pmid=pmid, data=data, triples=len(listed))


def _articles(triples: Iterable[ox.Triple]) -> dict[ox.NamedNode, str | None]:
    """Article nodes (fabio:JournalArticle/BookChapter) → their PMID."""
    typed = {
        t.subject
        for t in triples
        if t.predicate == _OX_TYPE
        and isinstance(t.object, ox.NamedNode)
        and t.object.value in _ARTICLE_CLASSES
        and isinstance(t.subject, ox.NamedNode)
    }
    pmids: dict[ox.NamedNode, str | None] = dict.fromkeys(typed)
    for t in triples:
        subject = t.subject
        if (
            t.predicate == _OX_PMID
            and isinstance(subject, ox.NamedNode)
            and subject in pmids
            and isinstance(t.object, ox.Literal)
        ):
            pmids[subject] = t.object.value
    return pmids


def _pmid_of(triples: list[ox.Triple], key: str) -> str | None:
    found = {p for p in _articles(triples).values() if p}
    if len(found) == 1:
        return found.pop()
    m = _GRAPH_PMID.search(key)
    return m.group(1) if m else None


def _split_default(triples: list[ox.Triple]) -> Iterator[_Unit]:
    """A graph without named graphs, cut into one unit per article and one for the rest.

    Each article's unit holds what can be reached from it by following links, without
    entering another article; what no article reaches (the metadata) is the last unit.
    """
    by_subject: dict[Any, list[ox.Triple]] = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)
    articles = _articles(triples)
    seen: set[Any] = set()
    for n, (article, pmid) in enumerate(sorted(articles.items(), key=lambda a: a[0].value)):
        unit: list[ox.Triple] = []
        reached: set[Any] = {article}
        todo: list[Any] = [article]
        while todo:
            node = todo.pop()
            for t in by_subject.get(node, ()):
                unit.append(t)
                o = t.object
                if (
                    isinstance(o, ox.NamedNode | ox.BlankNode)
                    and o not in reached
                    and o not in articles
                ):
                    reached.add(o)
                    todo.append(o)
        seen |= reached
        yield _unit(f"default#{n + 1}", pmid, unit)
    rest = [t for s, ts in by_subject.items() if s not in seen for t in ts]
    if rest:
        yield _unit("default#rest", None, rest)


# --- one unit ------------------------------------------------------------------------------------


def rdflib_term(term: Any) -> Node:
    """A pyoxigraph term as the rdflib term pySHACL reads."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    if datatype == _XSD_STRING:
        return Literal(term.value)
    return Literal(term.value, datatype=URIRef(datatype))


def _known_mesh(triples: list[ox.Triple], table: MeshTable) -> list[ox.Triple]:
    """``<mesh IRI> a kg:KnownMeshTerm`` for each MeSH IRI used that the table knows."""
    iris = {
        term.value
        for t in triples
        for term in (t.subject, t.object)
        if isinstance(term, ox.NamedNode) and term.value.startswith(_MESH)
    }
    return [
        ox.Triple(ox.NamedNode(iri), _OX_TYPE, _OX_KNOWN)
        for iri in sorted(iris)
        if is_mesh_ui(ui := iri[len(_MESH) :]) and table.is_known(ui)
    ]


def _data_triples(unit: _Unit, table: MeshTable) -> list[ox.Triple]:
    triples = [
        t
        for t in ox.parse(unit.data, format=ox.RdfFormat.N_TRIPLES)
        if not (t.predicate == _OX_TYPE and t.object == _OX_KNOWN)
    ]
    return triples + _known_mesh(triples, table)


class _PreparedQueryGraph(Graph):
    """A graph that parses each SPARQL text once per process.

    pySHACL hands rdflib the same query text for every focus node, and rdflib parses it anew
    each time (~0.1 s a query): over 90% of the time of a per-article validation.
    """

    _prepared: ClassVar[dict[str, Query]] = {}

    def query(self, query_object: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(query_object, str):
            prepared = self._prepared.get(query_object)
            if prepared is None:
                prepared = self._prepared[query_object] = prepareQuery(query_object)
            query_object = prepared
        return super().query(query_object, *args, **kwargs)


class _Checker:
    """Validates units with one engine; built once per process."""

    def __init__(self, shapes: Graph, engine: Engine) -> None:
        self.shapes = shapes
        self.engine = engine
        self.names = _shape_names(shapes)
        self.table = MeshTable.default()
        self._turbo: Any = None
        if engine == "turbo":
            try:
                import pyshacl_turbo
            except ImportError as exc:
                raise UsageError(
                    "the turbo engine needs the optional package pyshacl-turbo "
                    "(pip install pyshacl-turbo)"
                ) from exc
            self._turbo = pyshacl_turbo.compile_shapes(shapes)
        else:
            from pyshacl.monkey import apply_patches
            from pyshacl.shapes_graph import ShapesGraph
            from pyshacl.validator import assign_baked_in

            apply_patches()
            assign_baked_in()
            self._shapes_graph = ShapesGraph(shapes)

    def _pyshacl(self, data: Graph) -> tuple[bool, Any, str]:
        """``pyshacl.validate(data, shacl_graph=shapes, allow_warnings=True, inplace=True)``.

        The same, less ~20 ms a call: the shapes are read once (pySHACL's ShapesGraph keeps
        the shapes it harvested), not at each call.
        """
        from pyshacl.graph_abstraction import DataGraph
        from pyshacl.validator import Validator

        options = {"inference": "none", "allow_warnings": True, "inplace": True}
        validator = Validator(DataGraph.from_rdflib(data), shacl_graph=self.shapes, options=options)
        validator.shacl_graph = self._shapes_graph
        return validator.run()  # type: ignore[no-any-return]

    def check(self, unit: _Unit) -> tuple[list[ValidationResult], bytes]:
        """The unit's results and its SHACL report graph as N-Triples."""
        triples = _data_triples(unit, self.table)
        data = _PreparedQueryGraph()
        for t in triples:
            data.add((rdflib_term(t.subject), rdflib_term(t.predicate), rdflib_term(t.object)))
        if self._turbo is not None:
            _conforms, report, _text = self._turbo.validate(data, allow_warnings=True)
        else:
            _conforms, report, _text = self._pyshacl(data)
        if not isinstance(report, Graph):
            raise InputError(f"validation failed: {report}", source=unit.key)
        results = _results(report, unit, self.names)
        return results, report.serialize(format="nt", encoding="utf-8") if results else b""


def _results(report: Graph, unit: _Unit, names: dict[Node, str]) -> list[ValidationResult]:
    out = []
    for node in report.objects(None, SH.result):
        shape = report.value(node, SH.sourceShape)
        constraint = report.value(node, SH.sourceConstraint)
        component = report.value(node, SH.sourceConstraintComponent)
        severity = report.value(node, SH.resultSeverity)
        value = report.value(node, SH.value)
        messages = sorted(str(m) for m in report.objects(node, SH.resultMessage))
        out.append(
            ValidationResult(
                pmid=unit.pmid,
                graph=None if unit.key.startswith("default#") or unit.key == "all" else unit.key,
                shape=names.get(shape, str(shape)) if shape is not None else "",
                constraint=(
                    str(constraint)
                    if isinstance(constraint, URIRef)
                    else _component_name(component)
                ),
                focus=str(report.value(node, SH.focusNode)),
                path=_path_text(report, report.value(node, SH.resultPath)),
                value=None if value is None else str(value),
                severity=_severity(severity),
                message=messages[0] if messages else "",
            )
        )
    out.sort(key=lambda r: (r.focus, r.shape, r.path or "", r.value or "", r.message))
    return out


def _component_name(component: Node | None) -> str:
    name = str(component or "").rsplit("#", 1)[-1].removesuffix("ConstraintComponent")
    return name.lower() if name.isupper() else name[:1].lower() + name[1:]  # sparql, minCount


def _severity(node: Node | None) -> Severity:
    name = str(node or SH.Violation).rsplit("#", 1)[-1]
    return next((s for s in SEVERITIES if s == name), "Violation")


def _path_text(graph: Graph, path: Node | None) -> str | None:
    """A property path as text: an IRI, ``^iri`` for an inverse path, ``a|b`` for alternatives."""
    if path is None:
        return None
    if isinstance(path, URIRef):
        return str(path)
    inverse = graph.value(path, SH.inversePath)
    if inverse is not None:
        return "^" + (_path_text(graph, inverse) or "?")
    alternatives = graph.value(path, SH.alternativePath)
    if alternatives is not None:
        return "|".join(_path_text(graph, p) or "?" for p in Collection(graph, alternatives))
    return str(path)


# --- many units, in parallel ---------------------------------------------------------------------

_WORKER: _Checker | None = None


def _init_worker(shapes_ttl: bytes, engine: Engine) -> None:
    global _WORKER
    shapes = Graph()
    shapes.parse(data=shapes_ttl, format="turtle")
    _WORKER = _Checker(shapes, engine)


def _check_chunk(units: list[_Unit]) -> list[tuple[list[ValidationResult], bytes]]:
    assert _WORKER is not None, "worker not initialised"
    return [_WORKER.check(unit) for unit in units]


def validate(
    store: ox.Store | Any,
    *,
    shapes: Path | Graph | None = None,
    workers: int | None = None,
    per_article: bool = True,
    engine: Engine = "sparql",
    fail_on: Severity = "Violation",
    chunk_size: int = 20,
    on_unit: Callable[[], None] | None = None,
) -> ValidationReport:
    """Validate every graph of ``store`` (a pyoxigraph Store or a :class:`kg.store.KgStore`).

    ``shapes``: a directory of Turtle files or a parsed graph (default: ``shapes/``).
    ``workers``: processes (default: every core; 1 validates here, without a pool).
    ``per_article``: False validates the union of all graphs in one call (for comparison).
    ``engine``: "sparql" (the shapes compiled to SPARQL over all graphs at once: pySHACL's
    results, faster; see :mod:`kg.validate_sparql`), "pyshacl" (the reference), or "turbo"
    (the optional pyshacl-turbo package).
    """
    ox_store: ox.Store = getattr(store, "store", store)
    shapes_graph = shapes if isinstance(shapes, Graph) else load_shapes(shapes)
    workers = max(1, workers or os.cpu_count() or 1)
    if engine == "sparql":
        from kg.validate_sparql import validate_sparql

        version = getattr(store, "version", None)
        return validate_sparql(  # type: ignore[no-any-return]
            ox_store, shapes_graph, location=str(version) if version else None, workers=workers,
            per_article=per_article, fail_on=fail_on, on_unit=on_unit,
        )
    units = _units(ox_store, per_article=per_article)
    merged: list[tuple[_Unit, list[ValidationResult], bytes]] = []
    if workers == 1:
        checker = _Checker(shapes_graph, engine)
        for unit in units:
            results, report = checker.check(unit)
            merged.append((_strip(unit), results, report))
            if on_unit is not None:
                on_unit()
    else:
        merged = _run_pool(units, shapes_graph, engine, workers, chunk_size, on_unit)
    return _report(merged, fail_on=fail_on)


def _strip(unit: _Unit) -> _Unit:
    return _Unit(key=unit.key, pmid=unit.pmid, data=b"", triples=unit.triples)


def _run_pool(
    units: Iterator[_Unit],
    shapes: Graph,
    engine: Engine,
    workers: int,
    chunk_size: int,
    on_unit: Callable[[], None] | None,
) -> list[tuple[_Unit, list[ValidationResult], bytes]]:
    # forkserver, not fork: the parent holds an open store and its threads; and not spawn,
    # which would run the caller's __main__ again in every worker
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["kg.validate"])
    shapes_ttl = shapes.serialize(format="turtle", encoding="utf-8")
    out: list[tuple[_Unit, list[ValidationResult], bytes]] = []
    pending: list[tuple[list[_Unit], Future[list[tuple[list[ValidationResult], bytes]]]]] = []

    def collect(block: bool) -> None:
        while pending and (block or pending[0][1].done()):
            chunk, future = pending.pop(0)
            for unit, (results, report) in zip(chunk, future.result(), strict=True):
                out.append((_strip(unit), results, report))
                if on_unit is not None:
                    on_unit()

    with worker_deaths(), ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(shapes_ttl, engine),
    ) as pool:
        while chunk := list(itertools.islice(units, chunk_size)):
            pending.append((chunk, pool.submit(_check_chunk, chunk)))
            if len(pending) >= 4 * workers:
                collect(block=True)
            collect(block=False)
        collect(block=True)
    return out


#: What a validation whose worker process died says (no partial report: it would read as valid).
WORKER_DIED = (
    "a validation worker process died (killed, or out of memory?); no report: "
    "validate again, with fewer --workers if memory is short"
)


@contextlib.contextmanager
def worker_deaths() -> Iterator[None]:
    """A worker process that died inside the block (kill -9, the OOM killer) → one
    :class:`WorkerError`: its part of the work is lost, so no report is made."""
    try:
        yield
    except BrokenExecutor as exc:
        raise WorkerError(WORKER_DIED) from exc
    except BrokenPipeError:  # a worker died as work was handed to it (not our output: no 141)
        raise WorkerError(WORKER_DIED) from None


def _report(
    merged: list[tuple[_Unit, list[ValidationResult], bytes]], *, fail_on: Severity
) -> ValidationReport:
    results = [r for _, rs, _ in merged for r in rs]
    conforms = not any(_at_least(r.severity, fail_on) for r in results)
    graph = Graph(bind_namespaces="core")
    graph.bind("sh", SH)
    for prefix, ns in _COMPACT:
        graph.bind(prefix, ns)
    root = BNode()
    graph.add((root, RDF.type, SH.ValidationReport))
    graph.add((root, SH.conforms, Literal(conforms)))
    for _, _, data in merged:
        if not data:
            continue
        part = Graph()
        part.parse(data=data, format="nt")
        reports = set(part.subjects(RDF.type, SH.ValidationReport))
        for s, p, o in part:
            if s in reports:
                if p == SH.result:
                    graph.add((root, SH.result, o))
            else:
                graph.add((s, p, o))
    return ValidationReport(
        conforms=conforms,
        results=results,
        graph=graph,
        units=len(merged),
        triples=sum(u.triples for u, _, _ in merged),
        fail_on=fail_on,
        articles={u.pmid for u, _, _ in merged if u.pmid},
    )


# --- the report for people -----------------------------------------------------------------------


def report_text(report: ValidationReport, *, show: Severity = "Warning") -> str:
    """The results grouped by article and shape; below ``show`` only counted, by shape."""
    counts = ", ".join(f"{report.count(s)} {s.lower()}s" for s in SEVERITIES)
    verdict = "conforms" if report.conforms else "does not conform"
    lines = [
        f"{report.units} graphs ({len(report.articles)} articles, {report.triples} triples): "
        f"{counts}: {verdict}"
        + ("" if report.fail_on == "Violation" else f" (failing on {report.fail_on.lower()}s)")
    ]
    listed = [r for r in report.results if _at_least(r.severity, show)]
    by_unit: dict[tuple[str, str], list[ValidationResult]] = {}
    for r in listed:
        by_unit.setdefault((r.pmid or "", r.graph or ""), []).append(r)
    for (pmid, graph), results in sorted(by_unit.items()):
        title = f"PMID {pmid}" if pmid else (graph or "data without named graphs")
        lines += ["", title + (f"  ({graph})" if pmid and graph else "")]
        by_shape: dict[tuple[str, Severity], list[ValidationResult]] = {}
        for r in results:
            by_shape.setdefault((r.shape, r.severity), []).append(r)
        for (shape, severity), items in sorted(by_shape.items()):
            lines.append(f"  {compact(shape)} ({severity.lower()})")
            for r in items:
                path = f" {compact(r.path)}" if r.path else ""
                value = f" = {r.value!r}" if r.value is not None and r.value != r.focus else ""
                lines.append(f"    <{r.focus}>{path}{value}")
                lines.append(f"      {r.message}")
    hidden: dict[tuple[Severity, str, str], int] = {}
    for r in report.results:
        if not _at_least(r.severity, show):
            hidden_key = (r.severity, r.shape, r.path or "")
            hidden[hidden_key] = hidden.get(hidden_key, 0) + 1
    if hidden:
        lines += ["", f"Not listed (--show {SEVERITIES[-1].lower()} lists them):"]
        for (severity, shape, path), n in sorted(hidden.items(), key=lambda kv: -kv[1]):
            lines.append(f"  {n} {severity.lower()}s: {compact(shape)} {compact(path)}".rstrip())
    return "\n".join(lines) + "\n"


# --- one article, as it is built -----------------------------------------------------------------


class GraphChecker:
    """Validates one article's quads at a time, in this process (for ``kg build --validate``)."""

    def __init__(self, *, shapes: Path | Graph | None = None, engine: Engine = "pyshacl") -> None:
        graph = shapes if isinstance(shapes, Graph) else load_shapes(shapes)
        self._checker = _Checker(graph, engine)
        self.results: list[ValidationResult] = []

    def __call__(self, pmid: str, quads: list[ox.Quad]) -> list[str]:
        """Plain-words faults (sh:Violation) of the article's graph; empty when it conforms."""
        triples = [q.triple for q in quads]
        unit = _unit(quads[0].graph_name.value if quads else "", pmid, triples)  # type: ignore[union-attr]
        results, _ = self._checker.check(unit)
        self.results += results
        return [str(r) for r in results if r.severity == "Violation"]


__all__ = [
    "ENGINES",
    "SEVERITIES",
    "SHAPES_DIR",
    "GraphChecker",
    "ValidationReport",
    "ValidationResult",
    "compact",
    "load_files",
    "load_shapes",
    "report_text",
    "validate",
]

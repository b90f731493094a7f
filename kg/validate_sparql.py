"""kg's SHACL shapes compiled to SPARQL, run once over all the graphs of a store.

pySHACL checks one article graph at a time, in Python. Here each shape's constraints become
SPARQL queries that Oxigraph answers for every graph at once (``GRAPH ?g { … }``), on the store
itself: the work is done in Rust; only the rows that may be faults come back to Python, where
each is decided again with pySHACL's own rules (rdflib literals, Python regular expressions).
The results are pySHACL's: same focus nodes, paths, values, severities, source shapes,
components and messages (tests/test_validate_fast.py compares them).

The SPARQL filters are *supersets*: a value they let through is one pySHACL accepts for sure
(a canonical integer, a regular expression that Rust matches only where Python does), and every
value they flag is decided in Python exactly as pySHACL decides it. Path scans come first
(maxCount as a grouped scan, minCount 1 and sh:class as anti-joins), focus nodes after; a SPARQL
constraint starts from its focus nodes, as pySHACL binds ``$this`` first.

What kg.validate gives pySHACL differs from the store in two ways: ``kg:KnownMeshTerm`` triples
(the data's dropped, the MeSH table's added) and literals as rdflib writes them. Queried
directly, ``sh:class kg:KnownMeshTerm`` and ``FILTER NOT EXISTS { ?x a kg:KnownMeshTerm }`` are
answered from the MeSH table in Python; a graph that mentions ``kg:KnownMeshTerm`` or holds a
literal rdflib writes otherwise (``"…Z"^^xsd:dateTime``) is copied into an in-memory store made
exactly as pySHACL would see it, and checked there.

A shape that uses a SHACL feature this compiler does not know (``sh:node``, sequence paths,
``sh:equals``…) is not compiled: it goes through pySHACL, per unit, with the other shapes'
targets removed. A SPARQL constraint whose message shows a computed value (``{?exact}``) is
evaluated again by rdflib for the focus nodes Oxigraph found, so the number reads as pySHACL
writes it.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD
from rdflib.term import Node

from kg.mesh import MeshTable
from kg.rdf.iris import is_mesh_ui
from kg.validate import rdflib_term, worker_deaths

log = logging.getLogger(__name__)

_MESH = "http://id.nlm.nih.gov/mesh/"
_KNOWN = "https://w3id.org/kg/ontology#KnownMeshTerm"
_TYPE = str(RDF.type)
_OX_TYPE = ox.NamedNode(_TYPE)
_OX_KNOWN = ox.NamedNode(_KNOWN)
_XSD_STRING = str(XSD.string)
_LANG_STRING = str(RDF.langString)

# Predicates a compiled shape may use; anything else sends the shape to pySHACL.
_NODE_KEYS = {
    RDF.type,
    RDFS.label,
    RDFS.comment,
    SH.targetClass,
    SH.targetSubjectsOf,
    SH.closed,
    SH.ignoredProperties,
    SH.property,
    SH.sparql,
    SH["or"],
    SH.severity,
    SH.message,
    SH.name,
    SH.description,
}
_PROPERTY_KEYS = {
    RDF.type,
    RDFS.label,
    RDFS.comment,
    SH.path,
    SH.minCount,
    SH.maxCount,
    SH.datatype,
    SH.nodeKind,
    SH.pattern,
    SH["in"],
    SH.hasValue,
    SH["class"],
    SH.minInclusive,
    SH.maxInclusive,
    SH.minExclusive,
    SH.maxExclusive,
    SH.minLength,
    SH["or"],
    SH.qualifiedValueShape,
    SH.qualifiedMinCount,
    SH.qualifiedMaxCount,
    SH.message,
    SH.severity,
    SH.name,
    SH.description,
}
# constraints on a value node alone (inside sh:or, sh:qualifiedValueShape too)
_VALUE_KEYS = {
    SH.datatype,
    SH.nodeKind,
    SH.pattern,
    SH["in"],
    SH["class"],
    SH.minInclusive,
    SH.maxInclusive,
    SH.minExclusive,
    SH.maxExclusive,
    SH.minLength,
}
_SPARQL_KEYS = {RDF.type, RDFS.comment, RDFS.label, SH.message, SH.prefixes, SH.select}
_SEVERITIES = {SH.Violation, SH.Warning, SH.Info}
_NUMERIC = {str(XSD.integer), str(XSD.decimal)}
# lexical forms rdflib reads, and Oxigraph compares, exactly as written
_CANONICAL = {
    str(XSD.integer): r"^-?(0|[1-9][0-9]{0,17})$",
    str(XSD.decimal): r"^-?(0|[1-9][0-9]{0,14})(\.[0-9]{1,15})?$",
    str(XSD.boolean): r"^(true|false)$",
}


class Unsupported(Exception):
    """A shape uses a SHACL feature the compiler does not translate."""


def _sparql_term(node: Node) -> str:
    if isinstance(node, URIRef):
        return str(ox.NamedNode(str(node)))
    if isinstance(node, Literal):
        if node.language:
            return str(ox.Literal(str(node), language=node.language))
        datatype = str(node.datatype or XSD.string)
        return str(ox.Literal(str(node), datatype=ox.NamedNode(datatype)))
    raise Unsupported(f"a blank node as a constraint value: {node}")


def _one(shapes: Graph, node: Node, key: URIRef) -> Node | None:
    values = list(shapes.objects(node, key))
    if len(values) > 1:
        raise Unsupported(f"{key} given {len(values)} times")
    return values[0] if values else None


def _check_keys(shapes: Graph, node: Node, allowed: set[URIRef]) -> None:
    for key in set(shapes.predicates(node, None)):
        if key not in allowed:
            raise Unsupported(f"{key}")


def _path(shapes: Graph, path: Node) -> str:
    """A SHACL path (IRI, inverse, alternative) as a SPARQL property path."""
    if isinstance(path, URIRef):
        return _sparql_term(path)
    keys = set(shapes.predicates(path, None))
    if keys == {SH.inversePath}:
        return "^(" + _path(shapes, shapes.value(path, SH.inversePath)) + ")"  # type: ignore[arg-type]
    if keys == {SH.alternativePath}:
        items = list(Collection(shapes, shapes.value(path, SH.alternativePath)))  # type: ignore[arg-type]
        if not items:
            raise Unsupported("empty alternative path")
        return "(" + "|".join(_path(shapes, p) for p in items) + ")"
    raise Unsupported(f"path {path}")


_PATTERN_OK = re.compile(r"(?:[^\\(]|\\[.\\/\-S]|\((?!\?))*")


def _rust_pattern(pattern: str) -> str:
    """``pattern`` for Oxigraph's REGEX such that a Rust match implies a Python match.

    Only a plain subset is accepted. Rust's ``$`` matches only at the end (Python's also before
    a final newline): stricter, so fine. Python's ``\\s`` holds U+001C–U+001F, Rust's does not:
    ``\\S`` becomes ``[^\\s\\x1C-\\x1F]``.
    """
    if not _PATTERN_OK.fullmatch(pattern) or re.search(r"\[[^\]]*\\S", pattern):
        raise Unsupported(f"pattern {pattern!r}")
    return pattern.replace("\\S", "[^\\s\\x1C-\\x1F]")


# --- value constraints: a SPARQL superset filter and pySHACL's exact rule ------------------------


@dataclass
class _ValueRule:
    """One value constraint: ``flag`` (SPARQL over ?v) is true for every value pySHACL rejects."""

    component: URIRef
    flag: str
    exact: Callable[[Node, dict[str, Any]], bool]  # pySHACL accepts this value
    aux: list[tuple[str, str]] = field(default_factory=list)  # extra projected expressions


def _datatype_ok(v: Node, rule: URIRef) -> bool:
    # pyshacl.constraints.core.value_constraints.DatatypeConstraintComponent
    if not isinstance(v, Literal):
        return False
    if v.datatype == rule:
        if getattr(v, "ill_typed", None) is True:
            return False
        return _actual_datatype(v, rule)
    if rule == RDFS.Literal:
        return True
    if rule == RDFS.Datatype and v.datatype:
        return True
    if v.datatype is None and v.language is None and rule == XSD.string:
        return _actual_datatype(v, rule)
    if rule == RDF.langString and v.language:
        return _actual_datatype(v, rule)
    return False


def _actual_datatype(v: Literal, rule: URIRef) -> bool:
    value = v.value
    if rule in (XSD.string, RDF.langString):
        return isinstance(value, str | bytes)
    kinds: dict[URIRef, type | tuple[type, ...]] = {
        XSD.integer: int,
        XSD.float: float,
        XSD.decimal: Decimal,
        XSD.boolean: bool,
        XSD.date: date,
        XSD.time: time,
        XSD.dateTime: datetime,
    }
    kind = kinds.get(rule)
    return True if kind is None else isinstance(value, kind)


_NODE_KINDS: dict[URIRef, tuple[str, tuple[type, ...]]] = {
    SH.IRI: ("isIRI(?v)", (URIRef,)),
    SH.BlankNode: ("isBLANK(?v)", (BNode,)),
    SH.Literal: ("isLITERAL(?v)", (Literal,)),
    SH.BlankNodeOrIRI: ("(isBLANK(?v) || isIRI(?v))", (BNode, URIRef)),
    SH.BlankNodeOrLiteral: ("(isBLANK(?v) || isLITERAL(?v))", (BNode, Literal)),
    SH.IRIOrLiteral: ("(isIRI(?v) || isLITERAL(?v))", (URIRef, Literal)),
}


def _as_string(v: Node) -> str:
    # pyshacl StringBasedConstraintBase.value_node_to_string
    if (
        isinstance(v, Literal)
        and v.value is not None
        and v.datatype in (None, RDF.langString, XSD.string)
    ):
        return str(v.value)
    return str(v)


def _compare_ok(v: Node, bound: Literal, ok: Callable[[int], bool]) -> bool:
    # pyshacl value_range_constraints: literals of comparable kinds, compare_literal
    from pyshacl.rdfutil.compare import compare_literal

    if not isinstance(v, Literal):
        return False
    bound_is_string = isinstance(bound.value, str)
    v_is_string = isinstance(v.value, str)
    if bound_is_string != v_is_string:
        return False
    try:
        return ok(compare_literal(v, bound))
    except (TypeError, NotImplementedError):
        return False


_RANGES: dict[URIRef, tuple[str, Callable[[int], bool]]] = {
    SH.minInclusive: (">=", lambda c: c >= 0),
    SH.maxInclusive: ("<=", lambda c: c <= 0),
    SH.minExclusive: (">", lambda c: c > 0),
    SH.maxExclusive: ("<", lambda c: c < 0),
}
_COMPONENT = {
    SH.datatype: SH.DatatypeConstraintComponent,
    SH.nodeKind: SH.NodeKindConstraintComponent,
    SH.pattern: SH.PatternConstraintComponent,
    SH["in"]: SH.InConstraintComponent,
    SH["class"]: SH.ClassConstraintComponent,
    SH.minInclusive: SH.MinInclusiveConstraintComponent,
    SH.maxInclusive: SH.MaxInclusiveConstraintComponent,
    SH.minExclusive: SH.MinExclusiveConstraintComponent,
    SH.maxExclusive: SH.MaxExclusiveConstraintComponent,
    SH.minLength: SH.MinLengthConstraintComponent,
}


class _Names:
    """Fresh SPARQL variable names for projected aux expressions."""

    def __init__(self, type_path: str) -> None:
        self._n = itertools.count()
        self.type_path = (
            type_path  # rdf:type, or rdf:type/rdfs:subClassOf* where the data has classes
        )

    def __call__(self) -> str:
        return f"kgA{next(self._n)}"


def _value_rule(
    shapes: Graph, key: URIRef, rule: Node, names: _Names, known: Callable[[Node], bool] | None
) -> _ValueRule:
    """``known``: when the store queried lacks the ``kg:KnownMeshTerm`` triples (queried
    directly), the Python test that stands for them."""
    component = _COMPONENT[key]
    if key == SH.datatype:
        if not isinstance(rule, URIRef):
            raise Unsupported("datatype")
        dt = _sparql_term(rule)
        canonical = _CANONICAL.get(str(rule))
        if str(rule) == _XSD_STRING:
            ok = f"(isLITERAL(?v) && DATATYPE(?v) = {dt})"
        elif canonical is not None:
            regex = _sparql_term(Literal(canonical))
            ok = f"(isLITERAL(?v) && DATATYPE(?v) = {dt} && REGEX(STR(?v), {regex}))"
        else:
            ok = "false"  # every value decided in Python
        return _ValueRule(component, f"COALESCE(!{ok}, true)", lambda v, _a: _datatype_ok(v, rule))
    if key == SH.nodeKind:
        if rule not in _NODE_KINDS:
            raise Unsupported("nodeKind")
        expr, kinds = _NODE_KINDS[rule]  # type: ignore[index]
        return _ValueRule(component, f"!{expr}", lambda v, _a: isinstance(v, kinds))
    if key == SH.pattern:
        if not isinstance(rule, Literal):
            raise Unsupported("pattern")
        python = re.compile(str(rule))
        rust = _sparql_term(Literal(_rust_pattern(str(rule))))
        return _ValueRule(
            component,
            f"COALESCE(isBLANK(?v) || !REGEX(STR(?v), {rust}), true)",
            lambda v, _a: not isinstance(v, BNode) and python.search(_as_string(v)) is not None,
        )
    if key == SH["in"]:
        members = list(Collection(shapes, rule))
        for m in members:
            if isinstance(m, Literal) and m.datatype not in (None, XSD.string):
                raise Unsupported("sh:in with typed literals")
        flag = (
            "!("
            + (" || ".join(f"sameTerm(?v, {_sparql_term(m)})" for m in members) or "false")
            + ")"
        )
        return _ValueRule(component, flag, lambda v, _a: v in members)
    if key == SH["class"]:
        if not isinstance(rule, URIRef):
            raise Unsupported("class")
        if known is not None and str(rule) == _KNOWN:
            # every value comes back; the graph holds no kg:KnownMeshTerm triple (checked)
            test = known
            return _ValueRule(component, "true", lambda v, _a: test(v))
        var = names()
        exists = f"EXISTS {{ ?v {names.type_path} {_sparql_term(rule)} }}"
        return _ValueRule(
            component, f"!{exists}", lambda _v, a: a.get(var) is True, [(var, exists)]
        )
    if key in _RANGES:
        op, ok_cmp = _RANGES[key]
        if not isinstance(rule, Literal) or str(rule.datatype) not in _NUMERIC:
            raise Unsupported("range bound")
        bound = rule
        sure = (
            f"(isLITERAL(?v) && DATATYPE(?v) IN (<{XSD.integer}>, <{XSD.decimal}>) "
            f"&& REGEX(STR(?v), {_sparql_term(Literal(_CANONICAL[str(XSD.decimal)]))}) "
            f"&& ?v {op} {_sparql_term(bound)})"
        )
        return _ValueRule(
            component, f"COALESCE(!{sure}, true)", lambda v, _a: _compare_ok(v, bound, ok_cmp)
        )
    if key == SH.minLength:
        if not isinstance(rule, Literal) or not isinstance(rule.value, int) or rule.value < 0:
            raise Unsupported("minLength")
        n = rule.value
        # an empty string is the one failure of sh:minLength 1 that needs no decoding of ?v
        cheap = (
            f'(isBLANK(?v) || sameTerm(?v, "") '
            f"|| (!(isLITERAL(?v) && DATATYPE(?v) = <{_XSD_STRING}>) && STRLEN(STR(?v)) < 1))"
        )
        return _ValueRule(
            component,
            cheap if n == 1 else f"COALESCE(isBLANK(?v) || STRLEN(STR(?v)) < {n}, true)",
            lambda v, _a: n == 0 or (not isinstance(v, BNode) and len(_as_string(v)) >= n),
        )
    raise Unsupported(str(key))


@dataclass
class _Alternative:
    """A shape inside sh:or (or sh:qualifiedValueShape) made only of value constraints."""

    rules: list[_ValueRule]

    def flag(self) -> str:
        return "(" + (" || ".join(r.flag for r in self.rules) or "false") + ")"

    def conforms(self, v: Node, aux: dict[str, Any]) -> bool:
        return all(r.exact(v, aux) for r in self.rules)


def _alternative(
    shapes: Graph, node: Node, names: _Names, known: Callable[[Node], bool] | None
) -> _Alternative:
    _check_keys(shapes, node, _VALUE_KEYS | {RDF.type, RDFS.comment})
    rules = []
    for key in sorted(_VALUE_KEYS, key=str):
        value = _one(shapes, node, key)
        if value is not None:
            rules.append(_value_rule(shapes, key, value, names, known))
    return _Alternative(rules)


# --- compiled shapes -------------------------------------------------------------------------


@dataclass
class Finding:
    """A result before it is named: terms as rdflib nodes, as pySHACL's report holds them."""

    graph: str
    node_shape: Node  # the targeted shape the focus came from (keeps duplicates apart)
    shape: Node  # sh:sourceShape
    component: URIRef
    constraint: Node | None  # sh:sourceConstraint (SPARQL constraints)
    focus: Node
    path: Node | None
    value: Node | None
    severity: URIRef
    messages: list[str]


@dataclass
class _Query:
    text: str
    handle: Callable[[ox.QuerySolution, Callable[[Any], Node]], list[Finding]]


@dataclass
class _Property:
    node: Node
    path: Node
    sparql_path: str
    severity: URIRef
    messages: list[Literal]


def _messages(shapes: Graph, node: Node) -> list[Literal]:
    return [m for m in shapes.objects(node, SH.message) if isinstance(m, Literal)]


def _severity(shapes: Graph, node: Node) -> URIRef:
    severity = _one(shapes, node, SH.severity) or SH.Violation
    if severity not in _SEVERITIES:
        raise Unsupported(f"severity {severity}")
    return severity  # type: ignore[return-value]


def _target(shapes: Graph, shape: Node, type_path: str) -> str:
    classes = sorted(shapes.objects(shape, SH.targetClass), key=str)
    subjects_of = sorted(shapes.objects(shape, SH.targetSubjectsOf), key=str)
    parts = [f"{{ ?this {type_path} {_sparql_term(c)} }}" for c in classes] + [
        f"{{ ?this {_sparql_term(p)} [] }}" for p in subjects_of
    ]
    return " UNION ".join(parts)


def format_message(msg: str, bound: dict[str, Node]) -> str:
    """pySHACL's ``_format_sparql_based_result_message``."""
    for var, val in bound.items():
        msg = re.sub(f"{{[?$]{var}}}", str(val), msg)
    return msg


class CompiledShapes:
    """The shapes graph as SPARQL queries, and the shapes left to pySHACL."""

    def __init__(
        self,
        shapes: Graph,
        *,
        direct: bool,
        skip: Iterable[Node] = (),
        mesh: MeshTable | None = None,
        subclasses: bool = True,
    ) -> None:
        """``subclasses``: whether the data may hold ``rdfs:subClassOf`` (then class tests
        follow it, as pySHACL does; without, a plain ``rdf:type`` is the same and faster)."""
        from pyshacl.rdfutil import stringify_node

        self.shapes = shapes
        self.direct = direct
        self.table = mesh or MeshTable.default()
        self.queries: list[_Query] = []
        self.unsupported: dict[Node, str] = {}
        self.recheck: dict[Node, str] = {}  # SPARQL constraint → its text, for rdflib
        self._stringify = stringify_node
        self._data_ns = Graph()  # the namespaces pySHACL's data graph has, for generic messages
        self._names = _Names(
            f"<{RDF.type}>/<{RDFS.subClassOf}>*" if subclasses else f"<{RDF.type}>"
        )
        targeted = set(shapes.subjects(SH.targetClass, None)) | set(
            shapes.subjects(SH.targetSubjectsOf, None)
        )
        other_targets = (SH.targetNode, SH.targetObjectsOf, SH.target)
        for key in other_targets:
            for shape in shapes.subjects(key, None):
                self.unsupported[shape] = f"{key}"
        for cls in set(shapes.subjects(RDF.type, RDFS.Class)) & (
            set(shapes.subjects(RDF.type, SH.NodeShape))
            | set(shapes.subjects(RDF.type, SH.PropertyShape))
        ):
            self.unsupported[cls] = "implicit class target"
        for shape in skip:
            self.unsupported.setdefault(shape, "not compiled in the other mode")
        for shape in sorted(targeted, key=str):
            if shape in self.unsupported:
                continue
            queries_before = len(self.queries)
            try:
                self._compile(shape)
            except Unsupported as exc:
                del self.queries[queries_before:]
                self.unsupported[shape] = str(exc)

    def _known(self, v: Node) -> bool:
        """Whether ``v a kg:KnownMeshTerm`` holds in the data pySHACL is given."""
        if not isinstance(v, URIRef) or not str(v).startswith(_MESH):
            return False
        ui = str(v)[len(_MESH) :]
        return is_mesh_ui(ui) and self.table.is_known(ui)

    # -- shapes ------------------------------------------------------------------------------

    def _compile(self, shape: Node) -> None:
        g = self.shapes
        if SH.path in set(g.predicates(shape, None)):
            raise Unsupported("a property shape with targets")
        if (shape, SH.deactivated, None) in g:
            raise Unsupported("deactivated")
        _check_keys(g, shape, _NODE_KEYS)
        target = _target(g, shape, self._names.type_path)
        severity = _severity(g, shape)
        messages = _messages(g, shape)
        if _one(g, shape, SH.closed) == Literal(True):
            self._closed(shape, target, severity, messages)
        elif _one(g, shape, SH.closed) not in (None, Literal(False)):
            raise Unsupported("closed")
        for alternatives in g.objects(shape, SH["or"]):
            self._node_or(shape, target, severity, messages, alternatives)
        for prop in g.objects(shape, SH.property):
            self._property(shape, target, prop)
        for constraint in g.objects(shape, SH.sparql):
            self._sparql(shape, target, severity, messages, constraint)

    def _closed(self, shape: Node, target: str, severity: URIRef, messages: list[Literal]) -> None:
        g = self.shapes
        allowed = {
            p
            for prop in g.objects(shape, SH.property)
            if isinstance(p := g.value(prop, SH.path), URIRef)
        }
        ignored = _one(g, shape, SH.ignoredProperties)
        if ignored is not None:
            allowed |= {p for p in Collection(g, ignored) if isinstance(p, URIRef)}
        listed = ", ".join(_sparql_term(p) for p in sorted(allowed))
        text = (
            f"SELECT DISTINCT ?g ?this ?p ?o WHERE {{ {self._focus(target)} "
            f"GRAPH ?g {{ ?this ?p ?o FILTER (?p NOT IN ({listed})) }} }}"
        )

        def handle(row: ox.QuerySolution, term: Callable[[Any], Node]) -> list[Finding]:
            focus, value = term(row["this"]), term(row["o"])
            texts = [str(m) for m in messages] or [
                "Node {} is closed. It cannot have value: {}".format(  # noqa: UP032
                    self._stringify(self._data_ns, focus), self._stringify(self._data_ns, value)
                )
            ]
            return [
                Finding(
                    row["g"].value,
                    shape,
                    shape,
                    SH.ClosedConstraintComponent,
                    None,
                    focus,
                    term(row["p"]),
                    value,
                    severity,
                    texts,
                )
            ]

        self.queries.append(_Query(text, handle))

    def _node_or(
        self,
        shape: Node,
        target: str,
        severity: URIRef,
        messages: list[Literal],
        alternatives: Node,
    ) -> None:
        """sh:or of property shapes that each only ask sh:minCount 1 (a title or another)."""
        g = self.shapes
        tests = []
        for alt in Collection(g, alternatives):
            _check_keys(g, alt, {SH.path, SH.minCount, RDF.type})
            if _one(g, alt, SH.minCount) != Literal(1):
                raise Unsupported("sh:or at node level other than minCount 1")
            tests.append(f"EXISTS {{ GRAPH ?g {{ ?this {_path(g, g.value(alt, SH.path))} ?x }} }}")  # type: ignore[arg-type]
        if not messages:
            raise Unsupported("sh:or without sh:message")
        text = (
            f"SELECT DISTINCT ?g ?this WHERE {{ {self._focus(target)} "
            f"FILTER (!({' || '.join(tests) or 'false'})) }}"
        )

        def handle(row: ox.QuerySolution, term: Callable[[Any], Node]) -> list[Finding]:
            focus = term(row["this"])
            return [
                Finding(
                    row["g"].value,
                    shape,
                    shape,
                    SH.OrConstraintComponent,
                    None,
                    focus,
                    None,
                    focus,
                    severity,
                    [str(m) for m in messages],
                )
            ]

        self.queries.append(_Query(text, handle))

    @staticmethod
    def _focus(target: str, *, distinct: bool = False) -> str:
        """The focus nodes with their graph; ``distinct`` where a query counts its rows."""
        if distinct:
            return f"{{ SELECT DISTINCT ?g ?this WHERE {{ GRAPH ?g {{ {target} }} }} }}"
        return f"GRAPH ?g {{ {target} }}"

    def _property(self, node_shape: Node, target: str, prop: Node) -> None:
        g = self.shapes
        _check_keys(g, prop, _PROPERTY_KEYS)
        if (prop, SH.deactivated, None) in g:
            raise Unsupported("deactivated")
        path = _one(g, prop, SH.path)
        if path is None:
            raise Unsupported("sh:property without sh:path")
        p = _Property(prop, path, _path(g, path), _severity(g, prop), _messages(g, prop))
        focus = self._focus(target)
        self._cardinality(node_shape, p, focus)
        self._has_value(node_shape, p, focus)
        self._qualified(node_shape, p, focus)
        self._values(node_shape, p, focus)

    def _finding(
        self,
        graph: str,
        node_shape: Node,
        p: _Property,
        component: URIRef,
        focus: Node,
        value: Node | None,
        generic: Callable[[], str] | None = None,
    ) -> Finding:
        texts = [str(m) for m in p.messages]
        if not texts:
            if generic is None:
                raise AssertionError("checked when compiled")
            texts = [generic()]
        return Finding(
            graph, node_shape, p.node, component, None, focus, p.path, value, p.severity, texts
        )

    def _needs_message(self, p: _Property, component: URIRef) -> None:
        if not p.messages and component not in (
            SH.DatatypeConstraintComponent,
            SH.NodeKindConstraintComponent,
            SH.ClassConstraintComponent,
        ):
            raise Unsupported(f"{component} without sh:message (pySHACL's own words)")

    def _cardinality(self, node_shape: Node, p: _Property, focus: str) -> None:
        g = self.shapes
        low, high = _one(g, p.node, SH.minCount), _one(g, p.node, SH.maxCount)
        if low is None and high is None:
            return
        for bound in (low, high):
            if bound is not None and not (
                isinstance(bound, Literal) and isinstance(bound.value, int)
            ):
                raise Unsupported("count")
            if bound is not None:
                self._needs_message(p, SH.MinCountConstraintComponent)
        lo = low.value if low is not None else None  # type: ignore[attr-defined]
        hi = high.value if high is not None else None  # type: ignore[attr-defined]
        texts = []
        if lo == 1:  # the focus nodes without a value: an anti-join, not a probe per node
            texts.append(
                f"SELECT DISTINCT ?g ?this (0 AS ?n) WHERE {{ {focus} "
                f"MINUS {{ GRAPH ?g {{ ?this {p.sparql_path} ?v }} }} }}"
            )
        elif lo is not None:
            texts.append(
                f"SELECT ?g ?this (COUNT(DISTINCT ?v) AS ?n) WHERE {{ {focus} "
                f"OPTIONAL {{ GRAPH ?g {{ ?this {p.sparql_path} ?v }} }} }} "
                f"GROUP BY ?g ?this HAVING (COUNT(DISTINCT ?v) < {lo})"
            )
        if hi is not None:  # one scan of the path's triples, then only those over the count
            texts.append(
                "SELECT ?g ?this ?n WHERE { { "
                f"SELECT ?g ?this (COUNT(DISTINCT ?v) AS ?n) WHERE {{ "
                f"GRAPH ?g {{ ?this {p.sparql_path} ?v }} }} GROUP BY ?g ?this "
                f"HAVING (COUNT(DISTINCT ?v) > {hi}) }} {focus} }}"
            )

        def handle(row: ox.QuerySolution, term: Callable[[Any], Node]) -> list[Finding]:
            n = int(row["n"].value)
            focus_node = term(row["this"])
            out = []
            if lo is not None and n < lo:
                out.append(
                    self._finding(
                        row["g"].value,
                        node_shape,
                        p,
                        SH.MinCountConstraintComponent,
                        focus_node,
                        None,
                    )
                )
            if hi is not None and n > hi:
                out.append(
                    self._finding(
                        row["g"].value,
                        node_shape,
                        p,
                        SH.MaxCountConstraintComponent,
                        focus_node,
                        None,
                    )
                )
            return out

        for text in texts:
            self.queries.append(_Query(text, handle))
        return

        self.queries.append(_Query(text, handle))

    def _has_value(self, node_shape: Node, p: _Property, focus: str) -> None:
        values = list(self.shapes.objects(p.node, SH.hasValue))
        if not values:
            return
        self._needs_message(p, SH.HasValueConstraintComponent)
        for value in values:
            text = (
                f"SELECT DISTINCT ?g ?this WHERE {{ {focus} "
                f"FILTER NOT EXISTS {{ GRAPH ?g {{ ?this {p.sparql_path} "
                f"{_sparql_term(value)} }} }} }}"
            )

            def handle(row: ox.QuerySolution, term: Callable[[Any], Node]) -> list[Finding]:
                return [
                    self._finding(
                        row["g"].value,
                        node_shape,
                        p,
                        SH.HasValueConstraintComponent,
                        term(row["this"]),
                        None,
                    )
                ]

            self.queries.append(_Query(text, handle))

    def _qualified(self, node_shape: Node, p: _Property, focus: str) -> None:
        g = self.shapes
        shape = _one(g, p.node, SH.qualifiedValueShape)
        low, high = _one(g, p.node, SH.qualifiedMinCount), _one(g, p.node, SH.qualifiedMaxCount)
        if shape is None:
            if low is not None or high is not None:
                raise Unsupported("qualified count without shape")
            return
        self._needs_message(p, SH.QualifiedMinCountConstraintComponent)
        alt = _alternative(g, shape, self._names, None)
        if any(r.aux for r in alt.rules) or any(
            r.component != SH.InConstraintComponent for r in alt.rules
        ):
            raise Unsupported("qualifiedValueShape other than sh:in")
        for bound in (low, high):
            if bound is not None and not (
                isinstance(bound, Literal) and isinstance(bound.value, int)
            ):
                raise Unsupported("qualified count")
        tests = []
        if low is not None:
            tests.append(f"COUNT(DISTINCT ?v) < {low.value}")  # type: ignore[attr-defined]
        if high is not None:
            tests.append(f"COUNT(DISTINCT ?v) > {high.value}")  # type: ignore[attr-defined]
        if not tests:
            return
        text = (
            f"SELECT ?g ?this (COUNT(DISTINCT ?v) AS ?n) WHERE {{ {focus} "
            f"OPTIONAL {{ GRAPH ?g {{ ?this {p.sparql_path} ?v FILTER (!{alt.flag()}) }} }} }} "
            f"GROUP BY ?g ?this HAVING ({' || '.join(tests)})"
        )
        lo = low.value if low is not None else None  # type: ignore[attr-defined]
        hi = high.value if high is not None else None  # type: ignore[attr-defined]

        def handle(row: ox.QuerySolution, term: Callable[[Any], Node]) -> list[Finding]:
            n = int(row["n"].value)
            focus_node = term(row["this"])
            out = []
            if lo is not None and n < lo:
                out.append(
                    self._finding(
                        row["g"].value,
                        node_shape,
                        p,
                        SH.QualifiedMinCountConstraintComponent,
                        focus_node,
                        None,
                    )
                )
            if hi is not None and n > hi:
                out.append(
                    self._finding(
                        row["g"].value,
                        node_shape,
                        p,
                        SH.QualifiedMaxCountConstraintComponent,
                        focus_node,
                        None,
                    )
                )
            return out

        self.queries.append(_Query(text, handle))

    def _class(self, node_shape: Node, p: _Property, focus: str, cls: Node) -> None:
        """sh:class as an anti-join: the path's values that are not of the class."""
        text = (
            f"SELECT DISTINCT ?g ?this ?v WHERE {{ {{ SELECT ?g ?this ?v WHERE {{ "
            f"GRAPH ?g {{ ?this {p.sparql_path} ?v }} "
            f"MINUS {{ GRAPH ?g {{ ?v {self._names.type_path} {_sparql_term(cls)} }} }} }} }} "
            f"{focus} }}"
        )

        def words() -> str:
            return f"Value does not have class {self._stringify(self.shapes, cls)}"

        def handle(row: ox.QuerySolution, term: Callable[[Any], Node]) -> list[Finding]:
            return [
                self._finding(
                    row["g"].value,
                    node_shape,
                    p,
                    SH.ClassConstraintComponent,
                    term(row["this"]),
                    term(row["v"]),
                    words,
                )
            ]

        self.queries.append(_Query(text, handle))

    def _values(self, node_shape: Node, p: _Property, focus: str) -> None:
        g = self.shapes
        rules: list[tuple[URIRef, _ValueRule | None, list[_Alternative] | None]] = []
        # pySHACL's order of components does not matter: results are sorted per unit
        for key in sorted(_VALUE_KEYS, key=str):
            for value in g.objects(p.node, key):
                if key == SH["class"] and not p.messages and len(list(g.objects(p.node, key))) > 1:
                    raise Unsupported("several sh:class without sh:message")
                rule = _value_rule(g, key, value, self._names, self._known if self.direct else None)
                self._needs_message(p, rule.component)
                if rule.aux and key == SH["class"]:
                    self._class(node_shape, p, focus, value)
                    continue
                rules.append((rule.component, rule, None))
        for alternatives in g.objects(p.node, SH["or"]):
            self._needs_message(p, SH.OrConstraintComponent)
            alts = [
                _alternative(g, a, self._names, self._known if self.direct else None)
                for a in Collection(g, alternatives)
            ]
            rules.append((SH.OrConstraintComponent, None, alts))
        if not rules:
            return
        flags, aux = [], []
        for _component, rule, alts in rules:  # type: ignore[assignment]
            if rule is not None:
                flags.append(rule.flag)
                aux += rule.aux
            else:
                assert alts is not None
                flags.append("(" + " && ".join(a.flag() for a in alts) + ")")
                aux += [x for a in alts for r in a.rules for x in r.aux]
        # the path's triples scanned first, filtered; the focus test and the class tests that
        # Python needs (EXISTS, per value) only for what is left
        binds = " ".join(f"BIND ({_in_graph(expr)} AS ?{var})" for var, expr in aux)
        projected = " ".join(f"?{var}" for var, _ in aux)
        text = (
            f"SELECT DISTINCT ?g ?this ?v {projected} WHERE {{ {{ SELECT ?g ?this ?v WHERE {{ "
            f"GRAPH ?g {{ ?this {p.sparql_path} ?v FILTER ({' || '.join(flags)}) }} }} }} "
            f"{focus} {binds} }}"
        )

        def generic(component: URIRef, rule_node: Node) -> Callable[[], str]:
            def words() -> str:
                kind = {
                    SH.DatatypeConstraintComponent: "Value is not Literal with datatype {}",
                    SH.NodeKindConstraintComponent: "Value is not of Node Kind {}",
                    SH.ClassConstraintComponent: "Value does not have class {}",
                }[component]
                return kind.format(self._stringify(g, rule_node))

            return words

        rule_nodes = {
            SH.DatatypeConstraintComponent: _one(g, p.node, SH.datatype),
            SH.NodeKindConstraintComponent: _one(g, p.node, SH.nodeKind),
            SH.ClassConstraintComponent: _one(g, p.node, SH["class"]),
        }

        def handle(row: ox.QuerySolution, term: Callable[[Any], Node]) -> list[Finding]:
            v = term(row["v"])
            values = {var: _boolean(row[var]) for var, _ in aux}
            focus_node = term(row["this"])
            out = []
            for component, rule, alts in rules:
                ok = (
                    rule.exact(v, values)
                    if rule is not None
                    else any(a.conforms(v, values) for a in alts or [])
                )
                if not ok:
                    node = rule_nodes.get(component)
                    out.append(
                        self._finding(
                            row["g"].value,
                            node_shape,
                            p,
                            component,
                            focus_node,
                            v,
                            generic(component, node) if node is not None else None,
                        )
                    )
            return out

        self.queries.append(_Query(text, handle))

    # -- SPARQL constraints --------------------------------------------------------------------

    def _sparql(
        self, shape: Node, target: str, severity: URIRef, messages: list[Literal], constraint: Node
    ) -> None:
        g = self.shapes
        _check_keys(g, constraint, _SPARQL_KEYS)
        if (constraint, SH.deactivated, None) in g:
            raise Unsupported("deactivated")
        select = _one(g, constraint, SH.select)
        if select is None:
            raise Unsupported("SPARQL constraint without sh:select")
        body = str(select)
        if re.search(r"\$(PATH|currentShape|shapesGraph|value)\b", body) or "$this" not in body:
            raise Unsupported("SPARQL pre-bound variables other than $this")
        prefixes = self._prefixes(constraint)
        own = _messages(g, constraint)
        known_var = None
        if self.direct:
            body, known_var = _without_known(body, prefixes)
        counts = re.search(
            r"\b(GROUP\s+BY|COUNT|SUM|AVG|MIN|MAX|SAMPLE|GROUP_CONCAT)\b", body, re.IGNORECASE
        )
        text = prefixes + _graph_query(body, target, counts=bool(counts))
        computed = _computed_variables(body) & {
            v for m in own + messages for v in re.findall(r"\{[?$](\w+)\}", str(m))
        }
        if computed:
            self.recheck[constraint] = prefixes + body

        def handle(row: ox.QuerySolution, term: Callable[[Any], Node]) -> list[Finding]:
            bound = {
                var.value: term(row[var])
                for var in row_variables(row)
                if var.value != "g" and row[var] is not None
            }
            if known_var is not None and self._known(bound.get(known_var)):  # type: ignore[arg-type]
                return []
            return [
                self._sparql_finding(
                    row["g"].value, shape, constraint, severity, messages, own, bound
                )
            ]

        self.queries.append(_Query(text, handle))

    def _sparql_finding(
        self,
        graph: str,
        shape: Node,
        constraint: Node,
        severity: URIRef,
        messages: list[Literal],
        own: list[Literal],
        bound: dict[str, Node],
    ) -> Finding:
        """pySHACL's SPARQLConstraintComponent result for one row (node shapes only)."""
        this = bound.pop("this")
        path = bound.pop("path", None)
        value = bound.pop("value", None)
        if value is None:
            value = this
        fdict: dict[str, Node] = dict(bound)
        fdict["this"] = this
        if path is not None:
            fdict["path"] = path
        fdict["value"] = value
        texts = [format_message(str(m.value), fdict) for m in own]
        texts += [format_message(str(m.value), fdict) for m in messages]
        return Finding(
            graph,
            shape,
            shape,
            SH.SPARQLConstraintComponent,
            constraint,
            this,
            path,
            value,
            severity,
            texts,
        )

    def _prefixes(self, constraint: Node) -> str:
        g = self.shapes
        out = []
        for ontology in g.objects(constraint, SH.prefixes):
            for decl in g.objects(ontology, SH.declare):
                prefix, ns = g.value(decl, SH.prefix), g.value(decl, SH.namespace)
                if prefix is not None and ns is not None:
                    out.append(f"PREFIX {prefix}: <{ns}>\n")
        return "".join(sorted(set(out)))

    def row_key(self, finding: Finding) -> tuple[Any, ...]:
        return (
            finding.graph,
            finding.node_shape,
            finding.shape,
            finding.component,
            finding.constraint,
            finding.focus,
            finding.path,
            finding.value,
            tuple(finding.messages),
        )


def row_variables(row: ox.QuerySolution) -> list[ox.Variable]:
    """The variables of the query being run (set by :func:`run`), in the SELECT's order."""
    return [v for v in _CURRENT_VARIABLES if row[v] is not None]


_CURRENT_VARIABLES: list[ox.Variable] = []


def _in_graph(exists: str) -> str:
    """``EXISTS { … }`` → ``EXISTS { GRAPH ?g { … } }`` (for use outside ``GRAPH ?g``)."""
    assert exists.startswith("EXISTS {") and exists.endswith("}")
    return "EXISTS { GRAPH ?g " + exists[len("EXISTS ") :] + " }"


def _select(store: ox.Store, text: str) -> ox.QuerySolutions:
    solutions = store.query(text)
    assert isinstance(solutions, ox.QuerySolutions), "a SELECT query"
    return solutions


def _boolean(term: Any) -> bool | None:
    if isinstance(term, ox.Literal) and term.datatype.value == str(XSD.boolean):
        return term.value == "true"
    return None


_KNOWN_TEST = re.compile(
    r"FILTER\s+NOT\s+EXISTS\s*\{\s*[?$](\w+)\s+(?:a|rdf:type|<" + re.escape(_TYPE) + r">)\s+"
    r"(?:kg:KnownMeshTerm|<" + re.escape(_KNOWN) + r">)\s*\.?\s*\}"
)


def _without_known(body: str, prefixes: str) -> tuple[str, str | None]:
    """``FILTER NOT EXISTS { ?x a kg:KnownMeshTerm }`` taken out, to be tested in Python on ?x.

    A store queried directly holds no ``kg:KnownMeshTerm`` triple; any other use of the class
    is not translated.
    """
    m = _KNOWN_TEST.search(body)
    if "KnownMeshTerm" not in body:
        return body, None
    if m is None or "PREFIX kg: <https://w3id.org/kg/ontology#>" not in prefixes:
        raise Unsupported("kg:KnownMeshTerm in a SPARQL constraint")
    rest = body[: m.start()] + body[m.end() :]
    head = re.search(r"\bSELECT\b(.*?)\bWHERE\b", rest, flags=re.IGNORECASE | re.DOTALL)
    if (
        "KnownMeshTerm" in rest
        or head is None
        or not re.search(rf"[?$]{m.group(1)}\b", head.group(1))
    ):
        raise Unsupported("kg:KnownMeshTerm in a SPARQL constraint")
    return rest, m.group(1)


def _computed_variables(body: str) -> set[str]:
    """Variables a SELECT computes (BIND … AS ?x, (expr AS ?x)) rather than reads from the data."""
    return set(re.findall(r"\bAS\s+[?$](\w+)", body, flags=re.IGNORECASE))


def _graph_query(body: str, target: str, *, counts: bool) -> str:
    """``SELECT $this … WHERE { … } GROUP BY …`` → the same over every graph, with ``?g``.

    The focus pattern (``target``) opens the constraint's own group, as pySHACL binds ``$this``
    before the query runs: Oxigraph then starts from the focus nodes rather than joining a
    scan of the whole body with them afterwards (1.5 s → 0.04 s for kg:findingIntervention).
    A query that counts gets the focus nodes once each, from a sub-query.
    """
    m = re.search(
        r"\bSELECT\b(\s+(?:DISTINCT|REDUCED)\b)?(.*?)\bWHERE\s*\{",
        body,
        flags=re.IGNORECASE | re.DOTALL,
    )
    if m is None or "*" in m.group(2):
        raise Unsupported("SPARQL constraint: a SELECT … WHERE { … } with named variables")
    depth, end = 1, None
    for i in range(m.end(), len(body)):
        ch = body[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                end = i
                break
    if end is None or re.search(r"\bSELECT\b", body[m.end() :], flags=re.IGNORECASE):
        raise Unsupported("SPARQL constraint: sub-queries")
    if "#" in re.sub(r"<[^<>\s]*>", "", body) or any(
        "{" in s or "}" in s for s in re.findall(r"\"[^\"]*\"|'[^']*'", body)
    ):
        raise Unsupported("SPARQL constraint: comments or braces in strings")
    inner, rest = body[m.end() : end], body[end + 1 :]
    if re.search(r"\bGRAPH\b|\bSERVICE\b|\bFROM\b", body, flags=re.IGNORECASE):
        raise Unsupported("SPARQL constraint: GRAPH/SERVICE/FROM")
    rest = re.sub(r"\bGROUP\s+BY\b", "GROUP BY ?g", rest, flags=re.IGNORECASE)
    if re.search(r"\b(ORDER|LIMIT|OFFSET|VALUES)\b", rest, flags=re.IGNORECASE):
        raise Unsupported("SPARQL constraint: solution modifiers")
    head = body[: m.start()] + f"SELECT{m.group(1) or ''} ?g {m.group(2)} WHERE {{ "
    if counts:
        focus = CompiledShapes._focus(target, distinct=True)
        return f"{head}{focus} GRAPH ?g {{ {inner} }} }}{rest}"
    return f"{head}GRAPH ?g {{ {target} {inner} }} }}{rest}"


# --- a batch of units in one store -------------------------------------------------------------


def prepare(batch: ox.Store, table: MeshTable) -> None:
    """Make ``batch`` what pySHACL sees: rdflib's literals and the MeSH table's known terms."""
    # literals rdflib writes otherwise ("01"^^xsd:integer is 1 to rdflib)
    odd = []
    for row in _select(
        batch,
        "SELECT DISTINCT ?o WHERE { GRAPH ?g { ?s ?p ?o } "
        f'FILTER (isLITERAL(?o) && DATATYPE(?o) != <{_XSD_STRING}> && LANG(?o) = "") }}',
    ):
        o = row[0]
        lexical = str(rdflib_term(o))
        if lexical != o.value:
            odd.append((o, ox.Literal(lexical, datatype=o.datatype)))
    for old, new in odd:
        quads = list(batch.quads_for_pattern(None, None, old, None))
        for q in quads:
            batch.remove(q)
            batch.add(ox.Quad(q.subject, q.predicate, new, q.graph_name))
    for q in list(batch.quads_for_pattern(None, _OX_TYPE, _OX_KNOWN, None)):
        batch.remove(q)
    known = []
    for row in _select(
        batch,
        "SELECT DISTINCT ?g ?m WHERE { GRAPH ?g { { ?m ?p ?o } UNION { ?s ?p ?m } } "
        f'FILTER (isIRI(?m) && STRSTARTS(STR(?m), "{_MESH}")) }}',
    ):
        iri = row[1].value
        if is_mesh_ui(ui := iri[len(_MESH) :]) and table.is_known(ui):
            known.append(ox.Quad(row[1], _OX_TYPE, _OX_KNOWN, row[0]))
    batch.extend(known)


class _Terms:
    """Oxigraph terms → rdflib nodes, remembered (the same IRIs come back again and again)."""

    def __init__(self) -> None:
        self._seen: dict[Any, Node] = {}

    def __call__(self, term: Any) -> Node:
        node = self._seen.get(term)
        if node is None:
            node = self._seen[term] = rdflib_term(term)
        return node


def run(
    compiled: CompiledShapes, batch: ox.Store, *, part: int = 0, parts: int = 1
) -> list[Finding]:
    """The compiled queries (every ``parts``-th from ``part``) over ``batch``, deduplicated as
    pySHACL does."""
    terms = _Terms()
    out: list[Finding] = []
    seen: set[tuple[Any, ...]] = set()
    for query in compiled.queries[part::parts]:
        solutions = _select(batch, query.text)
        variables = solutions.variables
        _CURRENT_VARIABLES[:] = variables
        for row in solutions:
            for finding in query.handle(row, terms):
                key = compiled.row_key(finding)
                if key not in seen:
                    seen.add(key)
                    out.append(finding)
    return _recheck(compiled, batch, out)


def _recheck(compiled: CompiledShapes, batch: ox.Store, findings: list[Finding]) -> list[Finding]:
    """Findings of SPARQL constraints with computed numbers in their message, from rdflib."""
    if not compiled.recheck:
        return findings
    from kg.validate import _PreparedQueryGraph

    kept = [f for f in findings if f.constraint not in compiled.recheck]
    redo = {
        (f.graph, f.node_shape, f.constraint, f.focus)
        for f in findings
        if f.constraint in compiled.recheck
    }
    graphs: dict[str, Graph] = {}
    for graph_iri, shape, constraint, focus in sorted(redo, key=str):
        data = graphs.get(graph_iri)
        if data is None:
            data = graphs[graph_iri] = _PreparedQueryGraph()
            triples = [
                q.triple for q in batch.quads_for_pattern(None, None, None, ox.NamedNode(graph_iri))
            ]
            if compiled.direct:  # what kg.validate gives pySHACL: the MeSH table's known terms
                from kg.validate import _known_mesh

                triples += _known_mesh(triples, compiled.table)
            for t in triples:
                data.add((rdflib_term(t.subject), rdflib_term(t.predicate), rdflib_term(t.object)))
        assert constraint is not None
        text = compiled.recheck[constraint]
        severity = _severity(compiled.shapes, shape)
        messages = _messages(compiled.shapes, shape)
        own = _messages(compiled.shapes, constraint)
        rows: list[dict[str, Node]] = []
        for r in data.query(text, initBindings={"this": focus}):  # type: ignore[dict-item]
            d = r.asdict()  # type: ignore[union-attr]
            d.pop("failure", None)
            d.setdefault("this", focus)  # type: ignore[arg-type]
            if d not in rows:
                rows.append(d)  # type: ignore[arg-type]
        for d in rows:
            kept.append(
                compiled._sparql_finding(
                    graph_iri, shape, constraint, severity, messages, own, dict(d)
                )
            )
    return kept


def batches(graphs: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(graphs)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


# --- the store: queried directly where it can be, copied where it must -------------------------

_FABIO = "http://purl.org/spar/fabio/"
_ARTICLE_TYPES = (f"{_FABIO}JournalArticle", f"{_FABIO}BookChapter")
_UNIT_GRAPH = "urn:x-kg-validate:unit:"


@dataclass
class _UnitInfo:
    key: str
    graph: str  # its graph where the queries see it
    pmid: str | None = None
    triples: int = 0


def _graph_infos(store: ox.Store, graphs: list[str]) -> dict[str, _UnitInfo]:
    """Each named graph's triple count and PMID, as :func:`kg.validate._units` gives them."""
    from kg.validate import _pmid_of

    infos = {g: _UnitInfo(key=g, graph=g) for g in graphs}
    for row in _select(
        store, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    ):
        if row[0].value in infos:
            infos[row[0].value].triples = int(row[1].value)
    pmids: dict[str, dict[Any, list[str]]] = {}
    types = ", ".join(f"<{t}>" for t in _ARTICLE_TYPES)
    for row in _select(
        store,
        "SELECT DISTINCT ?g ?a ?pmid WHERE { "
        f"GRAPH ?g {{ ?a a ?c . ?a <{_FABIO}hasPubMedId> ?pmid }} "
        f"FILTER (?c IN ({types}) && isIRI(?a) && isLITERAL(?pmid)) }}",
    ):
        pmids.setdefault(row[0].value, {}).setdefault(row[1], []).append(row[2].value)
    for key, info in infos.items():
        found = pmids.get(key, {})
        if any(len(v) > 1 for v in found.values()):  # which one _pmid_of keeps: ask it
            triples = [
                q.triple for q in store.quads_for_pattern(None, None, None, ox.NamedNode(key))
            ]
            info.pmid = _pmid_of(triples, key)
            continue
        values = {v[0] for v in found.values() if v[0]}
        info.pmid = values.pop() if len(values) == 1 else _pmid_of([], key)
    return infos


def _copied_graphs(store: ox.Store, table: MeshTable) -> set[str]:
    """Graphs pySHACL would not see as they are stored, so that queries cannot read them directly.

    Those that state anything about ``kg:KnownMeshTerm`` (validation adds and drops such
    triples), and those with a literal rdflib writes otherwise (``"01"^^xsd:integer`` is 1).
    """
    out = {
        row[0].value
        for row in _select(
            store,
            "SELECT DISTINCT ?g WHERE { GRAPH ?g { "
            f"{{ ?s ?p <{_KNOWN}> }} UNION {{ <{_KNOWN}> ?p ?o }} "
            f"UNION {{ ?s <{_KNOWN}> ?o }} }} }}",
        )
    }
    odd = []
    # Oxigraph keeps integers and booleans in their canonical form, which is rdflib's too. The
    # distinct objects are sifted here: a FILTER on every triple costs Oxigraph 2-3 times more
    # than handing each distinct object to Python (a third of the triples, on kg's data).
    plain = {_XSD_STRING, _LANG_STRING, str(XSD.integer), str(XSD.boolean)}
    literal = ox.Literal
    for row in _select(store, "SELECT DISTINCT ?o WHERE { GRAPH ?g { ?s ?p ?o } }"):
        o = row[0]
        if type(o) is literal and o.datatype.value not in plain and str(rdflib_term(o)) != o.value:
            odd.append(o)
    for o in odd:
        out |= {
            q.graph_name.value
            for q in store.quads_for_pattern(None, None, o, None)
            if isinstance(q.graph_name, ox.NamedNode)
        }
    return out


def _named_batches(
    store: ox.Store, graphs: list[str], infos: dict[str, _UnitInfo], size: int
) -> Iterator[tuple[ox.Store, list[_UnitInfo]]]:
    """Named graphs copied, ``size`` at a time, into in-memory stores."""
    for chunk in batches(graphs, size):
        batch = ox.Store()
        for g in chunk:
            batch.extend(store.quads_for_pattern(None, None, None, ox.NamedNode(g)))
        yield batch, [infos[g] for g in chunk]


def _unit_batches(units: Iterable[Any], size: int) -> Iterator[tuple[ox.Store, list[_UnitInfo]]]:
    """Units of :func:`kg.validate._units` (pieces of the default graph), one graph each."""
    n = itertools.count()
    for chunk in batches(units, size):
        batch = ox.Store()
        infos = []
        for unit in chunk:
            graph = f"{_UNIT_GRAPH}{next(n)}"
            batch.load(unit.data, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph))
            infos.append(_UnitInfo(key=unit.key, graph=graph, pmid=unit.pmid, triples=unit.triples))
        yield batch, infos


def _fallback_shapes(shapes: Graph, unsupported: Iterable[Node]) -> Graph:
    """The shapes graph with the compiled shapes' targets taken away: what pySHACL still checks."""
    keep = set(unsupported)
    out = Graph()
    target_keys = {
        SH.targetClass,
        SH.targetSubjectsOf,
        SH.targetNode,
        SH.targetObjectsOf,
        SH.target,
    }
    for s, p, o in shapes:
        if p in target_keys and s not in keep:
            continue
        out.add((s, p, o))
    return out


@dataclass(frozen=True)
class _Done:
    """A finding as the caller needs it: its result (PMID and graph left to fill) and report."""

    graph: str
    result: Any  # kg.validate.ValidationResult
    node: str  # the sh:ValidationResult node in ``report``
    report: bytes  # N-Triples


def _finish(compiled: CompiledShapes, findings: list[Finding]) -> list[_Done]:
    from kg.validate import ValidationResult, _component_name, _path_text, _shape_names
    from kg.validate import _severity as severity_name

    names = _shape_names(compiled.shapes)
    out = []
    for f in findings:
        g = Graph()
        r = BNode()
        g.add((r, RDF.type, SH.ValidationResult))
        g.add((r, SH.focusNode, f.focus))
        g.add((r, SH.resultSeverity, f.severity))
        g.add((r, SH.sourceConstraintComponent, f.component))
        g.add((r, SH.sourceShape, f.shape))
        if f.path is not None:
            g.add((r, SH.resultPath, f.path))
            _copy_bnode(compiled.shapes, f.path, g)
        if f.value is not None:
            g.add((r, SH.value, f.value))
        if f.constraint is not None:
            g.add((r, SH.sourceConstraint, f.constraint))
        for m in f.messages:
            g.add((r, SH.resultMessage, Literal(m)))
        result = ValidationResult(
            pmid=None,
            graph=None,
            shape=names.get(f.shape, str(f.shape)),
            constraint=str(f.constraint)
            if isinstance(f.constraint, URIRef)
            else _component_name(f.component),
            focus=str(f.focus),
            path=_path_text(compiled.shapes, f.path),
            value=None if f.value is None else str(f.value),
            severity=severity_name(f.severity),
            message=min(set(f.messages)) if f.messages else "",
        )
        out.append(_Done(f.graph, result, str(r), g.serialize(format="nt", encoding="utf-8")))
    return out


def _copy_bnode(source: Graph, node: Node, into: Graph) -> None:
    if not isinstance(node, BNode):
        return
    for p, o in source.predicate_objects(node):
        into.add((node, p, o))
        _copy_bnode(source, o, into)


def _unit_report(done: list[_Done]) -> bytes:
    if not done:
        return b""
    root = f"_:report{BNode()}"
    lines = [f"{root} <{RDF.type}> <{SH.ValidationReport}> .\n".encode()]
    lines += [f"{root} <{SH.result}> _:{d.node} .\n".encode() for d in done]
    return b"".join(lines) + b"".join(d.report for d in done)


class _Engines:
    """The shapes compiled both ways, and pySHACL for the shapes neither translates."""

    def __init__(self, shapes: Graph, *, subclasses: bool = True) -> None:
        from kg.validate import _Checker

        self.direct = CompiledShapes(shapes, direct=True, subclasses=subclasses)
        self.copied = CompiledShapes(shapes, direct=False, skip=self.direct.unsupported)
        if set(self.copied.unsupported) - set(self.direct.unsupported):
            self.direct = CompiledShapes(
                shapes, direct=True, skip=self.copied.unsupported, subclasses=subclasses
            )
        unsupported = set(self.direct.unsupported) | set(self.copied.unsupported)
        self.fallback = (
            _Checker(_fallback_shapes(shapes, unsupported), "pyshacl") if unsupported else None
        )

    def copied_batch(self, batch: ox.Store) -> list[_Done]:
        prepare(batch, self.copied.table)
        return _finish(self.copied, run(self.copied, batch))


_WORKER: _Engines | None = None
_WORKER_STORE: ox.Store | None = None
_CLAIMS: Any = None  # one flag per part of the queries, shared by every process


def _claim(claims: Any, part: int) -> bool:
    """Take ``part`` for this process unless another has taken it (each part runs once)."""
    with claims.get_lock():
        if claims[part]:
            return False
        claims[part] = 1
        return True


def _init_worker(shapes_ttl: bytes, location: str | None, subclasses: bool, claims: Any) -> None:
    global _WORKER, _WORKER_STORE, _CLAIMS
    shapes = Graph()
    shapes.parse(data=shapes_ttl, format="turtle")
    _WORKER = _Engines(shapes, subclasses=subclasses)
    _WORKER_STORE = ox.Store.read_only(location) if location else None
    _CLAIMS = claims


def _work_direct(part: int, parts: int) -> list[_Done]:
    assert _WORKER is not None and _WORKER_STORE is not None, "worker not initialised"
    if not _claim(_CLAIMS, part):
        return []  # the parent process took it
    return _finish(_WORKER.direct, run(_WORKER.direct, _WORKER_STORE, part=part, parts=parts))


def _work_copied(nquads: bytes) -> list[_Done]:
    assert _WORKER is not None, "worker not initialised"
    batch = ox.Store()
    batch.load(nquads, format=ox.RdfFormat.N_QUADS)
    return _WORKER.copied_batch(batch)


def validate_sparql(
    store: ox.Store,
    shapes: Graph,
    *,
    location: str | None = None,
    workers: int = 1,
    per_article: bool = True,
    fail_on: Any = "Violation",
    on_unit: Callable[[], None] | None = None,
    batch_size: int = 500,
) -> Any:
    """:func:`kg.validate.validate` with the ``sparql`` engine (its arguments, checked there).

    ``location``: the store's directory, for worker processes to open it read-only; without
    it (an in-memory store) the queries run in this process. With ``workers`` > 1 over a
    store on disk, this process is one of them: the queries are cut into parts, ``workers`` - 1
    processes take them from the front and this one, once it has found which graphs must be
    copied and checked those, from the back.
    """
    from concurrent.futures import Future, ProcessPoolExecutor

    from kg.validate import _report, _split_default, _Unit, _unit, _units

    subclasses = bool(store.query(f"ASK {{ GRAPH ?g {{ ?s <{RDFS.subClassOf}> ?o }} }}"))
    pool = None
    claims: Any = None
    # over a store on disk this process is one of the ``workers``: it checks which graphs must
    # be copied, copies them, then takes the parts of the queries that the pool has not begun
    parallel = workers > 1 and location is not None and per_article
    if workers > 1:
        import multiprocessing

        # the workers split the queries by their index: every process compiles the same bytes
        shapes_ttl = shapes.serialize(format="turtle", encoding="utf-8")
        shapes = Graph().parse(data=shapes_ttl, format="turtle")
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["kg.validate_sparql"])
        # parts are claimed, not cancelled: cancelling a future a dying pool is about to fail
        # makes CPython 3.11's pool print a traceback (InvalidStateError) from its own thread
        claims = context.Array("b", 4 * workers)
        pool = ProcessPoolExecutor(
            max_workers=workers - 1 if parallel else workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(shapes_ttl, location, subclasses, claims),
        )
    done: list[_Done] = []  # from the queries over the store itself
    done_copied: list[_Done] = []  # from copies of graphs
    infos: list[_UnitInfo] = []
    direct_graphs: set[str] = set()
    futures: list[Future[list[_Done]]] = []
    futures_copied: list[Future[list[_Done]]] = []
    starter = None
    with worker_deaths():
        try:
            parts = 4 * workers
            if parallel:
                # the pool starts at once, over every graph (what it finds in a graph that must be
                # copied, known later, is dropped), from a thread: the first submit waits until
                # the fork server has imported kg (most of a second), this process need not
                import threading

                assert pool is not None
                submit = pool.submit

                def start() -> None:
                    # a pool that cannot start (no fork server: a script without a main guard, no
                    # processes left…) leaves its parts unsubmitted: this process runs them below
                    try:
                        for i in range(parts):
                            futures.append(submit(_work_direct, i, parts))
                    except Exception as e:
                        why = next(
                            (line.strip() for line in str(e).splitlines() if line.strip()), ""
                        )
                        log.warning("no worker processes (%s: %s); validating in this one",
                                    type(e).__name__, why)

                starter = threading.Thread(target=start, name="kg-validate-pool")
                starter.start()
            engines = _Engines(shapes, subclasses=subclasses)
            if per_article:
                graphs = sorted(
                    g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)
                )
                by_graph = _graph_infos(store, graphs)
                slow = _copied_graphs(store, engines.direct.table)
                direct_graphs = {g for g in graphs if g not in slow}
                if direct_graphs and not parallel:
                    done += _finish(engines.direct, run(engines.direct, store))
                infos = [by_graph[g] for g in graphs]
                default = [
                    q.triple for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())
                ]
                pieces = list(_split_default(default)) if default else []
                copied: Iterator[tuple[ox.Store, list[_UnitInfo]]] = itertools.chain(
                    _named_batches(store, [g for g in graphs if g in slow], by_graph, batch_size),
                    _unit_batches(pieces, batch_size),
                )
            else:
                copied = _unit_batches(_units(store, per_article=False), batch_size)
            for batch, batch_infos in copied:
                infos += [i for i in batch_infos if i.graph.startswith(_UNIT_GRAPH)]
                if pool is not None and not parallel:
                    futures_copied.append(
                        pool.submit(_work_copied, batch.dump(format=ox.RdfFormat.N_QUADS) or b"")
                    )
                else:
                    done_copied += engines.copied_batch(batch)
            if starter is not None:
                starter.join()
            mine: set[int] = set()
            for part in reversed(range(parts if parallel else 0)):  # the parts no worker has begun
                if not _claim(claims, part):
                    break  # a worker has begun it: the workers take the rest from the front
                mine.add(part)
                done += _finish(engines.direct, run(engines.direct, store, part=part, parts=parts))
            for part, future in enumerate(futures):
                if part not in mine:  # (what a worker returns for a part taken here is empty)
                    done += future.result()
            for future in futures_copied:
                done_copied += future.result()
        finally:
            if starter is not None:
                starter.join()
            if pool is not None:
                pool.shutdown()

    by_unit: dict[str, list[_Done]] = {}
    copied_graphs = {i.graph for i in infos} - direct_graphs
    for d in done:
        if d.graph in direct_graphs:
            by_unit.setdefault(d.graph, []).append(d)
    for d in done_copied:
        if d.graph in copied_graphs:
            by_unit.setdefault(d.graph, []).append(d)
    merged: list[tuple[Any, list[Any], bytes]] = []
    for info in infos:
        graph = None if info.key.startswith("default#") or info.key == "all" else info.key
        found = by_unit.get(info.graph, [])
        results = [dataclasses.replace(d.result, pmid=info.pmid, graph=graph) for d in found]
        report = _unit_report(found)
        if engines.fallback is not None:
            triples = (
                [
                    q.triple
                    for q in store.quads_for_pattern(None, None, None, ox.NamedNode(info.graph))
                ]
                if not info.graph.startswith(_UNIT_GRAPH)
                else _piece(store, info, per_article)
            )
            more, more_report = engines.fallback.check(_unit(info.key, info.pmid, triples))
            results += more
            report = _merge_reports(report, more_report)
        results.sort(key=lambda r: (r.focus, r.shape, r.path or "", r.value or "", r.message))
        merged.append(
            (_Unit(key=info.key, pmid=info.pmid, data=b"", triples=info.triples), results, report)
        )
        if on_unit is not None:
            on_unit()
    return _report(merged, fail_on=fail_on)


def _piece(store: ox.Store, info: _UnitInfo, per_article: bool) -> list[ox.Triple]:
    """The triples of a piece of the default graph (for pySHACL's shapes), found again."""
    from kg.validate import _units

    for unit in _units(store, per_article=per_article):
        if unit.key == info.key:
            return list(ox.parse(unit.data, format=ox.RdfFormat.N_TRIPLES))
    return []


def _merge_reports(a: bytes, b: bytes) -> bytes:
    if not b:
        return a
    if not a:
        return b
    g = Graph()
    for data in (a, b):
        g.parse(data=data, format="nt")
    roots = list(g.subjects(RDF.type, SH.ValidationReport))
    for extra in roots[1:]:
        for o in list(g.objects(extra, SH.result)):
            g.add((roots[0], SH.result, o))
        g.remove((extra, None, None))
    return g.serialize(format="nt", encoding="utf-8")

"""SPARQL over the embedded store: kg's prefixes predeclared, all graphs as the default graph.

A query runs as a :class:`PreparedQuery`: its text plus its parameters as typed RDF terms.
Input never reaches the query text as written. Values kg can validate against a strict grammar
— a PMID (digits), a MeSH UI (``D``/``C`` and digits) or the set of UIs under one, an
integer — are turned into terms by code and fill the query's ``VALUES ?name { UNDEF }`` line
(:func:`values_block` re-checks every term it writes). Free text (``string``, ``iri``) is bound
by pyoxigraph's ``substitutions`` and never written at all.

Why not substitute everything: pyoxigraph plans a query before it substitutes, so a
substituted IRI does not steer the join order — the co-occurrence question took 570 ms with
its descriptor substituted and 75 ms with the same descriptor in VALUES on a 1M-triple store;
and substitution binds one term, where the MeSH tree of a descriptor is a set.
"""

from __future__ import annotations

import ctypes
import functools
import io
import logging
import multiprocessing
import os
import re
import signal
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO, Any, TypeVar, cast
from typing import Literal as Kind

from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    Store,
    Triple,
    Variable,
    serialize,
)

from kg.errors import KgError, StoreError, UsageError, one_line
from kg.formats import FORMATS
from kg.mesh import MeshTable
from kg.queries import (
    VALUES_TYPES,
    NamedQuery,
    Param,
    activate,
    named_queries,
    parse_header,
    values_line,
)
from kg.rdf.iris import is_mesh_ui, is_pmid
from kg.rdf.namespaces import PREFIXES, XSD
from kg.store import KgStore
from kg.summary import ONLY_WITH, SUMMARIZED, holds, open_summary

log = logging.getLogger(__name__)
T = TypeVar("T")

RESULT_FORMATS = {
    "csv": QueryResultsFormat.CSV,
    "tsv": QueryResultsFormat.TSV,
    "json": QueryResultsFormat.JSON,
    "xml": QueryResultsFormat.XML,
}
GRAPH_FORMATS = ("ttl", "nt", "jsonld")
#: Every ``--format``: a table for people, SPARQL results, RDF for graph queries.
OUTPUT_FORMATS = ("table", *RESULT_FORMATS, *GRAPH_FORMATS)

Term = NamedNode | Literal | BlankNode
_DESCRIPTOR = re.compile(r"^[DC]\d{6,9}$")
_SAFE_IRI = re.compile(r"^http://id\.nlm\.nih\.gov/mesh/[DCQ]\d{6,9}(?:Q\d{6,9})?$")
_SAFE_NUMBER = re.compile(r"^[+-]?\d{1,18}$")
_SAFE_DATATYPES = frozenset({XSD.string.value, XSD.integer.value})
_SYNTAX = re.compile(r"^error at (\d+):(\d+): (.*)$", re.S)
_NUMERIC = frozenset(
    XSD[t].value
    for t in ("integer", "decimal", "double", "float", "int", "long", "nonNegativeInteger")
)


class QuerySyntaxError(KgError):
    """The query does not parse; the message names the line and column."""

    exit_code = 2


class ParameterError(UsageError):
    """A parameter that the query does not declare, or a value its type does not allow."""


@dataclass
class Result:
    """What a query returned: solutions, a boolean, or triples (a list: read from a server)."""

    value: QuerySolutions | QueryBoolean | QueryTriples | list[Triple]


@dataclass(frozen=True, slots=True)
class PreparedQuery:
    """A query ready to run: ``text`` (``mesh-tree`` sets written in) and ``bindings``.

    ``bindings`` maps a variable name to the term it is bound to: pyoxigraph's
    ``substitutions``, rdflib's ``initBindings``. ``summary``: the same question asked of the
    store's summary (:mod:`kg.summary`), which :func:`run_query` runs instead when the store
    has one; None for every other query.
    """

    text: str
    bindings: dict[str, Term] = field(default_factory=dict)
    source: str = "query"
    summary: str | None = None


# --- parameters ---------------------------------------------------------------------------


def prepare(
    query: str | NamedQuery,
    params: Mapping[str, object] | None = None,
    *,
    mesh: MeshTable | None = None,
    undeclared: bool = False,
) -> PreparedQuery:
    """Bind ``params`` to the parameters ``query``'s header declares, by their types.

    A declared parameter's value is a string (as on the command line) or a Python value of
    its type; a ``mesh-tree`` one may be a list (the union of their trees). Missing required
    parameters, unknown names and malformed values raise :class:`ParameterError`. With
    ``undeclared``, a name the header does not declare is bound by its Python type (str →
    plain literal, int → xsd:integer, a pyoxigraph term as it is), as the Python API allows.
    """
    named = query if isinstance(query, NamedQuery) else parse_header(query)
    try:
        return _prepare(named, dict(params or {}), mesh=mesh, undeclared=undeclared)
    except ParameterError as exc:
        exc.source = exc.source or named.name
        raise


def _prepare(
    named: NamedQuery, given: dict[str, object], *, mesh: MeshTable | None, undeclared: bool
) -> PreparedQuery:
    text = named.text
    bindings: dict[str, Term] = {}
    for name in given:
        if named.param(name) is None and not undeclared:
            declared = ", ".join(p.name for p in named.params) or "none"
            raise ParameterError(f"no parameter {name!r} (declared: {declared})", source=named.name)
    values: dict[Param, object] = {}
    for p in named.params:
        value = given.pop(p.name, None)
        if value is None:
            value = p.default
        if value is not None:
            values[p] = value
        elif p.required:
            raise ParameterError(
                f"the parameter {p.name} is required (--param {p.name}=…, a {p.type}): "
                f"{p.description}",
                source=named.name,
            )
    text = activate(text, (p.name for p in values))
    # The shipped question a summary answers (not a file of the same name): asked of it too.
    shipped = named_queries().get(named.name)
    summary = SUMMARIZED.get(named.name) if shipped and shipped.text == named.text else None
    needed = ONLY_WITH.get(named.name)
    if needed is not None and needed not in {p.name for p in values}:
        summary = None  # the summary holds the question's rows with this parameter only
    if summary is not None:
        summary = activate(summary, (p.name for p in values))
    for p, value in values.items():
        if p.type in VALUES_TYPES:
            terms = _mesh_tree(p, value, mesh) if p.type == "mesh-tree" else [_term(p, value, mesh)]
            text = _fill_values(text, p, terms)
            if summary is not None:
                summary = _fill_values(summary, p, terms)
        else:
            bindings[p.name] = _term(p, value, mesh)
    for name, value in given.items():  # undeclared, allowed
        bindings[name] = python_term(name, value)
    if given:  # a variable of the question's own: the summary's answer does not have it
        summary = None
    return PreparedQuery(text, bindings, named.name, summary)


def _term(p: Param, value: object, mesh: MeshTable | None) -> Term:
    if isinstance(value, NamedNode | Literal | BlankNode):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ParameterError(f"{p.name}={value!r}: give a {p.type} as text")
    text = str(value).strip()
    if p.type == "pmid":
        if not is_pmid(text):
            raise ParameterError(f"{p.name}={text!r}: not a PMID (1 to 10 digits, no leading 0)")
        return Literal(text)
    if p.type == "mesh":
        return mesh_iri(resolve_mesh(text, param=p.name, mesh=mesh))
    if p.type == "integer":
        if not re.fullmatch(r"[+-]?\d+", text):
            raise ParameterError(f"{p.name}={text!r}: not a whole number")
        return Literal(str(int(text)), datatype=XSD.integer)
    if p.type == "iri":
        try:
            node = NamedNode(text)
        except ValueError as exc:
            raise ParameterError(f"{p.name}={text!r}: not an IRI ({exc})") from exc
        if ":" not in text:
            raise ParameterError(f"{p.name}={text!r}: not an absolute IRI")
        return node
    return Literal(str(value))  # string: as given, not stripped


def python_term(name: str, value: object) -> Term:
    """A term for an undeclared Python parameter, by the value's type."""
    if isinstance(value, NamedNode | Literal | BlankNode):
        return value
    if isinstance(value, bool):
        return Literal("true" if value else "false", datatype=XSD.boolean)
    if isinstance(value, int):
        return Literal(str(value), datatype=XSD.integer)
    if isinstance(value, Decimal):
        return Literal(format(value, "f"), datatype=XSD.decimal)
    if isinstance(value, float):
        return Literal(repr(value), datatype=XSD.double)
    if isinstance(value, str):
        return Literal(value)
    raise ParameterError(f"{name}={value!r}: cannot bind a {type(value).__name__}")


def resolve_mesh(value: str, *, param: str = "mesh", mesh: MeshTable | None = None) -> str:
    """The descriptor UI ``value`` names: a UI (``D016756``) or a label kg's MeSH table knows."""
    text = value.strip()
    if _DESCRIPTOR.match(text.upper()):
        return text.upper()
    table = mesh or MeshTable.default()
    ui = table.lookup(text) if text else None
    if ui is None:
        close = table.suggest(text) if text else []
        said = ", ".join(f"{label} ({u})" for u, label in close)
        hint = f"; did you mean {said}?" if close else ""
        raise ParameterError(
            f"{param}={value!r}: not a MeSH descriptor UI (D or C and 6 to 9 digits, "
            f"like D016756) nor a label or entry term kg's MeSH table knows{hint}"
        )
    return ui


def mesh_iri(ui: str) -> NamedNode:
    """``mesh:{ui}`` for a validated UI (anything else is refused, never written into a query)."""
    if not is_mesh_ui(ui):
        raise ParameterError(f"not a MeSH UI: {ui!r}")
    return NamedNode(PREFIXES["mesh"] + ui)


def _mesh_tree(p: Param, value: object, mesh: MeshTable | None) -> list[NamedNode]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, Iterable) or isinstance(values, bytes):
        raise ParameterError(f"{p.name}={value!r}: give MeSH UIs or labels as text")
    table = mesh or MeshTable.default()
    uis: set[str] = set()
    for v in values:
        if not isinstance(v, str):
            raise ParameterError(f"{p.name}={v!r}: give a MeSH UI or label as text")
        ui = resolve_mesh(v, param=p.name, mesh=table)
        tree = table.narrower(ui)
        if not table.trees(ui):
            log.warning("%s has no tree numbers in kg's MeSH table: only it matches", ui)
        uis |= tree or {ui}
    if not uis:
        raise ParameterError(f"{p.name}: no MeSH UI given")
    return [mesh_iri(ui) for ui in sorted(uis)]


def _fill_values(text: str, p: Param, terms: list[NamedNode] | list[Term]) -> str:
    """``VALUES ?name { UNDEF }`` → ``VALUES ?name { <iri> … }`` (on the same line)."""
    block = values_block(p.name, terms)
    return values_line(p.name).sub(lambda _: block, text, count=1)


def values_block(name: str, terms: Iterable[Term]) -> str:
    """``VALUES ?name { … }`` of terms kg validated: MeSH IRIs, or integer/PMID literals.

    Every term is checked again here, so that nothing else can be written into a query.

    >>> values_block("pmid", [Literal("23906502")])
    'VALUES ?pmid { "23906502" }'
    >>> values_block("x", [Literal("1 } DROP ALL")])
    Traceback (most recent call last):
    kg.query.ParameterError: not a value kg writes into a query: "1 } DROP ALL"
    """
    written = []
    for term in terms:
        ok = (isinstance(term, NamedNode) and _SAFE_IRI.match(term.value)) or (
            isinstance(term, Literal)
            and term.datatype.value in _SAFE_DATATYPES
            and _SAFE_NUMBER.match(term.value)
        )
        if not ok:
            raise ParameterError(f"not a value kg writes into a query: {term}")
        written.append(str(term))
    return f"VALUES ?{name} {{ {' '.join(written)} }}"


# --- what a query may not do --------------------------------------------------------------

#: The deepest nesting of ``{``, ``(``, ``[`` and ``<<`` a query may have. pyoxigraph's parser
#: recurses on each level and a few thousand overflow the stack (the process dies, exit 139).
MAX_QUERY_DEPTH = 256


class QueryRefused(KgError):
    """A query kg will not run: a ``SERVICE`` clause (a request to another server on the
    query's behalf) without the caller's consent, or nesting deeper than
    :data:`MAX_QUERY_DEPTH`."""


_LEX = re.compile(
    r"""
      (?P<ws>[ \t\r\n]+)
    | (?P<comment>\#[^\r\n]*)
    | (?P<string>'''(?:'{0,2}(?:[^'\\]|\\[\s\S]))*'''
               | \"\"\"(?:"{0,2}(?:[^"\\]|\\[\s\S]))*\"\"\"
               | '(?:[^'\\\r\n]|\\[\s\S])*'
               | "(?:[^"\\\r\n]|\\[\s\S])*")
    | (?P<var>[?$][\w\u00b7\u0300-\u036f\u203f\u2040]+)
    | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
    | (?P<word>[\w:](?:[\w.\-:\u00b7\u0300-\u036f\u203f\u2040%]
                      |\\[_~.\-!$&'()*+,;=/?\#@%])*)
    | (?P<triple_open><<)
    | (?P<triple_close>>>)
    | (?P<other>[\s\S])
    """,
    re.X,
)
_IRIREF = re.compile(r'<(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>')
#: Tokens after which ``<`` inside an expression is "less than", not the start of an IRI.
_OPERAND_END = frozenset({"?", "0", '"', "@", "<>", "p:", ")", "true", "false"})
#: The token a kind of lexeme leaves behind (a bare word leaves itself, lower-cased).
_TOKEN = {
    "var": "?",
    "number": "0",
    "string": '"',
    "lang": "@",
    "triple_open": "<<",
    "triple_close": ">>",
}
#: Words after which an IRI and ``(`` make a function call (``FILTER ex:f(…)``).
_BEFORE_CALL = frozenset({"filter", "by", "asc", "desc", "having"})


@dataclass(frozen=True, slots=True)
class QueryShape:
    """What :func:`query_shape` found: how deep the query nests, where it names SERVICE, and
    where its own dataset clause (FROM, FROM NAMED) starts."""

    depth: int
    service_at: int | None  # the character offset of a SERVICE keyword, or None
    from_at: int | None = None  # the offset of a FROM (NAMED) dataset clause, or None
    group_at: int | None = None  # the offset just past the "{" opening the WHERE clause


def query_shape(text: str, *, stop_at: int = MAX_QUERY_DEPTH) -> QueryShape:
    """Scan ``text`` as SPARQL's tokenizer would: brackets and the ``SERVICE`` keyword count
    only outside strings, comments and IRIs. The scan stops once the depth passes ``stop_at``.

    ``<`` is ambiguous in SPARQL (an IRI, or "less than"); it is read as an operator only
    where an expression may compare (inside the parentheses of an expression, after an
    operand), as a parser would. A bare word that holds ``SERVICE``
    (Oxigraph reads ``trueSERVICE`` as ``true`` then the keyword) counts as the keyword; a
    prefixed name counts when its prefix holds it.

    >>> query_shape('SELECT * { ?s ?p "SERVICE { {" # SERVICE\\n }')
    QueryShape(depth=1, service_at=None, from_at=None, group_at=10)
    >>> query_shape("SELECT * { ?s ?p ?o FILTER(?o<1)SERVICE#>\\n<http://x/>{} }").service_at
    32
    """
    stack: list[str] = []  # "{", "[", "(expr", "(list", "<<"
    depth = 0
    service_at: int | None = None
    from_at: int | None = None
    group_at: int | None = None
    prev, word = "", ""  # the last token (see _TOKEN; a bare word: itself), the one before
    pos, end = 0, len(text)
    while pos < end and depth <= stop_at:
        if text[pos] == "<" and not text.startswith("<<", pos):
            comparing = bool(stack) and stack[-1] == "(expr" and prev in _OPERAND_END
            m = None if comparing else _IRIREF.match(text, pos)
            word, prev = prev, "<>" if m else "<"
            pos = m.end() if m else pos + 1
            continue
        m = _LEX.match(text, pos)
        assert m is not None  # ``other`` matches any character
        kind, value, start, pos = m.lastgroup or "other", m.group(), m.start(), m.end()
        if kind in ("ws", "comment"):
            continue
        token = value if kind == "other" else _TOKEN.get(kind, kind)
        if kind == "word":
            if ":" in value:
                stripped = value.rstrip(".")  # a prefixed name does not end with "."
                pos -= len(value) - len(stripped)
                head, token = stripped.split(":", 1)[0].lower(), "p:"
                named = "service" in head
            else:
                token = value.lower()
                named = "service" in token
                if token == "from" and not stack and from_at is None:
                    from_at = start  # FROM or FROM NAMED: the query gives its own dataset
            if named and service_at is None:
                service_at = start
        elif kind == "triple_open":
            stack.append("<<")
        elif kind == "triple_close":
            if stack and stack[-1] == "<<":
                stack.pop()
        elif value in "{[":
            if value == "{" and not stack and group_at is None:
                group_at = pos
            stack.append(value)
        elif value == "(":
            expression = (
                not stack  # SELECT (… AS ?x), ORDER BY (…), GROUP BY (…)
                or stack[-1] == "(expr"
                or (prev not in _OPERAND_END and prev.isidentifier() and prev != "a")
                or (prev in ("p:", "<>") and word in _BEFORE_CALL)
            )
            stack.append("(expr" if expression else "(list")  # else a collection, a VALUES row
        elif value in "})]" and stack:
            stack.pop()
        depth = max(depth, len(stack))
        word, prev = prev, token
    return QueryShape(depth, service_at, from_at, group_at)


#: The stack a query runs on (see :func:`on_query_stack`). pyoxigraph recurses not only on
#: nesting but along chains — ``1+1+…``, ``<p>/<p>/…``, ``{…} UNION {…} …`` — and a thread's
#: usual 8 MiB ends at about 6,000 links (the process dies); 256 MiB holds every chain that
#: fits in ``kg serve``'s query size limit. It is reserved address space, not memory used.
QUERY_STACK_BYTES = 256 * 1024 * 1024


def on_query_stack(run: Callable[[], T]) -> T:
    """``run()`` on a thread with a :data:`QUERY_STACK_BYTES` stack (its exception re-raised),
    so that a long chain in a query is slow rather than fatal. Run there what makes pyoxigraph
    parse or evaluate: the query call and the reading of its results."""
    outcome: list[Any] = []

    def body() -> None:
        try:
            outcome.append((True, run()))
        except BaseException as exc:  # handed to the caller's thread
            outcome.append((False, exc))

    try:
        previous = threading.stack_size(QUERY_STACK_BYTES)
    except (ValueError, RuntimeError):  # a platform without a settable stack size
        return run()
    try:
        thread = threading.Thread(target=body, name="kg-query", daemon=True)
        thread.start()
    except RuntimeError:  # the address space cannot hold the stack: run here
        return run()
    finally:
        threading.stack_size(previous)
    thread.join()
    ok, value = outcome[0]
    if not ok:
        raise value
    return cast(T, value)


def _mentions_service(text: str) -> bool:
    """Whether ``service`` is in the text at all, \\u escapes read (case-insensitive)."""
    if re.search("service", text, re.I):
        return True
    unescaped = re.sub(
        r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})",
        lambda m: chr(int(m[1] or m[2], 16)) if int(m[1] or m[2], 16) < 0x110000 else "",
        text,
    )
    return unescaped != text and re.search("service", unescaped, re.I) is not None


def _parsed_service(text: str) -> bool:
    """Whether a second SPARQL parser (rdflib's) finds a SERVICE clause; True when it cannot
    parse the query (so that what cannot be checked is not run)."""
    try:
        from pyparsing import ParseResults
        from rdflib.plugins.sparql.parser import parseQuery
        from rdflib.plugins.sparql.parserutils import CompValue

        todo: list[object] = [parseQuery(text)]
    except Exception:  # any failure to parse means "not verified"
        return True
    while todo:
        node = todo.pop()
        if isinstance(node, CompValue):
            if node.name == "ServiceGraphPattern":
                return True
            todo.extend(node.values())
        elif isinstance(node, ParseResults | list | tuple):
            todo.extend(node)
    return False


def check_query(
    text: str, *, allow_service: bool = False, source: str = "query"
) -> QueryShape:
    """Refuse a query nested deeper than :data:`MAX_QUERY_DEPTH`, and one with a SERVICE
    clause unless ``allow_service``: raise :class:`QueryRefused` with a one-line message.
    Otherwise return what the scan found (:class:`QueryShape`).

    Read before the query reaches pyoxigraph, which would send an HTTP request to whatever a
    SERVICE clause names (there is no option to stop it) and crashes on deep nesting. A query
    that mentions "service" outside a SERVICE keyword is also parsed by rdflib's SPARQL
    parser; if that cannot parse it, it is refused too.
    """
    shape = query_shape(text)
    if shape.depth > MAX_QUERY_DEPTH:
        raise QueryRefused(
            f"the query nests brackets ({{ ( [ <<) more than {MAX_QUERY_DEPTH} levels deep, "
            "kg's limit",
            source=source,
        )
    if allow_service:
        return shape
    if shape.service_at is not None:
        line = text.count("\n", 0, shape.service_at) + 1
        column = shape.service_at - (text.rfind("\n", 0, shape.service_at) + 1) + 1
        raise QueryRefused(
            f"SERVICE (line {line}, column {column}) is refused: kg does not send requests "
            "to other servers on a query's behalf",
            source=source,
        )
    if _mentions_service(text) and _parsed_service(text):
        raise QueryRefused(
            "SERVICE is refused: kg does not send requests to other servers on a query's "
            "behalf, and could not rule out a SERVICE clause in this query",
            source=source,
        )
    return shape


# --- running ------------------------------------------------------------------------------


def run_query(
    store: KgStore | Store,
    query: str | PreparedQuery,
    *,
    allow_service: bool = False,
    summary: Store | None = None,
) -> Result:
    """Run SPARQL 1.1 ``query``; the default graph is the union of all named graphs unless
    the query gives its own dataset (FROM, FROM NAMED).

    A question a summary answers (``query.summary``) is asked of ``summary`` (default: the
    summary of a :class:`KgStore`'s version) when there is one that holds it, else of the
    store: the same rows either way. A SERVICE clause (pyoxigraph would fetch from the server
    it names) is refused unless ``allow_service``; so is nesting deeper than
    :data:`MAX_QUERY_DEPTH` (see :func:`check_query`).
    """
    prepared = query if isinstance(query, PreparedQuery) else PreparedQuery(query)
    shape = check_query(prepared.text, allow_service=allow_service, source=prepared.source)
    substitutions: dict[Variable, NamedNode | BlankNode | Literal | Triple] = {
        Variable(k): v for k, v in prepared.bindings.items()
    }
    target, text = store if isinstance(store, Store) else store.store, prepared.text
    if prepared.summary is not None:
        if summary is None and isinstance(store, KgStore):
            summary = store.summary
        if summary is not None and holds(summary, prepared.source):
            target, text = summary, prepared.summary
    try:
        value = target.query(
            text,
            prefixes=PREFIXES,
            # a FROM clause gives the query's own dataset (the union flag would override it)
            use_default_graph_as_union=shape.from_at is None,
            substitutions=substitutions or None,
        )
    except SyntaxError as exc:
        message = syntax_message(str(exc), text)
        raise QuerySyntaxError(message, source=prepared.source) from exc
    except RuntimeError as exc:
        if "SELECT projection" in str(exc):
            var = re.search(r"\?\w+", str(exc))
            raise ParameterError(
                f"the parameter {var.group(0) if var else ''} must be in the SELECT clause: "
                "kg binds parameters by substitution, which reports them in each row",
                source=prepared.source,
            ) from exc
        raise KgError(f"query failed: {exc}", source=prepared.source) from exc
    except (OSError, ValueError) as exc:
        raise KgError(f"query failed: {exc}", source=prepared.source) from exc
    return Result(value)


def syntax_message(error: str, text: str) -> str:
    """Oxigraph's parse error, shortened: line, column, what was expected, and where."""
    m = _SYNTAX.match(error)
    if m is None:
        return f"query does not parse: {error}"
    line, column, detail = int(m[1]), int(m[2]), m[3]
    lines = text.splitlines()
    before = lines[line - 1][: max(0, column - 1)] if 0 < line <= len(lines) else ""
    while not before.strip() and line > 1:  # at the start of a line: say where the last one ends
        line -= 1
        before = lines[line - 1].rstrip() if line <= len(lines) else ""
        column = len(before) + 1
    if "Prefix not found" in detail:
        name = re.search(r"([A-Za-z][\w.-]*)?:[^\s:]*$", before)
        prefix = name[1] if name and name[1] else ""
        what = f"undeclared prefix '{prefix}:'"
        what += " (kg query --prefixes lists those every query has)"
    else:
        expected = re.sub(r"\[[^\]]*\]", "", detail.removeprefix("expected ").replace("\n", " "))
        tokens = [t.strip() for t in expected.split(", ") if t.strip() and t.strip() != "one of"]
        tokens = [t.removeprefix("one of ") for t in tokens]
        what = "expected " + ", ".join(tokens[:10]) if tokens else "unexpected input"
    near = before[-20:].strip()
    where = f", near {near!r}" if near else ""
    return f"syntax error at line {line}, column {column}: {what}{where}"


# --- limits: time and memory, watched from another process --------------------------------
#
# pyoxigraph cannot interrupt a query, nor bound what it allocates: a cartesian product under
# ORDER BY grows by hundreds of MiB a second. So a query runs in a process of its own, which
# the process that waits for it watches (:func:`wait_bounded`) and kills past a limit: the
# serve pool's workers (:mod:`kg.web.pool`), and the child of ``kg query`` (:func:`run_limited`).

MiB = 1024 * 1024
#: How often a watched process's memory is read: a query allocating 500 MiB/s overshoots its
#: limit by about 12 MiB.
WATCH_INTERVAL_S = 0.025
_UNITS = {"": MiB, "b": 1, "k": 1024, "m": MiB, "g": 1024 * MiB, "t": 1024 * 1024 * MiB}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(?:([kmgt])i?b?|(b))?\s*$", re.I)


def parse_size(text: str) -> int:
    """Bytes in a size as written on the command line: units of 1024, a bare number is MiB.

    >>> [parse_size(s) for s in ("1GiB", "200M", "512mib", "1.5G", "64", "4096B")]
    [1073741824, 209715200, 536870912, 1610612736, 67108864, 4096]
    """
    m = _SIZE.match(text)
    if m is None:
        raise ValueError(f"{text!r} is not a size: write e.g. 512MiB, 1GiB or 2G")
    unit = (m[2] or m[3] or "").lower()
    return int(float(m[1]) * _UNITS[unit])


def format_size(size: int) -> str:
    """A size for a message, in the largest binary unit that keeps it at least 1.

    >>> [format_size(n * 1024**2) for n in (1024, 200, 1536, 1034, 10.25)]
    ['1 GiB', '200 MiB', '1.5 GiB', '1.01 GiB', '10.2 MiB']
    """
    value, unit = float(size), "bytes"
    for name in ("KiB", "MiB", "GiB", "TiB"):
        if value < 1024:
            break
        value, unit = value / 1024, name
    text = f"{value:.{0 if value >= 100 else 1 if value >= 10 else 2}f}"
    return (text.rstrip("0").rstrip(".") if "." in text else text) + f" {unit}"


def resident_bytes(pid: int) -> int | None:
    """The memory process ``pid`` holds of its own — resident anonymous pages: heap and stacks,
    not shared libraries nor the store's files mapped in — or None where it cannot be read
    (a system without ``/proc``, a process gone)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            fields = statm.read().split()
    except OSError:
        return None
    return (int(fields[1]) - int(fields[2])) * _PAGE_SIZE


try:
    _PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
except (AttributeError, ValueError, OSError):  # pragma: no cover - not a POSIX system
    _PAGE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Overrun:
    """Why :func:`wait_bounded` stopped waiting: time ran out, or the process held ``used``
    bytes, more than it may."""

    what: Kind["time", "memory"]
    used: int = 0


def wait_bounded(
    conn: Connection, pid: int, *, deadline: float | None, max_memory: int | None
) -> Overrun | None:
    """Wait until ``conn`` (from process ``pid``) has something to read: None then, or an
    :class:`Overrun` once ``time.monotonic()`` passes ``deadline`` or ``pid`` holds more than
    ``max_memory`` bytes (None: no such limit). The caller kills the process."""
    while True:  # both read before each wait too: a stream of results is watched as well
        if max_memory is not None:
            used = resident_bytes(pid)
            if used is not None and used > max_memory:
                return Overrun("memory", used)
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            return Overrun("time")
        step = left if max_memory is None else WATCH_INTERVAL_S
        if step is not None and left is not None:
            step = min(step, left)
        if conn.poll(step):
            return None


class QueryLimitError(KgError):
    """A query ran past its time or memory limit and was stopped (exit 3)."""


def run_limited(
    query: PreparedQuery,
    out: IO[bytes],
    *,
    store: KgStore,
    fmt: str | None = None,
    terminal: bool = False,
    width: int | None = None,
    allow_service: bool = False,
    timeout: float | None = 60.0,
    max_memory: int | None = 4096 * MiB,
) -> None:
    """Run ``query`` over ``store`` in a child process and write its result to ``out`` as
    :func:`write_result` does (``fmt`` None: :func:`default_format`). The child reads the
    version of the store that ``store`` holds open.

    The child is killed, and :class:`QueryLimitError` raised, once the query has taken
    ``timeout`` seconds (time spent writing to ``out`` not counted: a slow reader is no slow
    query) or holds more than ``max_memory`` bytes; None lifts either limit. What was written
    before stays written. The child's own errors come back as :class:`KgError` with their exit
    code and message.
    """
    context = multiprocessing.get_context("spawn")  # no fork of RocksDB's or rayon's threads
    parent, child = context.Pipe(duplex=False)
    process = context.Process(
        target=_limited_child,
        args=(child, os.getpid(), str(store.version), query, fmt, terminal, width, allow_service),
        name="kg-query",
        daemon=True,
    )
    process.start()
    child.close()
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            overrun = wait_bounded(
                parent, process.pid or 0, deadline=deadline, max_memory=max_memory
            )
            if overrun is not None:
                process.kill()
                raise QueryLimitError(
                    _overrun_message(overrun, timeout, max_memory), source=query.source
                )
            try:
                kind, *payload = parent.recv()
            except (EOFError, OSError) as exc:  # it died: pyoxigraph aborted, or it was killed
                process.join(timeout=5)
                code = process.exitcode
                how = f"by {signal.Signals(-code).name}" if code and code < 0 else f"exit {code}"
                raise KgError(
                    f"the query process stopped unexpectedly ({how})", source=query.source
                ) from exc
            if kind == "data":
                started = time.monotonic()
                out.write(payload[0])
                if deadline is not None:
                    deadline += time.monotonic() - started
            elif kind == "error":
                error = KgError(payload[1])
                error.exit_code = payload[0]
                raise error
            else:
                return
    finally:
        if process.is_alive():
            process.kill()
        process.join(timeout=5)
        parent.close()


def _overrun_message(overrun: Overrun, timeout: float | None, max_memory: int | None) -> str:
    if overrun.what == "time":
        return (
            f"the query ran longer than its limit of {timeout:g} s and was stopped: narrow it, "
            "add a LIMIT, or raise --timeout"
        )
    return (
        f"the query used more than {format_size(overrun.used)} of memory (limit "
        f"{format_size(max_memory or 0)}) and was stopped: narrow it, add a LIMIT, or raise "
        "--max-memory"
    )


def release_memory() -> None:
    """Hand the heap's free memory back to the system (glibc's ``malloc_trim``). A query's
    memory is freed when it ends, but glibc keeps it (1.2 GiB kept after a query, 19 MiB after
    the call, which took 25 ms): a worker would stay as large as its largest query, and the next
    one be stopped for memory it does not use. Elsewhere, nothing."""
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)


def _die_with(parent: int) -> None:
    """Have the kernel kill this process when the thread that started it ends (Linux's
    ``PR_SET_PDEATHSIG``): ``kg query`` killed by SIGTERM or SIGKILL would otherwise leave its
    query running, unwatched. Elsewhere, nothing."""
    prctl = getattr(_libc(), "prctl", None)
    if prctl is None:
        return
    prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it ended before the call
        os._exit(1)


_PR_SET_PDEATHSIG = 1


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """The C library this process runs on, for the calls above; None where there is none."""
    try:
        return ctypes.CDLL(None)
    except (OSError, TypeError):  # TypeError: Windows names no library by None
        return None


#: Bytes of a result the child of :func:`run_limited` sends at a time.
_CHUNK = 64 * 1024


class _PipeWriter:
    """A binary sink that sends what is written through ``conn`` in chunks of ``_CHUNK``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.size += len(data)
        if self.size >= _CHUNK:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self.parts:
            self.conn.send(("data", b"".join(self.parts)))
            self.parts, self.size = [], 0


def _limited_child(
    conn: Connection,
    parent: int,
    store: str,
    query: PreparedQuery,
    fmt: str | None,
    terminal: bool,
    width: int | None,
    allow_service: bool,
) -> None:
    """Body of :func:`run_limited`'s child: the result in chunks, then "done" or an error."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _die_with(parent)

    def answer() -> None:  # pyoxigraph parses and evaluates here: on a deep stack
        try:
            oxigraph = Store.read_only(store)
        except (OSError, RuntimeError) as exc:
            raise StoreError(f"cannot open the store: {exc}", source=store) from exc
        summary = open_summary(Path(store)) if query.summary is not None else None
        result = run_query(oxigraph, query, allow_service=allow_service, summary=summary)
        sink = _PipeWriter(conn)
        chosen = fmt or default_format(result, terminal=terminal)
        write_result(result, cast(IO[bytes], sink), fmt=chosen, width=width)
        sink.flush()

    try:
        on_query_stack(answer)
        conn.send(("done",))
    except KgError as exc:
        conn.send(("error", exc.exit_code, str(exc)))
    except Exception as exc:  # the parent reports it, in one line
        conn.send(("error", KgError.exit_code, one_line(f"the query failed: {exc}")))


# --- Python values ------------------------------------------------------------------------


def to_python(term: object) -> Any:
    """A Python value for an RDF term: numbers, booleans, dates by datatype; IRIs as text.

    >>> to_python(Literal("70", datatype=XSD.decimal))
    Decimal('70')
    >>> to_python(Literal("27", datatype=XSD.integer))
    27
    >>> to_python(NamedNode("http://id.nlm.nih.gov/mesh/D016756"))
    'http://id.nlm.nih.gov/mesh/D016756'
    """
    if term is None:
        return None
    if isinstance(term, NamedNode):
        return term.value
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    if not isinstance(term, Literal):
        return str(term)
    dt, value = term.datatype.value.removeprefix(str(XSD)), term.value
    try:
        if dt in ("integer", "int", "long", "short", "nonNegativeInteger", "positiveInteger"):
            return int(value)
        if dt == "decimal":
            return Decimal(value)
        if dt in ("double", "float"):
            return float(value)
        if dt == "boolean":
            return value in ("true", "1")
        if dt == "date":
            return date.fromisoformat(value)
        if dt == "dateTime":
            return datetime.fromisoformat(value)
        if dt == "gYear":
            return int(value)
    except (ValueError, InvalidOperation):
        return value
    return value


def rows(result: Result) -> list[dict[str, Any]]:
    """The solutions of a SELECT as dicts of Python values (None where unbound)."""
    if not isinstance(result.value, QuerySolutions):
        raise UsageError("not a SELECT query: it gives no rows")
    names = [v.value for v in result.value.variables]
    return [{n: to_python(sol[n]) for n in names} for sol in result.value]


# --- writing ------------------------------------------------------------------------------

#: Control characters a terminal or a page would act on: C0 (but tab, line feed, carriage
#: return), DEL and C1.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: What XML 1.0 cannot hold, even as a character reference, as UTF-8 bytes: C0 but tab, line
#: feed and carriage return, and U+FFFE/U+FFFF (no multi-byte sequence holds a byte < 0x80).
_NOT_XML = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]")


def printable(text: str) -> str:
    """``text`` with its control characters shown as escapes (``\\x1b``), for a terminal or
    a page: data never moves the cursor, recolours the screen or hides what follows.

    >>> printable("\\x1b[31mred\\x00\\tok")
    '\\\\x1b[31mred\\\\x00\\tok'
    """
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def xml_safe(body: bytes) -> bytes:
    """An XML document (UTF-8) with the characters XML 1.0 forbids replaced by U+FFFD.

    pyoxigraph's RDF/XML and SPARQL XML writers pass a literal's NUL or ESC through, and the
    document is then not well-formed; a literal that holds one is shown with U+FFFD instead.

    >>> xml_safe(b"<literal>a\\x1b[31m\\x00b</literal>").decode()
    '<literal>a\\ufffd[31m\\ufffdb</literal>'
    """
    return _NOT_XML.sub("\ufffd".encode(), body)


def default_format(result: Result, *, terminal: bool) -> str:
    """A table on a terminal, CSV when piped; Turtle for graph queries."""
    if isinstance(result.value, QueryTriples | list):
        return "ttl"
    return "table" if terminal else "csv"


def write_result(result: Result, out: IO[bytes], *, fmt: str, width: int | None = None) -> None:
    """Write ``result`` as an aligned table, SPARQL results (csv/tsv/json/xml) or RDF.

    ``width`` (a terminal's) wraps the table's long cells so that rows fit; None keeps every
    cell on one line.
    """
    value = result.value
    if isinstance(value, QueryTriples | list):
        if fmt not in GRAPH_FORMATS:
            raise UsageError(f"a graph query gives RDF: --format {'|'.join(GRAPH_FORMATS)}")
        triples: list[Triple] = sorted(value, key=str)
        prefixes = None if fmt == "jsonld" else dict(PREFIXES)
        serialize(triples, out, FORMATS[fmt].rdf_format, prefixes=prefixes)
        return
    if fmt in GRAPH_FORMATS:
        raise UsageError(f"--format {fmt} is for CONSTRUCT and DESCRIBE queries")
    if isinstance(value, QueryBoolean):
        if fmt in ("json", "xml"):
            value.serialize(out, RESULT_FORMATS[fmt])
        else:
            out.write(b"true\n" if bool(value) else b"false\n")
        return
    if fmt == "xml":
        buffer = io.BytesIO()
        value.serialize(buffer, RESULT_FORMATS[fmt])
        out.write(xml_safe(buffer.getvalue()))
        return
    if fmt in RESULT_FORMATS:
        value.serialize(out, RESULT_FORMATS[fmt])
        return
    out.write(table(value, width=width).encode("utf-8"))


def table(solutions: QuerySolutions, *, width: int | None = None) -> str:
    """An aligned text table: prefixed IRIs, numbers to the right, a row count at the end."""
    names = [v.value for v in solutions.variables]
    terms = [[sol[n] for n in names] for sol in solutions]
    cells = [[_cell(t) for t in row] for row in terms]
    numeric = [
        all(t is None or (isinstance(t, Literal) and t.datatype.value in _NUMERIC) for t in col)
        for col in zip(*terms, strict=True)
    ] or [False] * len(names)
    widths = [max([display_width(n)] + [display_width(r[i]) for r in cells])
              for i, n in enumerate(names)]
    if width is not None:
        words = [max([_longest_word(r[i]) for r in cells], default=0) for i in range(len(names))]
        widths = _fit(widths, names, width, words=words)
    lines = [" │ ".join(_pad(n, w) for n, w in zip(names, widths, strict=True)).rstrip()]
    lines.append("─┼─".join("─" * w for w in widths))
    for row in cells:
        wrapped = [wrap(c, w) for c, w in zip(row, widths, strict=True)]
        for k in range(max(len(x) for x in wrapped) if wrapped else 0):
            parts = []
            for i, part in enumerate(wrapped):
                piece = part[k] if k < len(part) else ""
                parts.append(_pad(piece, widths[i], right=numeric[i]))
            lines.append(" │ ".join(parts).rstrip())
    lines.append(f"({len(cells)} row{'s' if len(cells) != 1 else ''})")
    return "\n".join(lines) + "\n"


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: wide and full-width characters two, combining marks
    none.

    >>> display_width("IVIg"), display_width("静注"), display_width("e\u0301")
    (4, 4, 1)
    """
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


def _pad(text: str, width: int, *, right: bool = False) -> str:
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


def _longest_word(text: str) -> int:
    return max((display_width(w) for w in text.split()), default=0)


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` columns, broken between words; a word wider than
    the column (a long IRI) is the only thing cut.

    >>> wrap("treated successfully with IVIg", 12)
    ['treated', 'successfully', 'with IVIg']
    """
    lines: list[str] = []
    line = ""
    for word in text.split():
        while display_width(word) > width:  # only a word wider than the column is cut
            if line:
                lines.append(line)
                line = ""
            cut, used = 0, 0
            while cut < len(word) and used + display_width(word[cut]) <= width:
                used += display_width(word[cut])
                cut += 1
            cut = max(cut, 1)
            lines.append(word[:cut])
            word = word[cut:]
        if not word:
            continue
        if line and display_width(line) + 1 + display_width(word) <= width:
            line += " " + word
        else:
            if line:
                lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines or [""]


def _fit(
    widths: list[int], names: list[str], width: int, *, words: list[int] | None = None
) -> list[int]:
    """Narrow the widest columns until the table fits ``width``: never below a header or 8
    columns, nor below the longest word a column holds (up to 24) while another column can
    give instead."""
    widths = list(widths)
    floor = [max(8, min(display_width(n), 16)) for n in names]
    if words is not None:
        soft = [max(f, min(w, 24)) for f, w in zip(floor, words, strict=True)]
        widths = _narrow(widths, soft, width)
    return _narrow(widths, floor, width)


def _narrow(widths: list[int], floor: list[int], width: int) -> list[int]:
    widths = list(widths)
    while sum(widths) + 3 * (len(widths) - 1) > width:
        i = max(range(len(widths)), key=lambda j: widths[j] - floor[j])
        if widths[i] <= floor[i]:
            break
        widths[i] -= 1
    return widths


def _cell(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, NamedNode):
        for prefix, iri in PREFIXES.items():
            if term.value.startswith(iri) and len(term.value) > len(iri):
                return f"{prefix}:{term.value[len(iri) :]}"
        return term.value
    if isinstance(term, Literal):
        # a table row is one line (newlines become spaces) and writes no control character
        return " ".join(printable(term.value).split())
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    return str(term)


def prefixes_text() -> str:
    """The prefixes every query gets, as SPARQL ``PREFIX`` lines."""
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


def portable_text(prepared: PreparedQuery) -> str:
    """The query as any SPARQL 1.1 server runs it: kg's ``PREFIX`` lines first, and each bound
    parameter written in as a ``VALUES`` row at the start of the WHERE clause (a term pyoxigraph
    wrote, so quoted and escaped as SPARQL reads it). Bound there, a variable is joined before
    anything else in the clause filters on it: what substitution gives for kg's questions,
    which bind their parameters in the query's top-level group.

    The union default graph is a setting of the server's (``kg publish`` checks it).
    """
    text = prepared.text
    if prepared.bindings:
        at = query_shape(text).group_at
        if at is None:
            raise QuerySyntaxError(f"{prepared.source}: no WHERE clause to bind parameters in")
        rows = "".join(f"\n  VALUES ?{var} {{ {term} }}" for var, term in prepared.bindings.items())
        text = text[:at] + rows + text[at:]
    # kg's own template lines (parameter declarations, "#? name:" optional parts left out)
    # mean nothing once the query is finished
    kept = [line for line in text.splitlines(keepends=True) if not _TEMPLATE_LINE.match(line)]
    return prefixes_text() + "".join(kept)


_TEMPLATE_LINE = re.compile(r"\s*#(?:\?|\s*@param\b)")

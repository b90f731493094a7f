"""The named evidence questions shipped with kg: one SPARQL file each, with a header.

A question's header is the comment block at the top of its ``.rq`` file: a one-line summary,
a description, and one ``@param`` line per parameter::

    # Outcomes of an intervention, with their numbers and quotes.
    #
    # What the question answers, in a few lines.
    #
    # @param intervention  mesh-tree  required   The intervention: a MeSH UI or label
    # @param kind          string     optional   Only outcomes of this kind

``@param NAME TYPE WHEN DESCRIPTION``: ``TYPE`` is one of :data:`PARAM_TYPES`; ``WHEN`` is
``required``, ``optional`` or ``default=VALUE``. The parameter binds the variable ``?NAME``:

- ``pmid``, ``mesh``, ``mesh-tree``, ``integer`` (:data:`VALUES_TYPES`): values kg validates
  against a strict grammar (digits; ``D``/``C`` and digits) and turns into RDF terms, which
  fill the query's ``VALUES ?NAME { UNDEF }`` line. As shipped the file is valid SPARQL in
  which ``UNDEF`` means "any"; filled in, the query planner sees the terms as constants.
- ``string``, ``iri``: free text, which never enters the query text: it is bound by
  substitution (pyoxigraph's ``substitutions``, rdflib's ``initBindings``), so ``?NAME`` must
  be in the SELECT clause and be used in required triple patterns or comparisons only (a
  substituted variable is not "bound" for ``BOUND()`` or ``BIND``, and does not restrict an
  ``OPTIONAL``).

A line of the query that starts ``#? NAME:`` is a comment unless ``NAME`` is given: then kg
removes that prefix, so the rest of the line (fixed text of the file, never input) takes part
in the query. That is how an optional parameter restricts the query only when given::

    #? condition: VALUES ?condition { UNDEF }
    #? condition: ?study kg:population/kg:condition/kg:mesh ?condition .

(``FILTER(!BOUND(?x) || EXISTS {…})`` says the same in plain SPARQL, but both Oxigraph and
rdflib then test every row against every descriptor of a MeSH tree: 50 s instead of 0.2 s
for the 368 descriptors under Bacterial Infections and Mycoses on 141,000 quads.) As shipped,
each file is valid SPARQL that runs as if no optional parameter were given. Ad-hoc queries
(``kg query -f FILE.rq``, or the query text itself) declare their parameters with the same
header.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from kg.errors import KgError

#: What each parameter type accepts, as ``kg query --list`` explains it.
PARAM_TYPES: dict[str, str] = {
    "pmid": "a PMID (digits); bound as the fabio:hasPubMedId literal",
    "mesh": "a MeSH UI (D003882) or a descriptor label; bound as its MeSH IRI",
    "mesh-tree": "a MeSH UI or label; that descriptor and every one under it in the MeSH trees",
    "string": "text; bound as a plain literal",
    "integer": "a whole number; bound as an xsd:integer literal",
    "iri": "an absolute IRI",
}

#: Types whose values fill a ``VALUES ?name { UNDEF }`` line; the others are substituted.
VALUES_TYPES = frozenset({"pmid", "mesh", "mesh-tree", "integer"})

_CONDITIONAL = re.compile(r"^([ \t]*)#\?[ \t]*([A-Za-z_][A-Za-z0-9_]*):[ \t]?(.*)$", re.M)
_PARAM = re.compile(r"^@param\s+(\S+)\s+(\S+)\s+(\S+)\s*(.*)$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class QueryHeaderError(KgError):
    """A query's header declares a parameter kg cannot use."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class Param:
    """One declared parameter: it binds the variable ``?name``."""

    name: str
    type: str
    required: bool
    default: str | None
    description: str

    @property
    def usage(self) -> str:
        """``required``, ``optional`` or ``default=VALUE``, as the header says it."""
        if self.required:
            return "required"
        return f"default={self.default}" if self.default is not None else "optional"


@dataclass(frozen=True, slots=True)
class NamedQuery:
    """A SPARQL query with its header: summary, description, parameters."""

    name: str
    summary: str
    description: str
    params: tuple[Param, ...]
    text: str

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


def values_line(name: str) -> re.Pattern[str]:
    """The ``VALUES ?name { UNDEF }`` that a parameter of :data:`VALUES_TYPES` fills."""
    return re.compile(r"VALUES\s+\?" + re.escape(name) + r"\s*\{\s*UNDEF\s*\}")


def parse_header(text: str, *, name: str = "query", source: str | None = None) -> NamedQuery:
    """The header of a query's leading comment block (see the module's docstring)."""
    comments: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            break
        comments.append(stripped[1:].strip())
    params: list[Param] = []
    prose: list[str] = []
    for line in comments:
        if not line.startswith("@param"):
            prose.append(line)
            continue
        params.append(_param(line, text, source=source or name))
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise QueryHeaderError("a parameter is declared twice", source=source or name)
    for m in _CONDITIONAL.finditer(text):
        if m[2] not in names:
            raise QueryHeaderError(
                f"'#? {m[2]}:' names no declared parameter", source=source or name
            )
    lines = [line for line in prose if line]
    summary = lines[0] if lines else ""
    description = " ".join(lines[1:])
    return NamedQuery(name, summary, description, tuple(params), text)


def _param(line: str, text: str, *, source: str) -> Param:
    m = _PARAM.match(line)
    if m is None:
        raise QueryHeaderError(
            f"cannot read {line!r}: write '@param NAME TYPE required|optional|default=VALUE TEXT'",
            source=source,
        )
    name, kind, when, description = m.groups()
    if not _NAME.match(name):
        raise QueryHeaderError(f"@param {name}: not a SPARQL variable name", source=source)
    if kind not in PARAM_TYPES:
        raise QueryHeaderError(
            f"@param {name}: unknown type {kind!r} (one of {', '.join(PARAM_TYPES)})",
            source=source,
        )
    if when not in ("required", "optional") and not when.startswith("default="):
        raise QueryHeaderError(
            f"@param {name}: say 'required', 'optional' or 'default=VALUE', not {when!r}",
            source=source,
        )
    if kind in VALUES_TYPES and len(values_line(name).findall(text)) != 1:
        raise QueryHeaderError(
            f"@param {name} is a {kind}: the query needs one 'VALUES ?{name} {{ UNDEF }}' "
            "for its value",
            source=source,
        )
    default = when.removeprefix("default=") if when.startswith("default=") else None
    return Param(name, kind, when == "required", default, description.strip())


def activate(text: str, given: Iterable[str]) -> str:
    r"""``text`` with the ``#? NAME:`` lines of the ``given`` parameters made part of the query.

    >>> activate("SELECT * {\n  #? x: ?s ?p ?x .\n}", ["x"])
    'SELECT * {\n  ?s ?p ?x .\n}'
    >>> activate("SELECT * {\n  #? x: ?s ?p ?x .\n}", [])
    'SELECT * {\n  #? x: ?s ?p ?x .\n}'
    """
    names = set(given)
    return _CONDITIONAL.sub(lambda m: m[1] + m[3] if m[2] in names else m[0], text)


@cache
def named_queries() -> dict[str, NamedQuery]:
    """Every question shipped in ``kg/queries/*.rq``, by name (the file's stem)."""
    found: dict[str, NamedQuery] = {}
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".rq"):
            name = entry.name.removesuffix(".rq")
            found[name] = parse_header(entry.read_text(encoding="utf-8"), name=name)
    return found


def named_query(name: str) -> NamedQuery:
    """The shipped question ``name``; a usage error naming the others when there is none."""
    queries = named_queries()
    if name not in queries:
        raise QueryHeaderError(
            f"no named query {name!r}; there are: {', '.join(queries)} (kg query --list)"
        )
    return queries[name]

"""kg for notebooks: open a store, ask SPARQL or a named evidence question, get Python values.

>>> import kg                                                        # doctest: +SKIP
>>> store = kg.open_store("out/store")                               # doctest: +SKIP
>>> store.question("outcomes", intervention="D016756")[0]["quote"]   # doctest: +SKIP
'Nineteen patients (70%) exhibited a major response'
>>> store.query("SELECT ?t WHERE { ?a fabio:hasPubMedId ?pmid ; dcterms:title ?t }",
...             pmid="23906502")                                     # doctest: +SKIP
[{'t': 'Clinical efficacy of intravenous immunoglobulins ...', 'pmid': '23906502'}]

Rows are dicts of Python values (``int``, ``Decimal``, ``bool``, ``date``; IRIs as text; None
where a variable is unbound): ``pandas.DataFrame(rows)`` makes a table of them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pyoxigraph import QueryBoolean, QuerySolutions, Triple

from kg.config import Settings
from kg.mesh import MeshTable
from kg.queries import NamedQuery, named_queries, named_query
from kg.query import Result, prepare, rows, run_query
from kg.store import KgStore


class EvidenceStore:
    """A kg store opened for queries (read-only): SPARQL with kg's prefixes, union default graph."""

    def __init__(self, store: KgStore, *, mesh: MeshTable | None = None) -> None:
        self.store = store
        self._mesh = mesh

    @property
    def path(self) -> Path:
        return self.store.path

    def __len__(self) -> int:
        return len(self.store)

    def __repr__(self) -> str:
        return f"<EvidenceStore {str(self.path)!r}>"

    def result(self, sparql: str | NamedQuery, /, **params: object) -> Result:
        """The raw result of ``sparql`` (for :func:`kg.query.write_result`).

        Parameters the query's header declares (``# @param NAME TYPE …``) are read by their
        type; others are bound by their Python type (str → literal, int → xsd:integer, a
        pyoxigraph term as it is). Each is a variable of the query, bound by substitution.
        """
        prepared = prepare(sparql, params, mesh=self._mesh, undeclared=True)
        return run_query(self.store, prepared)

    def query(self, sparql: str, /, **params: object) -> list[dict[str, Any]] | bool | list[Triple]:
        """Rows of a SELECT (dicts of Python values), the answer of an ASK, or the triples of a
        CONSTRUCT/DESCRIBE."""
        value = self.result(sparql, **params).value
        if isinstance(value, QueryBoolean):
            return bool(value)
        if isinstance(value, QuerySolutions):
            return rows(Result(value))
        return list(value)

    def question(self, name: str, /, **params: object) -> list[dict[str, Any]]:
        """The rows of the named evidence question ``name`` (see :meth:`questions`)."""
        prepared = prepare(named_query(name), params, mesh=self._mesh)
        return rows(run_query(self.store, prepared))

    @staticmethod
    def questions() -> dict[str, NamedQuery]:
        """The named questions shipped with kg, by name, with their parameters."""
        return dict(named_queries())


def open_store(path: str | os.PathLike[str] | None = None) -> EvidenceStore:
    """Open the store at ``path`` (default: ``$KG_STORE`` or ``out/store``) for queries.

    A missing store raises :class:`kg.errors.StoreError`, saying how to build one.
    """
    settings = Settings.from_env(store=Path(path) if path is not None else None)
    return EvidenceStore(KgStore(settings.store))

"""The full-text index a build keeps beside the store, for ``/search``: SQLite FTS5.

One row per article graph: its PMID, title, abstract, the labels of the MeSH terms it is indexed
with or its evidence is grounded in, their entry terms (from the shipped MeSH table: "IVIG"
finds an article indexed with *Immunoglobulins, Intravenous*), and its design terms; beside
them, for filters and facets, its year, largest sample size, design terms and MeSH UIs. Ranked
by bm25, with snippets. The file (``SEARCH``) lives in the store's version directory, like the
summary (:mod:`kg.summary`): a build copies the current version's and re-indexes the graphs it
emptied or wrote (:func:`refresh`), or indexes every graph when there is none yet. A version
is never written once current, so readers open it immutable. A store without one (an
older kg's, or loaded by another tool) is searched by title in SPARQL (kg.web).

User text never becomes FTS5 syntax: each word or ``"quoted phrase"`` goes in as an FTS5
string (:func:`match_expression`), and every value is a bound parameter.
"""

from __future__ import annotations

import contextlib
import html
import logging
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pyoxigraph import BlankNode, NamedNode, Store

from kg.mesh import MeshTable
from kg.rdf.namespaces import DCTERMS, FABIO, KG, RDF, RDFS, SCHEMA

log = logging.getLogger(__name__)

#: The index, inside a version's directory.
SEARCH = "kg-search.sqlite"
#: Written in the index; an index of another layout is not read (and rebuilt by the next build).
LAYOUT = "1"
#: Column weights for bm25, in the order of the ``text`` table's columns.
WEIGHTS = (10.0, 5.0, 1.0, 3.0, 1.5, 1.0)
#: Most words or phrases of a query, and longest.
MAX_TERMS, MAX_TERM = 16, 100
#: Most rows of a page, and deepest page.
MAX_PER_PAGE, MAX_PAGE = 100, 500
#: Values a facet lists (most frequent first; years all).
FACET_SIZE = 20
#: What marks a match in :func:`snippet` output before it is made HTML (never in indexed text).
_OPEN, _CLOSE = "\x02", "\x03"
_MARKS = str.maketrans("", "", _OPEN + _CLOSE)

_SCHEMA = f"""
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('layout', '{LAYOUT}');
CREATE TABLE articles(
  id INTEGER PRIMARY KEY, graph TEXT UNIQUE NOT NULL, iri TEXT NOT NULL, pmid TEXT NOT NULL,
  title TEXT NOT NULL, year INTEGER, sample_size INTEGER);
CREATE INDEX articles_year ON articles(year);
CREATE TABLE designs(id INTEGER NOT NULL, term TEXT NOT NULL, PRIMARY KEY (id, term))
  WITHOUT ROWID;
CREATE INDEX designs_term ON designs(term, id);
CREATE TABLE mesh(id INTEGER NOT NULL, ui TEXT NOT NULL, how TEXT NOT NULL,
  PRIMARY KEY (id, ui, how)) WITHOUT ROWID;
CREATE INDEX mesh_ui ON mesh(ui, id);
CREATE TABLE labels(ui TEXT PRIMARY KEY, label TEXT NOT NULL) WITHOUT ROWID;
CREATE VIRTUAL TABLE text USING fts5(
  pmid, title, abstract, mesh, entry, design,
  tokenize = 'porter unicode61 remove_diacritics 2');
"""

#: How an article's study names a MeSH term → the path from the study (as the MeSH page asks).
_GROUNDED: dict[str, tuple[NamedNode, ...]] = {
    "condition": (KG.population, KG.condition, KG.mesh),
    "intervention": (KG.intervention, KG.mesh),
    "outcome": (KG.outcome, KG.mesh),
    "design": (KG.designFeature, KG.mesh),
}
_MESH_NS = "http://id.nlm.nih.gov/mesh/"
_UI = re.compile(r"[CDQ]\d+(Q\d+)?")


def search_path(version: Path) -> Path:
    """Where the index of the store version ``version`` lives (it may not be there)."""
    return version / SEARCH


def index_of(version: Path) -> Path | None:
    """The index of ``version`` when it has a readable one of this layout, else None."""
    path = search_path(version)
    if not path.is_file():
        return None
    try:
        with contextlib.closing(_connect(path)) as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'layout'").fetchone()
    except sqlite3.Error as exc:
        log.warning("%s: cannot read the search index (%s); searching titles", path, exc)
        return None
    return path if row is not None and row[0] == LAYOUT else None


def _connect(path: Path) -> sqlite3.Connection:
    """``path`` read-only; immutable, as a version is never written once current."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True,
                           check_same_thread=False)


# --- building --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """What the index holds of one article graph."""

    graph: str
    iri: str
    pmid: str
    title: str
    abstract: str
    year: int | None
    sample_size: int | None
    designs: tuple[str, ...]
    mesh: tuple[tuple[str, str], ...]  #: (UI, how)
    labels: dict[str, str] = field(default_factory=dict)  #: UI → label, descriptors/concepts
    entry_terms: tuple[str, ...] = ()


def _text(term: object) -> str:
    value = getattr(term, "value", None)
    return value if isinstance(value, str) else str(term)


def _value(store: Store, s: Any, p: NamedNode, g: NamedNode) -> str | None:
    for q in store.quads_for_pattern(s, p, None, g):
        return _text(q.object)
    return None


def _int(value: str | None) -> int | None:
    try:
        return int(value[:4] if value and len(value) > 4 and value[4] == "-" else value or "")
    except ValueError:
        return None


def entry(store: Store, graph: NamedNode, *, mesh: MeshTable) -> Entry | None:
    """The index entry of ``graph``; None when it holds no article (``schema:ScholarlyArticle``
    with a PMID)."""
    article = next(
        (q.subject for q in store.quads_for_pattern(None, RDF.type, SCHEMA.ScholarlyArticle, graph)
         if isinstance(q.subject, NamedNode)),
        None,
    )
    if article is None:
        return None
    pmid = _value(store, article, FABIO.hasPubMedId, graph)
    if pmid is None:
        return None
    uis: dict[tuple[str, str], None] = {}

    def add(node: object, how: str) -> None:
        if isinstance(node, NamedNode) and node.value.startswith(_MESH_NS):
            ui = node.value[len(_MESH_NS):]
            if _UI.fullmatch(ui):
                uis[(ui, how)] = None

    def objects(subjects: Iterable[Any], *path: NamedNode) -> list[Any]:
        """What ``path`` leads to from ``subjects`` in the graph."""
        nodes = list(subjects)
        for p in path:
            nodes = [q.object for n in nodes if isinstance(n, NamedNode | BlankNode)
                     for q in store.quads_for_pattern(n, p, None, graph)]
        return nodes

    # the paths and names of the MeSH page (kg.web.pages._MESH_ARTICLES)
    for node in objects([article], DCTERMS.subject):
        add(node, "indexing")
    for node in objects([article], KG.meshHeading, KG.qualifier):
        add(node, "indexing (qualifier)")
    studies = objects([article], KG.reportsStudy)
    for how, path in _GROUNDED.items():
        for node in objects(studies, *path):
            add(node, how)
    labels: dict[str, str] = {}
    entry_terms: list[str] = []
    for ui, _ in uis:
        if ui[0] in "CD" and "Q" not in ui and ui not in labels:
            label = mesh.label(ui) or _value(store, NamedNode(_MESH_NS + ui), RDFS.label, graph)
            if label:
                labels[ui] = label
            entry_terms.extend(mesh.entry_terms(ui))
    sizes = [
        n for q in store.quads_for_pattern(None, KG.sampleSize, None, graph)
        if (n := _int(_text(q.object))) is not None
    ]
    designs = sorted({_text(q.object)
                      for q in store.quads_for_pattern(None, KG.designTerm, None, graph)})
    return Entry(
        graph=graph.value,
        iri=article.value,
        pmid=pmid,
        title=_value(store, article, DCTERMS.title, graph) or "",
        abstract=_value(store, article, DCTERMS.abstract, graph) or "",
        year=_int(_value(store, article, FABIO.hasPublicationYear, graph)),
        sample_size=max(sizes, default=None),
        designs=tuple(designs),
        mesh=tuple(uis),
        labels=labels,
        entry_terms=tuple(dict.fromkeys(entry_terms)),
    )


def _clean(text: str) -> str:
    return text.translate(_MARKS)


def refresh(
    store: Store, path: Path, touched: Iterable[NamedNode] | None, *, mesh: MeshTable | None = None
) -> int:
    """Re-index the ``touched`` graphs of ``store`` in the index at ``path`` (None: every graph,
    into a new index); return how many articles it indexed."""
    mesh = mesh or MeshTable.default()
    if touched is None:
        path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    try:
        layout = None
        with contextlib.suppress(sqlite3.Error):
            layout = db.execute("SELECT value FROM meta WHERE key = 'layout'").fetchone()
        if touched is None or layout is None or layout[0] != LAYOUT:
            db.close()
            path.unlink(missing_ok=True)
            db = sqlite3.connect(path)
            db.executescript(_SCHEMA)
            touched = [g for g in store.named_graphs() if isinstance(g, NamedNode)]
        written = 0
        with db:
            for graph in sorted(set(touched), key=lambda g: g.value):
                _remove(db, graph.value)
                if store.contains_named_graph(graph):
                    found = entry(store, graph, mesh=mesh)
                    if found is not None:
                        _insert(db, found)
                        written += 1
        with db:  # one b-tree of the text index to look up in, as the store is compacted
            db.execute("INSERT INTO text(text) VALUES ('optimize')")
    finally:
        db.close()
    return written


def _remove(db: sqlite3.Connection, graph: str) -> None:
    row = db.execute("SELECT id FROM articles WHERE graph = ?", (graph,)).fetchone()
    if row is None:
        return
    for table in ("designs", "mesh"):
        db.execute(f"DELETE FROM {table} WHERE id = ?", row)
    db.execute("DELETE FROM text WHERE rowid = ?", row)
    db.execute("DELETE FROM articles WHERE id = ?", row)


def _insert(db: sqlite3.Connection, e: Entry) -> None:
    cur = db.execute(
        "INSERT INTO articles(graph, iri, pmid, title, year, sample_size) VALUES (?,?,?,?,?,?)",
        (e.graph, e.iri, e.pmid, e.title, e.year, e.sample_size),
    )
    rowid = cur.lastrowid
    db.executemany("INSERT OR IGNORE INTO designs VALUES (?, ?)", [(rowid, d) for d in e.designs])
    db.executemany("INSERT OR IGNORE INTO mesh VALUES (?, ?, ?)",
                   [(rowid, ui, how) for ui, how in e.mesh])
    db.executemany("INSERT OR REPLACE INTO labels VALUES (?, ?)", list(e.labels.items()))
    db.execute(
        "INSERT INTO text(rowid, pmid, title, abstract, mesh, entry, design)"
        " VALUES (?,?,?,?,?,?,?)",
        (rowid, e.pmid, _clean(e.title), _clean(e.abstract),
         _clean("; ".join(e.labels.values())), _clean("; ".join(e.entry_terms)),
         _clean("; ".join(e.designs))),
    )


# --- searching -------------------------------------------------------------------------------

_TERM = re.compile(r'"([^"]*)"?|(\S+)')
Sort = Literal["relevance", "newest"]


def match_expression(text: str) -> str | None:
    """User text as an FTS5 query: every word and ``"quoted phrase"`` an FTS5 string (so that
    ``AND``, ``(``, ``NEAR`` or ``col:`` are words, never syntax), all required; a word ending
    in ``*`` is a prefix. None when no word is left.

    >>> match_expression('IVIg "skin lesions" AND (')
    '"IVIg" "skin lesions" "AND"'
    >>> match_expression('derm* o"k')
    '"derm"* "o""k"'
    """
    terms: list[str] = []
    for m in _TERM.finditer(text):
        phrase, word = m[1], m[2]
        prefix = word is not None and word.endswith("*")
        term = (phrase if phrase is not None else word.rstrip("*"))[:MAX_TERM].strip()
        if not re.search(r"\w", term):
            continue
        quoted = '"' + term.replace('"', '""') + '"'
        terms.append(quoted + "*" if prefix else quoted)
    return " ".join(terms[:MAX_TERMS]) or None


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A search: words, filters, sort and page."""

    text: str = ""
    page: int = 1
    per_page: int = 20
    year_from: int | None = None
    year_to: int | None = None
    design: str | None = None
    min_sample_size: int | None = None
    mesh: str | None = None
    sort: Sort = "relevance"

    @property
    def filtered(self) -> bool:
        return any(v is not None for v in (self.year_from, self.year_to, self.design,
                                           self.min_sample_size, self.mesh))


@dataclass(frozen=True, slots=True)
class Hit:
    """One article found: ``snippet`` is HTML (escaped text, matches in ``<mark>``)."""

    pmid: str
    iri: str
    title: str
    year: int | None
    sample_size: int | None
    designs: tuple[str, ...]
    snippet: str
    score: float | None


@dataclass(frozen=True, slots=True)
class Facet:
    value: str
    count: int
    label: str | None = None


@dataclass(frozen=True, slots=True)
class SearchResults:
    query: SearchQuery
    total: int
    hits: list[Hit]
    facets: dict[str, list[Facet]]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.per_page))


def marked(text: str) -> str:
    """Snippet text as HTML: escaped, the matches FTS5 marked in ``<mark>``.

    >>> marked("a <b> \\x02IVIg\\x03")
    'a &lt;b&gt; <mark>IVIg</mark>'
    """
    return html.escape(text, quote=False).replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")


def _where(q: SearchQuery, match: str | None) -> tuple[str, str, list[Any]]:
    """FROM and WHERE of the articles ``q`` finds, and their parameters."""
    params: list[Any] = []
    if match is not None:
        source = "text JOIN articles a ON a.id = text.rowid"
        clauses = ["text MATCH ?"]
        params.append(match)
    else:
        source, clauses = "articles a", []
    for clause, value in (
        ("a.year >= ?", q.year_from),
        ("a.year <= ?", q.year_to),
        ("a.sample_size >= ?", q.min_sample_size),
        ("a.id IN (SELECT id FROM designs WHERE term = ?)", q.design),
        ("a.id IN (SELECT id FROM mesh WHERE ui = ?)", q.mesh),
    ):
        if value is not None:
            clauses.append(clause)
            params.append(value)
    return source, " AND ".join(clauses) or "1", params


def search(path: Path, q: SearchQuery, *, timeout: float | None = None) -> SearchResults:
    """Run ``q`` against the index at ``path``. With neither words nor filters nothing is
    found; with filters only, the articles they keep, newest first. Past ``timeout`` seconds
    it raises :class:`sqlite3.OperationalError` (``interrupted``)."""
    match = match_expression(q.text)
    if match is None and not q.filtered:
        return SearchResults(q, 0, [], {})
    with contextlib.closing(_connect(path)) as db:
        if timeout is not None:
            deadline = time.monotonic() + timeout
            db.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        source, where, params = _where(q, match)
        total = db.execute(f"SELECT count(*) FROM {source} WHERE {where}", params).fetchone()[0]
        if match is not None:
            score = f"bm25(text, {', '.join(map(str, WEIGHTS))})"
            snippet = f"snippet(text, -1, '{_OPEN}', '{_CLOSE}', '…', 24)"
        else:
            score, snippet = "NULL", "''"
        order = "a.year IS NULL, a.year DESC, a.pmid DESC"
        if match is not None:
            order = "score" if q.sort == "relevance" else order + ", score"
        rows = db.execute(
            f"SELECT a.id, a.pmid, a.iri, a.title, a.year, a.sample_size, {score} AS score,"
            f" {snippet} FROM {source} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, q.per_page, (q.page - 1) * q.per_page],
        ).fetchall()
        designs: dict[int, list[str]] = {}
        for rowid, term in db.execute(
            f"SELECT id, term FROM designs WHERE id IN ({','.join('?' * len(rows))})"
            " ORDER BY term", [r[0] for r in rows],
        ):
            designs.setdefault(rowid, []).append(term)
        hits = [
            Hit(pmid=r[1], iri=r[2], title=r[3], year=r[4], sample_size=r[5],
                designs=tuple(designs.get(r[0], ())), snippet=marked(r[7] or ""),
                score=None if r[6] is None else round(-float(r[6]), 4))
            for r in rows
        ]
        facets = dict(_facets(db, source, where, params)) if total else {}
    return SearchResults(q, total, hits, facets)


def _facets(
    db: sqlite3.Connection, source: str, where: str, params: list[Any]
) -> Iterator[tuple[str, list[Facet]]]:
    hits = f"SELECT a.id FROM {source} WHERE {where}"
    yield "year", [
        Facet(str(y), n) for y, n in db.execute(
            f"SELECT year, count(*) FROM articles WHERE id IN ({hits}) AND year IS NOT NULL"
            " GROUP BY year ORDER BY year DESC", params)
    ]
    yield "design", [
        Facet(t, n) for t, n in db.execute(
            f"SELECT term, count(*) AS n FROM designs WHERE id IN ({hits})"
            f" GROUP BY term ORDER BY n DESC, term LIMIT {FACET_SIZE}", params)
    ]
    yield "mesh", [
        Facet(ui, n, label) for ui, n, label in db.execute(
            f"SELECT m.ui, count(DISTINCT m.id) AS n, l.label FROM mesh m"
            f" LEFT JOIN labels l ON l.ui = m.ui WHERE m.id IN ({hits})"
            f" AND m.ui GLOB 'D[0-9]*' AND m.ui NOT GLOB '*Q*'"
            f" GROUP BY m.ui ORDER BY n DESC, l.label LIMIT {FACET_SIZE}", params)
    ]


# --- the MeSH page ---------------------------------------------------------------------------

#: How an article names a term, for the MeSH page's plots: not by a qualifier or a design
#: feature (kg.web.pages._ON_TERM).
ON_TERM = ("indexing", "condition", "intervention", "outcome")


def mesh_articles(
    path: Path, ui: str, *, limit: int
) -> list[tuple[str, str, str, int | None, str]]:
    """(IRI, PMID, title, year, how) of the articles naming ``ui`` in any way, newest first,
    at most ``limit`` rows (an article once per way)."""
    with contextlib.closing(_connect(path)) as db:
        return db.execute(
            "SELECT a.iri, a.pmid, a.title, a.year, m.how FROM mesh m"
            " JOIN articles a ON a.id = m.id WHERE m.ui = ?"
            " ORDER BY a.year IS NULL, a.year DESC, a.pmid, m.how LIMIT ?",
            (ui, limit),
        ).fetchall()


def mesh_facets(path: Path, ui: str) -> list[tuple[str, str, int]]:
    """(``year`` or ``design``, value, articles) over the articles :data:`ON_TERM` ``ui``."""
    on = f"SELECT id FROM mesh WHERE ui = ? AND how IN ({', '.join('?' * len(ON_TERM))})"
    with contextlib.closing(_connect(path)) as db:
        years = db.execute(
            f"SELECT year, count(*) FROM articles WHERE id IN ({on}) AND year IS NOT NULL"
            " GROUP BY year", (ui, *ON_TERM)).fetchall()
        designs = db.execute(
            f"SELECT term, count(DISTINCT id) FROM designs WHERE id IN ({on}) GROUP BY term",
            (ui, *ON_TERM)).fetchall()
    return [("year", f"{y:04d}", n) for y, n in years] + [("design", t, n) for t, n in designs]

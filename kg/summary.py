"""Summaries a build keeps beside the store, so that a question need not scan every article.

``cooccurrence`` (kg/queries/cooccurrence.rq) counts, for one MeSH descriptor, the articles
that carry it together with each other descriptor: it reads every article indexed with the
descriptor, so it grows with the store even where its rows do not. The summary holds its
answer for every descriptor, worked out by the question itself at build time, in an Oxigraph
store of its own inside the store's version directory (``SUMMARY``): a named graph per
descriptor (named by its IRI) in which each other descriptor of a row says ``?other
kg:cooccurrenceArticles ?articles ; kg:cooccurringName ?label ; kg:cooccurrenceRank ?rank``
(its place in the question's order: sorting by an integer costs no look-up of IRIs, which on
disk made the sort of 272 rows take 16 ms). Read inside its graph, a descriptor's rows cost
the same whatever the size of the store or of the summary. The summary is not part of the
store's quads, so dumps, shards and what ``kg publish`` sends do not change; a store without
it (loaded from shards, an older kg's) is asked the question itself.

``outcomes`` (kg/queries/outcomes.rq) reads every study of the intervention, and with a
condition every study of that condition in the store, then some twenty look-ups per outcome:
at 10 M quads 150 ms for 622 rows. The summary holds, in the graph of each intervention
descriptor, the question's rows for that descriptor alone: a node per row, with a statement
per bound column (``kg:rowPmid``, ``kg:rowOutcome``… :data:`ROW`) and ``kg:rowCondition`` for
each condition descriptor with which the question gives the row. Asked with a condition, the
answer keeps the rows tagged with one of the condition's descriptors: the question's rows for
a set of conditions are the union of its rows for each (the condition only narrows the
studies that count), so the answer is the question's. Rows and tags are worked out by the
question itself, without its condition and with it open (reporting the descriptor matched).

``studies`` (kg/queries/studies.rq) reads every study of the intervention's tree with its
population and design: at 10 M quads 87–123 ms for 893 rows (Anti-Bacterial Agents). The
summary holds its rows in the graph of each intervention descriptor too, a node per row with a
statement per bound column (:data:`STUDY_ROW`; only these rows have ``kg:rowRole``, only
outcomes rows ``kg:rowKind``: each answer matches its own rows). The question groups by
``?intervention``, so its rows for a tree of descriptors are the union of its rows for each,
which the answer sorts as the question does.

``adverse-events`` (kg/queries/adverse-events.rq) with an intervention reads every adverse
event of the store against the intervention's tree: at 10 M quads 5.1 s for the 436 rows of
Organic Chemicals (2,171 descriptors). The summary holds, in the graph of each intervention
descriptor, the question's rows for it (:data:`ADVERSE_ROW`). The question groups by outcome,
not by descriptor: an outcome of a study of two descriptors of the tree is one row. So a row's
node is named after its outcome (and its place among that outcome's rows) and is the same in
the graph of each descriptor, and the answer keeps one row per node. Its ``?interventions``
(``GROUP_CONCAT`` of the study's interventions, in the order Oxigraph meets them) may be
joined in another order for each descriptor, and the question's own order for a tree depends
on the tree: for a tree the answer gives the least of them, the same interventions, perhaps in
another order than the question asked of the store (where one descriptor of the tree gives
the row, the question's own string). Without an intervention the question reads every
adverse event (1,680 rows at 10 M, past the bar and growing with them): the summary does not
answer that (:data:`ONLY_WITH`), the store does.

Kept exact: the rows of a descriptor depend only on the articles that carry it (as a heading
for ``cooccurrence``, as an intervention's MeSH term for the others; the
nodes the questions read outside ``GRAPH ?g`` are the article's own, minted from its PMID),
and for ``studies`` on the title and year other graphs give those articles (a PubMed page's
"similar articles" name each with its title and year, read by ``?article dcterms:title ?t``
over every graph). So a build recomputes the rows of every descriptor that an article it
added, replaced or deleted carried before or carries now, or that the article of a study
carries when a changed graph gives that article a title or a year (:func:`descriptors`,
:func:`refresh`), and of every descriptor when there is no summary yet or when it was written
by a kg that summarised fewer questions. The summary says which questions it
answers (:func:`holds`); a question it does not answer is asked of the store.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import quote

from pyoxigraph import (
    Literal,
    NamedNode,
    Quad,
    QuerySolution,
    QuerySolutions,
    Store,
)

from kg.queries import activate, named_query, values_line
from kg.rdf.namespaces import DCTERMS, FABIO, KG, PREFIXES, XSD

log = logging.getLogger(__name__)

#: The summary's Oxigraph store, inside a version's directory.
SUMMARY = "kg-summary"
#: The named question the summary answers.
QUESTION = "cooccurrence"
#: That question asked of the summary: the same columns, the same order, the same
#: ``VALUES ?descriptor { UNDEF }`` line for its parameter.
ANSWER = """\
SELECT ?descriptor ?other ?label ?articles
WHERE {
  VALUES ?descriptor { UNDEF }
  GRAPH ?descriptor { ?other kg:cooccurrenceArticles ?articles ; kg:cooccurrenceRank ?rank }
  # outside GRAPH: an OPTIONAL inside it is evaluated over every graph (4 s, not 2 ms)
  OPTIONAL { GRAPH ?descriptor { ?other kg:cooccurringName ?label } }
}
ORDER BY ?rank
"""
#: ``outcomes`` asked of the summary: its columns, order and parameter lines (``#? condition:``
#: too; ``kind`` is bound by substitution, as in the question).
OUTCOMES = "outcomes"
OUTCOMES_ANSWER = """\
SELECT DISTINCT ?pmid ?intervention ?intervention_text ?outcome ?kind
       ?count ?denominator ?percentage ?grade ?p_value ?quote ?start ?end
WHERE {
  VALUES ?intervention { UNDEF }
  # The condition's tags of each intervention's rows are read in one run of its graph and
  # joined by hash with the condition's descriptors (a subquery: written as a plain VALUES,
  # it is scanned once per row).
  #? condition: GRAPH ?intervention { ?row kg:rowCondition ?condition }
  #? condition: { SELECT ?condition WHERE { VALUES ?condition { UNDEF } } }
  GRAPH ?intervention {
    ?row kg:rowKind ?kind ; kg:rowPmid ?pmid ; kg:rowInterventionText ?intervention_text ;
         kg:rowOutcome ?outcome .
  }
  # outside GRAPH (see ANSWER), and each alone: nested, they are joined by hash, over every
  # graph of the summary
  OPTIONAL { GRAPH ?intervention { ?row kg:rowCount ?count } }
  OPTIONAL { GRAPH ?intervention { ?row kg:rowDenominator ?denominator } }
  OPTIONAL { GRAPH ?intervention { ?row kg:rowPercentage ?percentage } }
  OPTIONAL { GRAPH ?intervention { ?row kg:rowGrade ?grade } }
  OPTIONAL { GRAPH ?intervention { ?row kg:rowPValue ?p_value } }
  OPTIONAL { GRAPH ?intervention { ?row kg:rowQuote ?quote } }
  OPTIONAL { GRAPH ?intervention { ?row kg:rowStart ?start } }
  OPTIONAL { GRAPH ?intervention { ?row kg:rowEnd ?end } }
}
ORDER BY ?pmid ?start ?outcome
"""
#: ``studies`` asked of the summary: its columns and order, and its parameter line.
STUDIES = "studies"
STUDIES_ANSWER = """\
SELECT ?pmid ?year ?title ?intervention ?intervention_text ?role ?design ?sample_size
WHERE {
  VALUES ?intervention { UNDEF }
  GRAPH ?intervention {
    ?row kg:rowRole ?role ; kg:rowPmid ?pmid ; kg:rowInterventionText ?intervention_text ;
         kg:rowDesign ?design .
  }
  # outside GRAPH and each alone (see OUTCOMES_ANSWER)
  OPTIONAL { GRAPH ?intervention { ?row kg:rowYear ?year } }
  OPTIONAL { GRAPH ?intervention { ?row kg:rowTitle ?title } }
  OPTIONAL { GRAPH ?intervention { ?row kg:rowSampleSize ?sample_size } }
}
ORDER BY DESC(?sample_size) ?pmid ?intervention_text
"""
#: ``adverse-events`` asked of the summary with an intervention: its columns and order.
ADVERSE = "adverse-events"
ADVERSE_ANSWER = """\
SELECT ?grade ?event ?count ?denominator ?percentage ?pmid (MIN(?text) AS ?interventions)
       ?quote ?start
WHERE {
  VALUES ?intervention { UNDEF }
  GRAPH ?intervention {
    ?row kg:rowEvent ?event ; kg:rowPmid ?pmid ; kg:rowInterventions ?text .
  }
  # outside GRAPH and each alone (see OUTCOMES_ANSWER)
  OPTIONAL { GRAPH ?intervention { ?row kg:rowGrade ?grade } }
  OPTIONAL { GRAPH ?intervention { ?row kg:rowCount ?count } }
  OPTIONAL { GRAPH ?intervention { ?row kg:rowDenominator ?denominator } }
  OPTIONAL { GRAPH ?intervention { ?row kg:rowPercentage ?percentage } }
  OPTIONAL { GRAPH ?intervention { ?row kg:rowQuote ?quote } }
  OPTIONAL { GRAPH ?intervention { ?row kg:rowStart ?start } }
}
# one row per node: the graphs of several descriptors of the tree may hold it, with the same
# interventions joined in another order (see ADVERSE)
GROUP BY ?row ?grade ?event ?count ?denominator ?percentage ?pmid ?quote ?start
ORDER BY DESC(?grade) ?pmid ?start ?event
"""
#: The questions a summary answers, and the query that answers each from it.
SUMMARIZED = {
    QUESTION: ANSWER,
    OUTCOMES: OUTCOMES_ANSWER,
    STUDIES: STUDIES_ANSWER,
    ADVERSE: ADVERSE_ANSWER,
}
#: A question the summary answers only when this parameter of it is given.
ONLY_WITH = {ADVERSE: "intervention"}
#: Descriptors recomputed by one query (bounds the memory a recomputation holds).
BATCH = 256

#: The summary's predicates (see ontologies/kg.ttl).
COUNT = KG.cooccurrenceArticles
NAME = KG.cooccurringName
RANK = KG.cooccurrenceRank
#: An ``outcomes`` row's column → the predicate that holds it (the intervention names the graph).
ROW = {
    "pmid": KG.rowPmid,
    "intervention_text": KG.rowInterventionText,
    "outcome": KG.rowOutcome,
    "kind": KG.rowKind,
    "count": KG.rowCount,
    "denominator": KG.rowDenominator,
    "percentage": KG.rowPercentage,
    "grade": KG.rowGrade,
    "p_value": KG.rowPValue,
    "quote": KG.rowQuote,
    "start": KG.rowStart,
    "end": KG.rowEnd,
}
CONDITION = KG.rowCondition
#: A ``studies`` row's column → the predicate that holds it (the intervention names the graph).
STUDY_ROW = {
    "pmid": KG.rowPmid,
    "year": KG.rowYear,
    "title": KG.rowTitle,
    "intervention_text": KG.rowInterventionText,
    "role": KG.rowRole,
    "design": KG.rowDesign,
    "sample_size": KG.rowSampleSize,
}
#: In the summary's default graph: ``SUMMARY_NODE kg:summarizes "name"`` for each question it
#: holds (a summary without it is an older kg's, which held ``cooccurrence`` only).
SUMMARY_NODE = KG.summary
SUMMARIZES = KG.summarizes
#: What an article's heading names its descriptor with; an intervention, its MeSH term.
DESCRIPTOR = KG.descriptor
INTERVENTION = KG.intervention
MESH = KG.mesh
#: An ``adverse-events`` row's column → the predicate that holds it.
ADVERSE_ROW = {
    "grade": KG.rowGrade,
    "event": KG.rowEvent,
    "count": KG.rowCount,
    "denominator": KG.rowDenominator,
    "percentage": KG.rowPercentage,
    "pmid": KG.rowPmid,
    "interventions": KG.rowInterventions,
    "quote": KG.rowQuote,
    "start": KG.rowStart,
}
#: What ``studies`` reads of an article in any graph, and what ties a study to its article.
TITLE = DCTERMS.title
YEAR = FABIO.hasPublicationYear
DESCRIBED_IN = KG.describedIn
#: Where a row node is minted: ``ROWS`` + descriptor UI + ``/`` + its place among the rows.
ROWS = "urn:kg:summary:outcomes:"
STUDY_ROWS = "urn:kg:summary:studies:"
#: ``ADVERSE_ROWS`` + the outcome's IRI (%-encoded) + ``/`` + the row's place among its rows.
ADVERSE_ROWS = "urn:kg:summary:adverse-events:"


def summary_path(version: Path) -> Path:
    """Where the summary of the store version ``version`` lives (it may not be there)."""
    return version / SUMMARY


def open_summary(version: Path) -> Store | None:
    """The summary of ``version``, read-only; None when it has none."""
    path = summary_path(version)
    if not (path / "CURRENT").exists():
        return None
    try:
        return Store.read_only(str(path))
    except (OSError, RuntimeError) as exc:  # unreadable: the question itself still answers
        log.warning("%s: cannot read the summary (%s); asking the store", path, exc)
        return None


def holds(summary: Store, question: str) -> bool:
    """Whether ``summary`` answers ``question`` (one of :data:`SUMMARIZED`)."""
    if Quad(SUMMARY_NODE, SUMMARIZES, Literal(question)) in summary:
        return True
    # written before the summary said what it holds: co-occurrences only
    return question == QUESTION and not any(
        summary.quads_for_pattern(SUMMARY_NODE, SUMMARIZES, None, None)
    )


def descriptors(store: Store, graph: NamedNode) -> set[NamedNode]:
    """The descriptors ``graph`` names as a heading (``?heading kg:descriptor ?d``) or as an
    intervention's MeSH term, and those of the interventions of the studies described in an
    article it gives a title or a year (``studies`` reads them over every graph): what a change
    of that graph can change in the summary."""
    found = _objects(store.quads_for_pattern(None, DESCRIPTOR, None, graph))
    found |= _interventions(store, graph)
    named = {
        q.subject for p in (TITLE, YEAR) for q in store.quads_for_pattern(None, p, None, graph)
    }
    for article in named:
        if isinstance(article, NamedNode):
            for q in store.quads_for_pattern(None, DESCRIBED_IN, article, None):
                if isinstance(q.graph_name, NamedNode) and q.graph_name != graph:
                    found |= _interventions(store, q.graph_name)
    return found


def _interventions(store: Store, graph: NamedNode) -> set[NamedNode]:
    """The descriptors ``graph`` names as an intervention's MeSH term."""
    found: set[NamedNode] = set()
    for i in _objects(store.quads_for_pattern(None, INTERVENTION, None, graph)):
        found |= _objects(store.quads_for_pattern(i, MESH, None, graph))
    return found


def all_descriptors(store: Store) -> set[NamedNode]:
    """Every descriptor a graph of ``store`` names as a heading or as an intervention's."""
    found = _objects(store.quads_for_pattern(None, DESCRIPTOR, None, None))
    interventions = _objects(store.quads_for_pattern(None, INTERVENTION, None, None))
    for q in store.quads_for_pattern(None, MESH, None, None):
        if q.subject in interventions and isinstance(q.object, NamedNode):
            found.add(q.object)
    return found


def _names_an_intervention(store: Store, descriptor: NamedNode) -> bool:
    return any(
        any(store.quads_for_pattern(None, INTERVENTION, q.subject, q.graph_name))
        for q in store.quads_for_pattern(None, MESH, descriptor, None)
    )


def _objects(quads: Iterator[Quad]) -> set[NamedNode]:
    return {q.object for q in quads if isinstance(q.object, NamedNode)}


def refresh(store: Store, summary: Store, touched: set[NamedNode] | None) -> int:
    """Recompute the summary's rows of the ``touched`` descriptors (None: of all, from an
    empty summary; also when ``summary`` lacks a question of :data:`SUMMARIZED`) from
    ``store``; return how many rows it now holds for them.

    Only descriptors the questions can be asked about are kept: those
    :func:`kg.query.values_block` writes (MeSH IRIs); no other can be given as a parameter.
    """
    # imported here: kg.query imports kg.store, which imports this module
    from kg.query import ParameterError, values_block

    def askable(d: NamedNode) -> bool:
        try:
            values_block("descriptor", [d])
        except ParameterError:
            return False
        return True

    if touched is not None and not all(holds(summary, q) for q in SUMMARIZED):
        touched = None  # an older kg's summary: what it lacks is worked out for every descriptor
    if touched is None:
        summary.clear()
        touched = all_descriptors(store)
    written = 0
    chosen = sorted((d for d in touched if askable(d)), key=lambda n: n.value)
    for d in chosen:
        if summary.contains_named_graph(d):
            summary.remove_graph(d)
    for batch in _batches(chosen):
        quads = list(_rows(store, _question(values_block("descriptor", batch))))
        written += sum(1 for q in quads if q.predicate == RANK)
        summary.bulk_extend(quads)
    # the others only of a descriptor that names an intervention (most are headings
    # only): each outcomes batch reads every study's conditions once
    for batch in _batches([d for d in chosen if _names_an_intervention(store, d)]):
        block = values_block("intervention", batch)
        quads = list(_outcome_rows(store, block))
        written += sum(1 for q in quads if q.predicate == ROW["kind"])
        summary.bulk_extend(quads)
        quads = list(_study_rows(store, block))
        written += sum(1 for q in quads if q.predicate == STUDY_ROW["role"])
        summary.bulk_extend(quads)
        quads = list(_adverse_rows(store, block))
        written += sum(1 for q in quads if q.predicate == ADVERSE_ROW["event"])
        summary.bulk_extend(quads)
    for question in SUMMARIZED:
        summary.add(Quad(SUMMARY_NODE, SUMMARIZES, Literal(question)))
    summary.flush()
    summary.optimize()  # each bulk_extend leaves files of its own: one set to look up in
    return written


def _batches(descriptors: list[NamedNode]) -> Iterator[list[NamedNode]]:
    for i in range(0, len(descriptors), BATCH):
        yield descriptors[i : i + BATCH]


def _rows(store: Store, text: str) -> Iterator[Quad]:
    """The question's rows for the descriptors ``text`` names, as the summary holds them."""
    result = store.query(text, prefixes=PREFIXES, use_default_graph_as_union=True)
    if not isinstance(result, QuerySolutions):
        raise TypeError(f"{QUESTION}.rq is not a SELECT query")
    ranks: dict[NamedNode, int] = {}
    for row in result:
        descriptor, other = row["descriptor"], row["other"]
        label, articles = row["label"], row["articles"]
        if not isinstance(descriptor, NamedNode) or not isinstance(other, NamedNode):
            # kg's mapping writes MeSH IRIs only; a store that holds something else there
            # is not summarised exactly, and says so
            log.warning("cooccurrence: %s with %s left out of the summary", descriptor, other)
            continue
        rank = ranks[descriptor] = ranks.get(descriptor, 0) + 1
        yield Quad(other, RANK, Literal(str(rank), datatype=XSD.integer), descriptor)
        if articles is not None:
            yield Quad(other, COUNT, articles, descriptor)
        if label is not None:
            yield Quad(other, NAME, label, descriptor)


def _question(block: str) -> str:
    """The shipped question with ``block`` (a ``VALUES ?descriptor`` line) for its descriptor."""
    text = named_query(QUESTION).text
    return values_line("descriptor").sub(lambda _: block, text, count=1)


#: A row of ``outcomes`` or ``studies``: its intervention, and its columns in the order of
#: :data:`ROW` or :data:`STUDY_ROW`.
Row = tuple[NamedNode, tuple[NamedNode | Literal | None, ...]]


def _outcome_rows(store: Store, block: str) -> Iterator[Quad]:
    """``outcomes``' rows for the interventions ``block`` (a ``VALUES ?intervention`` line)
    names, with the condition descriptors each is given for, as the summary holds them."""
    plain, tagged = _outcome_questions(block)
    rows: dict[Row, set[NamedNode]] = {}
    for solution in _solutions(store, plain):
        key = _row_key(solution)
        if key is not None:
            rows.setdefault(key, set())
    for solution in _solutions(store, tagged):
        key, condition = _row_key(solution), solution["condition"]
        if key is None or not isinstance(condition, NamedNode):
            continue
        if key not in rows:  # a condition narrows the rows: never a row of its own
            raise RuntimeError(f"{OUTCOMES}.rq gives a row with a condition, not without it")
        rows[key].add(condition)
    for node, key in _numbered(rows, ROWS):
        yield from _cells(node, ROW, key)
        for condition in sorted(rows[key], key=lambda n: n.value):
            yield Quad(node, CONDITION, condition, key[0])


def _outcome_questions(block: str) -> tuple[str, str]:
    """The shipped ``outcomes`` for the interventions ``block`` names: without its condition,
    and with it open (``VALUES ?condition { UNDEF }``) and reported as a column."""
    text = values_line("intervention").sub(lambda _: block, named_query(OUTCOMES).text, count=1)
    tagged = activate(text, ["condition"])
    for old, new in (
        ("SELECT DISTINCT ?study WHERE", "SELECT DISTINCT ?study ?condition WHERE"),
        ("SELECT DISTINCT ?pmid", "SELECT DISTINCT ?condition ?pmid"),
    ):
        if tagged.count(old) != 1:
            raise RuntimeError(f"{OUTCOMES}.rq changed: the summary cannot find {old!r} in it")
        tagged = tagged.replace(old, new)
    return text, tagged


def _solutions(store: Store, text: str, question: str = OUTCOMES) -> QuerySolutions:
    result = store.query(text, prefixes=PREFIXES, use_default_graph_as_union=True)
    if not isinstance(result, QuerySolutions):
        raise TypeError(f"{question}.rq is not a SELECT query")
    return result


def _row_key(
    solution: QuerySolution, question: str = OUTCOMES, columns: dict[str, NamedNode] = ROW
) -> Row | None:
    """The row of a solution (its ``columns``); None (with a warning) for one the summary
    cannot hold exactly."""
    intervention = solution["intervention"]
    cells: list[NamedNode | Literal | None] = []
    for column in columns:
        value = solution[column]
        if value is not None and not isinstance(value, NamedNode | Literal):
            break
        cells.append(value)
    if not isinstance(intervention, NamedNode) or len(cells) != len(columns):
        # kg's mapping writes a MeSH IRI and literals there; anything else is left out
        log.warning("%s: a row of %s left out of the summary", question, intervention)
        return None
    return intervention, tuple(cells)


def _sort_key(term: object) -> tuple[int, str]:
    return (0, "") if term is None else (1, str(term))


def _numbered(rows: Iterable[Row], prefix: str) -> Iterator[tuple[NamedNode, Row]]:
    """Each row with its node: ``prefix`` + its descriptor's UI + ``/`` + its place among the
    descriptor's rows, numbered in an order of the rows' own (the same for the same rows)."""
    places: dict[NamedNode, int] = {}
    for key in sorted(rows, key=lambda k: (k[0].value, *map(_sort_key, k[1]))):
        intervention = key[0]
        place = places[intervention] = places.get(intervention, 0) + 1
        yield NamedNode(f"{prefix}{intervention.value.rsplit('/', 1)[-1]}/{place}"), key


def _cells(node: NamedNode, columns: dict[str, NamedNode], row: Row) -> Iterator[Quad]:
    """A row's bound cells (in ``columns``' order), in the graph of its descriptor."""
    graph, cells = row
    for predicate, value in zip(columns.values(), cells, strict=True):
        if value is not None:
            yield Quad(node, predicate, value, graph)


def _study_rows(store: Store, block: str) -> Iterator[Quad]:
    """``studies``' rows for the interventions ``block`` (a ``VALUES ?intervention`` line)
    names, as the summary holds them."""
    text = values_line("intervention").sub(lambda _: block, named_query(STUDIES).text, count=1)
    rows: list[Row] = []
    for solution in _solutions(store, text, STUDIES):
        key = _row_key(solution, STUDIES, STUDY_ROW)
        if key is not None:
            rows.append(key)
    for node, key in _numbered(rows, STUDY_ROWS):
        yield from _cells(node, STUDY_ROW, key)


def _adverse_rows(store: Store, block: str) -> Iterator[Quad]:
    """``adverse-events``' rows for each intervention ``block`` (a ``VALUES ?intervention``
    line) names, as the summary holds them: the question with the intervention and the
    outcome reported and grouped by too (an outcome's rows for one descriptor are its rows
    for a tree that holds the descriptor)."""
    text = activate(named_query(ADVERSE).text, ["intervention"])
    text = values_line("intervention").sub(lambda _: block, text, count=1)
    for old, new in (
        ("SELECT ?grade ", "SELECT ?intervention ?o ?grade "),
        ("GROUP BY ?o ", "GROUP BY ?intervention ?o "),
    ):
        if text.count(old) != 1:
            raise RuntimeError(f"{ADVERSE}.rq changed: the summary cannot find {old!r} in it")
        text = text.replace(old, new)
    rows: dict[NamedNode, dict[NamedNode, list[tuple[NamedNode | Literal | None, ...]]]] = {}
    for solution in _solutions(store, text, ADVERSE):
        key, outcome = _row_key(solution, ADVERSE, ADVERSE_ROW), solution["o"]
        if key is None:
            continue
        if not isinstance(outcome, NamedNode):
            log.warning("%s: a row of %s left out of the summary", ADVERSE, key[0])
            continue
        rows.setdefault(key[0], {}).setdefault(outcome, []).append(key[1])
    for intervention, outcomes in rows.items():
        for outcome, cells in outcomes.items():
            # numbered in an order of the outcome's rows (the same in every descriptor's graph)
            for place, row in enumerate(sorted(cells, key=lambda c: tuple(map(_sort_key, c))), 1):
                node = NamedNode(f"{ADVERSE_ROWS}{quote(outcome.value, safe='')}/{place}")
                yield from _cells(node, ADVERSE_ROW, (intervention, row))

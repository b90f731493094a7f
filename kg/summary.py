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

Kept exact: the rows of a descriptor depend only on the articles that carry it, so a build
recomputes the rows of every descriptor that an article it added, replaced or deleted carried
before or carries now (:func:`refresh`), and of every descriptor when there is no summary yet.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad, QuerySolutions, Store

from kg.queries import named_query, values_line
from kg.rdf.namespaces import KG, PREFIXES, XSD

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
#: The questions a summary answers, and the query that answers each from it.
SUMMARIZED = {QUESTION: ANSWER}
#: Descriptors recomputed by one query (bounds the memory a recomputation holds).
BATCH = 256

#: The summary's predicates (see ontologies/kg.ttl).
COUNT = KG.cooccurrenceArticles
NAME = KG.cooccurringName
RANK = KG.cooccurrenceRank
#: What an article's heading names its descriptor with.
DESCRIPTOR = KG.descriptor


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


def descriptors(store: Store, graph: NamedNode) -> set[NamedNode]:
    """The descriptors ``graph`` names (``?heading kg:descriptor ?d``): what a change of that
    graph can change in the summary."""
    return {
        q.object
        for q in store.quads_for_pattern(None, DESCRIPTOR, None, graph)
        if isinstance(q.object, NamedNode)
    }


def all_descriptors(store: Store) -> set[NamedNode]:
    """Every descriptor a graph of ``store`` names."""
    return {
        q.object
        for q in store.quads_for_pattern(None, DESCRIPTOR, None, None)
        if isinstance(q.object, NamedNode)
    }


def refresh(store: Store, summary: Store, touched: set[NamedNode] | None) -> int:
    """Recompute the summary's rows of the ``touched`` descriptors (None: of all, from an
    empty summary) from ``store``; return how many rows it now holds for them.

    Only descriptors the question can be asked about are kept: those :func:`kg.query.values_block`
    writes (MeSH IRIs); no other can be given as its ``descriptor``.
    """
    # imported here: kg.query imports kg.store, which imports this module
    from kg.query import ParameterError, values_block

    def askable(d: NamedNode) -> bool:
        try:
            values_block("descriptor", [d])
        except ParameterError:
            return False
        return True

    if touched is None:
        summary.clear()
        touched = all_descriptors(store)
    written = 0
    chosen = sorted((d for d in touched if askable(d)), key=lambda n: n.value)
    for i in range(0, len(chosen), BATCH):
        batch = chosen[i : i + BATCH]
        for d in batch:
            if summary.contains_named_graph(d):
                summary.remove_graph(d)
        quads = list(_rows(store, _question(values_block("descriptor", batch))))
        summary.bulk_extend(quads)
        written += sum(1 for q in quads if q.predicate == RANK)
    summary.flush()
    summary.optimize()  # each bulk_extend leaves files of its own: one set to look up in
    return written


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

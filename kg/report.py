"""The evidence of one article, read back from the store with SPARQL (not from the model).

What ``kg evidence PMID`` prints: if the graph holds it, it is here; if it is here, the graph
holds it.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from pyoxigraph import Literal, NamedNode, QuerySolutions, Variable

from kg.errors import KgError
from kg.models import DESIGN_TERMS
from kg.query import printable
from kg.rdf.evidence import DIRECTIONS
from kg.rdf.iris import Iris
from kg.rdf.namespaces import PREFIXES
from kg.store import KgStore

MESH_PREFIX = PREFIXES["mesh"]
_DIRECTION_NAMES = {node.value: name for name, node in DIRECTIONS.items()}


class NotInStore(KgError):
    """The store has no graph for the PMID asked for."""


_ARTICLE = """
SELECT ?g ?a ?title ?doi WHERE { GRAPH ?g { ?a fabio:hasPubMedId ?pmid .
  OPTIONAL { ?a dcterms:title ?title } OPTIONAL { ?a prism:doi ?doi } } }"""
_DESIGN = """
SELECT ?g ?a ?d ?term ?how WHERE { GRAPH ?g { ?a kg:reportsStudy/kg:designFeature ?d .
  ?d kg:designTerm ?term . OPTIONAL { ?d kg:foundBy ?how } } }"""
_POPULATION = """
SELECT ?g ?a ?n ?inclusion WHERE { GRAPH ?g { ?a kg:reportsStudy/kg:population ?p .
  OPTIONAL { ?p kg:sampleSize ?n } OPTIONAL { ?p kg:inclusionCriteria ?inclusion } } }"""
_CONDITIONS = """
SELECT ?g ?a ?c ?text ?mesh WHERE { GRAPH ?g { ?a kg:reportsStudy/kg:population/kg:condition ?c .
  ?c rdfs:label ?text . OPTIONAL { ?c kg:mesh ?mesh } } }"""
_INTERVENTIONS = """
SELECT ?g ?a ?i ?text ?abbr ?mesh ?role ?mean ?median ?min ?max ?unit WHERE { GRAPH ?g {
  ?a kg:reportsStudy/kg:intervention ?i . ?i rdfs:label ?text ; kg:armRole ?role .
  OPTIONAL { ?i kg:abbreviation ?abbr } OPTIONAL { ?i kg:mesh ?mesh }
  OPTIONAL { ?i kg:numberOfCourses ?c . OPTIONAL { ?c kg:mean ?mean } OPTIONAL { ?c kg:median ?median }
             OPTIONAL { ?c kg:minimum ?min } OPTIONAL { ?c kg:maximum ?max } OPTIONAL { ?c kg:unit ?unit } } } }"""
_OUTCOMES = """
SELECT ?g ?a ?o ?text ?kind ?mesh ?arm ?quote ?start ?end ?count ?den ?basis ?pct ?grade ?time ?unit ?stat
       ?mean ?sd ?median ?p ?pop ?effm ?eff ?cil ?cilo ?cihi ?conflict WHERE { GRAPH ?g {
  ?a kg:reportsStudy/kg:outcome ?o . ?o rdfs:label ?text ; kg:outcomeKind ?kind ; kg:measurement ?m .
  OPTIONAL { ?o kg:mesh ?mesh } OPTIONAL { ?o kg:arm/rdfs:label ?arm }
  OPTIONAL { ?o kg:evidenceSpan ?s . ?s oa:exact ?quote ; oa:start ?start ; oa:end ?end }
  OPTIONAL { ?m kg:count ?count } OPTIONAL { ?m kg:denominator ?den } OPTIONAL { ?m kg:denominatorBasis ?basis }
  OPTIONAL { ?m kg:percentage ?pct } OPTIONAL { ?m kg:grade ?grade }
  OPTIONAL { ?m kg:timeValue ?time ; kg:timeUnit ?unit OPTIONAL { ?m kg:timeStatistic ?stat } }
  OPTIONAL { ?m kg:mean ?mean } OPTIONAL { ?m kg:sd ?sd } OPTIONAL { ?m kg:median ?median }
  OPTIONAL { ?m kg:pValue ?p ; kg:pOperator ?pop } OPTIONAL { ?m kg:effectMeasure ?effm ; kg:effectValue ?eff }
  OPTIONAL { ?m kg:ciLevel ?cil ; kg:ciLower ?cilo ; kg:ciUpper ?cihi } OPTIONAL { ?m kg:conflict ?conflict } } }"""
_CONCLUSION = """
SELECT ?g ?a ?quote ?start WHERE { GRAPH ?g { ?a kg:reportsStudy/kg:conclusion ?s .
  ?s oa:exact ?quote ; oa:start ?start } } ORDER BY ?start"""
_MENTIONS = """
SELECT ?g ?a ?m ?kind ?quote ?start ?end WHERE { GRAPH ?g {
  ?a kg:reportsStudy/kg:mention ?m . ?m a ?kind ; kg:evidenceSpan ?s .
  ?s oa:exact ?quote ; oa:start ?start ; oa:end ?end .
  VALUES ?kind { kg:ParticipantsMention kg:InterventionMention kg:OutcomeMention } } }
ORDER BY ?start ?end"""
_MENTION_KEYS = {"ParticipantsMention": "participants", "InterventionMention": "interventions",
                 "OutcomeMention": "outcomes"}
_FINDINGS = """
SELECT ?g ?a ?f ?iv ?cmp ?ivtext ?cmptext ?outcome ?direction ?prob ?how ?quote ?start ?end
       ?p ?pop ?effm ?eff ?cil ?cilo ?cihi WHERE { GRAPH ?g {
  ?a kg:reportsStudy/kg:finding ?f . ?f kg:evidenceSpan ?s . ?s oa:exact ?quote ; oa:start ?start ; oa:end ?end .
  OPTIONAL { ?f kg:findingIntervention/rdfs:label ?iv } OPTIONAL { ?f kg:findingComparator/rdfs:label ?cmp }
  OPTIONAL { ?f kg:interventionText ?ivtext } OPTIONAL { ?f kg:comparatorText ?cmptext }
  OPTIONAL { ?f kg:outcomeText ?outcome } OPTIONAL { ?f kg:direction ?direction }
  OPTIONAL { ?f kg:probability ?prob } OPTIONAL { ?f kg:foundBy ?how }
  OPTIONAL { ?f kg:measurement ?m .
    OPTIONAL { ?m kg:pValue ?p ; kg:pOperator ?pop } OPTIONAL { ?m kg:effectMeasure ?effm ; kg:effectValue ?eff }
    OPTIONAL { ?m kg:ciLevel ?cil ; kg:ciLower ?cilo ; kg:ciUpper ?cihi } } } }"""
_RELATED = """
SELECT ?g ?a ?rel ?pmid WHERE { GRAPH ?g {
  { ?a kg:similarTo ?r . BIND("similar" AS ?rel) } UNION { ?a cito:isCitedBy ?r . BIND("cited_by" AS ?rel) }
  ?r fabio:hasPubMedId ?pmid } }"""


def _value(term: object) -> Any:
    """A JSON value for an RDF term: numbers as numbers, MeSH IRIs as UIs."""
    if term is None:
        return None
    if isinstance(term, NamedNode):
        return term.value.removeprefix(MESH_PREFIX)
    if isinstance(term, Literal):
        dt = term.datatype.value.rsplit("#", 1)[-1]
        if dt in ("integer", "int", "long"):
            return int(term.value)
        if dt in ("decimal", "double", "float"):
            d = Decimal(term.value)
            return int(d) if d == d.to_integral_value() else float(d)
        if dt == "boolean":
            return term.value == "true"
        return term.value
    return str(term)


def _index(node: object) -> int:
    """Order nodes by the number at the end of their IRI (…/outcome/10 after …/outcome/9)."""
    m = re.search(r"(\d+)$", node.value) if isinstance(node, NamedNode) else None
    return int(m.group(1)) if m else 0


def evidence_json(store: KgStore, pmid: str, *, iris: Iris) -> dict[str, Any]:
    """The evidence of ``pmid`` as a JSON-ready dict (see the README for its fields)."""
    graph = iris.graph(pmid)
    article = iris.article(pmid)

    def rows(query: str) -> list[dict[str, Any]]:
        result = store.store.query(
            query,
            prefixes=PREFIXES,
            substitutions={Variable("g"): graph, Variable("a"): article},
        )
        assert isinstance(result, QuerySolutions)
        names = [v.value for v in result.variables]
        return [{n: sol[n] for n in names} for sol in result]

    head = rows(_ARTICLE)
    if not head:
        raise NotInStore(f"no article {pmid} in the store", source=str(store.path), record=pmid)
    design = sorted(
        {_value(r["term"]) for r in rows(_DESIGN)},
        key=lambda t: DESIGN_TERMS.index(t) if t in DESIGN_TERMS else 99,
    )
    pop = rows(_POPULATION)
    conditions = sorted(rows(_CONDITIONS), key=lambda r: _index(r["c"]))
    interventions = []
    for r in sorted(rows(_INTERVENTIONS), key=lambda r: _index(r["i"])):
        item: dict[str, Any] = {
            "text": _value(r["text"]),
            "abbreviation": _value(r["abbr"]),
            "mesh": _value(r["mesh"]),
            "role": _value(r["role"]),
        }
        if any(r[k] is not None for k in ("mean", "median", "min", "max")):
            item["courses"] = {
                k: _value(r[k]) for k in ("mean", "median", "min", "max") if r[k] is not None
            }
        interventions.append(item)
    outcomes = []
    for r in sorted(rows(_OUTCOMES), key=lambda r: _index(r["o"])):
        o: dict[str, Any] = {
            "text": _value(r["text"]),
            "kind": _value(r["kind"]),
            "count": _value(r["count"]),
            "denominator": _value(r["den"]),
            "denominator_basis": _value(r["basis"]),
            "percentage": _value(r["pct"]),
            "grade": _value(r["grade"]),
            "mesh": _value(r["mesh"]),
            "arm": _value(r["arm"]),
        }
        if r["time"] is not None:
            key = f"{_value(r['stat'])}_time" if r["stat"] is not None else "time"
            o[key] = {"value": _value(r["time"]), "unit": _value(r["unit"])}
        for name, var in (
            ("mean", "mean"),
            ("sd", "sd"),
            ("median", "median"),
            ("conflict", "conflict"),
        ):
            if r[var] is not None:
                o[name] = _value(r[var])
        if r["p"] is not None:
            o["p_value"] = {"operator": _value(r["pop"]), "value": _value(r["p"])}
        if r["eff"] is not None:
            o["effect"] = {"measure": _value(r["effm"]), "value": _value(r["eff"])}
        if r["cil"] is not None:
            o["ci"] = {
                "level": _value(r["cil"]),
                "lower": _value(r["cilo"]),
                "upper": _value(r["cihi"]),
            }
        o.update(quote=_value(r["quote"]), start=_value(r["start"]), end=_value(r["end"]))
        outcomes.append(o)
    conclusion = [_value(r["quote"]) for r in rows(_CONCLUSION)]
    findings = [_finding(r) for r in sorted(rows(_FINDINGS), key=lambda r: _index(r["f"]))]
    mentions: dict[str, list[dict[str, Any]]] = {k: [] for k in _MENTION_KEYS.values()}
    for r in rows(_MENTIONS):
        key = _MENTION_KEYS[str(r["kind"].value).rsplit("#", 1)[-1].rsplit("/", 1)[-1]]
        mentions[key].append(
            {"text": _value(r["quote"]), "start": _value(r["start"]), "end": _value(r["end"])}
        )
    related: dict[str, list[str]] = {"similar": [], "cited_by": []}
    for r in rows(_RELATED):
        related[_value(r["rel"])].append(_value(r["pmid"]))
    return {
        "pmid": pmid,
        "doi": _value(head[0]["doi"]),
        "title": _value(head[0]["title"]),
        "design": design,
        "population": {
            "conditions": [
                {"text": _value(r["text"]), "mesh": _value(r["mesh"])} for r in conditions
            ],
            "sample_size": _value(pop[0]["n"]) if pop else None,
            "inclusion": _value(pop[0]["inclusion"]) if pop else None,
        },
        "interventions": interventions,
        "outcomes": outcomes,
        "conclusion": conclusion[0] if conclusion else None,
        "conclusion_sentences": conclusion,
        "findings": findings,
        "mentions": mentions,
        "similar_articles": sorted(related["similar"], key=int),
        "cited_by": sorted(related["cited_by"], key=int),
    }


def _finding(r: dict[str, Any]) -> dict[str, Any]:
    """One finding of :func:`evidence_json`: arms, outcome, direction, numbers, sentence."""
    f: dict[str, Any] = {
        "intervention": _value(r["iv"]),
        "comparator": _value(r["cmp"]),
        "intervention_text": _value(r["ivtext"]),
        "comparator_text": _value(r["cmptext"]),
        "outcome": _value(r["outcome"]),
        "direction": _DIRECTION_NAMES.get(r["direction"].value) if r["direction"] is not None else None,
        "probability": _value(r["prob"]),
        "found_by": _value(r["how"]),
    }
    if r["p"] is not None:
        f["p_value"] = {"operator": _value(r["pop"]), "value": _value(r["p"])}
    if r["eff"] is not None:
        f["effect"] = {"measure": _value(r["effm"]), "value": _value(r["eff"])}
    if r["cil"] is not None:
        f["ci"] = {"level": _value(r["cil"]), "lower": _value(r["cilo"]), "upper": _value(r["cihi"])}
    f.update(quote=_value(r["quote"]), start=_value(r["start"]), end=_value(r["end"]))
    return f


def evidence_table(data: dict[str, Any]) -> str:
    """A plain-text rendering of :func:`evidence_json`'s result for people."""
    lines = [
        f"PMID {data['pmid']}" + (f"  doi:{data['doi']}" if data.get("doi") else ""),
        str(data.get("title") or ""),
    ]
    pop = data["population"]
    lines.append(f"design      : {', '.join(data['design']) or '-'}")
    conds = ", ".join(
        f"{c['text']} ({c['mesh']})" if c["mesh"] else c["text"] for c in pop["conditions"]
    )
    lines.append(
        f"population  : n = {pop['sample_size'] if pop['sample_size'] is not None else '?'}; {conds or '-'}"
    )
    for iv in data["interventions"]:
        extra = f" [{iv['abbreviation']}]" if iv["abbreviation"] else ""
        courses = iv.get("courses")
        if courses:
            extra += " courses " + ", ".join(f"{k} {v}" for k, v in courses.items())
        lines.append(f"{iv['role']:<12}: {iv['text']}{extra} ({iv['mesh'] or '-'})")
    lines.append("outcomes    :")
    for o in data["outcomes"]:
        n = "" if o["count"] is None else str(o["count"])
        if o["denominator"] is not None:
            n += f"/{o['denominator']}"
        if o["percentage"] is not None:
            n += f" ({o['percentage']}%)"
        lines.append(f"  {n:<14} {o['text']}  [{o['kind']}]")
    if data.get("findings"):
        lines.append("findings    :")
    for f in data.get("findings", ()):
        arms = f"{f['intervention'] or f['intervention_text'] or '?'} vs {f['comparator'] or f['comparator_text'] or '?'}"
        p = f.get("p_value")
        stat = f"  p {p['operator']} {p['value']}" if p else ""
        lines.append(f"  {f['direction'] or 'direction not stated':<26} {arms}: {f['outcome'] or '?'}{stat}")
    if data.get("conclusion"):
        lines.append(f"conclusion  : {data['conclusion']}")
    # the tagger's phrases, each once, in the order the abstract uses them
    for key, name in (("participants", "participants"), ("interventions", "arms named"),
                      ("outcomes", "measured")):
        found = data.get("mentions", {}).get(key, [])
        if found:
            words = "; ".join(dict.fromkeys(m["text"] for m in found))
            lines.append(f"{name:<12}: {words}")
    lines.append(f"similar     : {' '.join(data['similar_articles']) or '-'}")
    lines.append(f"cited by    : {' '.join(data['cited_by']) or '-'}")
    return "\n".join(printable(line) for line in lines)  # no raw ESC from the data

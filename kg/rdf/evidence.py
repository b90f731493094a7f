"""Evidence → quads in the article's named graph.

The study is a ``kg:Study`` (a schema.org ``MedicalStudy``) with PICO nodes
(``kg:Population``/``kg:Intervention``/``kg:Outcome``, subclasses of the Cochrane PICO
classes), measurements with XSD-typed numbers exactly as printed, and Web Annotation
selectors (``oa:exact``/``oa:start``/``oa:end``) pointing into the article's ``dcterms:abstract``.
Every node says how it was found (``kg:foundBy``).
"""

from __future__ import annotations

from decimal import Decimal

from pyoxigraph import Literal, NamedNode, Quad

from kg.extract.numbers import UCUM
from kg.models import Evidence, Finding, Measurement, Span, Summary
from kg.rdf.iris import Iris
from kg.rdf.namespaces import DCTERMS, KG, OA, RDF, RDFS, SCHEMA, XSD


def _int(value: int) -> Literal:
    return Literal(str(value), datatype=XSD.integer)


def _dec(value: Decimal) -> Literal:
    return Literal(format(value, "f"), datatype=XSD.decimal)


class _Writer:
    def __init__(self, evidence: Evidence, iris: Iris) -> None:
        self.pmid = evidence.pmid
        self.iris = iris
        self.graph = iris.graph(self.pmid)
        self.article = iris.article(self.pmid)
        self.quads: list[Quad] = []
        self.spans: dict[tuple[int, int], NamedNode] = {}

    def add(self, s: NamedNode, p: NamedNode, o: NamedNode | Literal | None) -> None:
        if o is not None:
            self.quads.append(Quad(s, p, o, self.graph))

    def node(self, kind: str, index: int | str) -> NamedNode:
        return self.iris.part(self.pmid, kind, index)

    def span(self, subject: NamedNode, span: Span | None) -> None:
        """``subject kg:evidenceSpan <span>``."""
        if span is not None:
            self.add(subject, KG.evidenceSpan, self.span_node(span))

    def span_node(self, span: Span) -> NamedNode:
        """The node of a stretch of the abstract; one per distinct (start, end)."""
        key = (span.start, span.end)
        node = self.spans.get(key)
        if node is None:
            node = self.spans[key] = self.node("span", f"{span.start}-{span.end}")
            self.add(node, RDF.type, KG.Span)
            self.add(node, OA.exact, Literal(span.quote))
            self.add(node, OA.start, _int(span.start))
            self.add(node, OA.end, _int(span.end))
            self.add(node, DCTERMS.isPartOf, self.article)
            if span.section is not None:
                self.add(node, KG.inSection, self.iris.part(self.pmid, "section", span.section + 1))
        return node

    def found_by(self, subject: NamedNode, how: tuple[str, ...] | str) -> None:
        for h in (how,) if isinstance(how, str) else how:
            self.add(subject, KG.foundBy, Literal(h))

    def mesh(self, subject: NamedNode, ui: str | None) -> None:
        node = self.iris.mesh(ui) if ui else None
        self.add(subject, KG.mesh, node)


def evidence_quads(evidence: Evidence, *, iris: Iris) -> list[Quad]:
    """All quads of ``evidence`` (none when nothing was found)."""
    if not (
        evidence.design
        or evidence.interventions
        or evidence.outcomes
        or evidence.population.conditions
        or evidence.population.sample_size
        or evidence.conclusion
        or evidence.findings
        or evidence.mentions
    ):
        return []
    w = _Writer(evidence, iris)
    study = w.node("study", 1)
    w.add(w.article, KG.reportsStudy, study)
    w.add(study, RDF.type, KG.Study)
    w.add(study, RDF.type, SCHEMA.MedicalStudy)
    w.add(study, KG.describedIn, w.article)
    for i, f in enumerate(evidence.design, 1):
        d = w.node("design", i)
        w.add(study, KG.designFeature, d)
        w.add(d, RDF.type, KG.DesignFeature)
        w.add(d, KG.designTerm, Literal(f.term))
        w.add(d, RDFS.label, Literal(f.term))
        w.found_by(d, f.found_by)
        w.mesh(d, f.mesh)
        w.span(d, f.span)
    _population(w, study, evidence)
    arms: list[NamedNode] = []
    for i, iv in enumerate(evidence.interventions, 1):
        n = w.node("intervention", i)
        arms.append(n)
        w.add(study, KG.intervention, n)
        w.add(n, RDF.type, KG.Intervention)
        w.add(n, RDFS.label, Literal(iv.text))
        w.add(n, KG.armRole, Literal(iv.role))
        if iv.harms:
            w.add(n, KG.harmsIndexed, Literal("true", datatype=XSD.boolean))
        if iv.abbreviation:
            w.add(n, KG.abbreviation, Literal(iv.abbreviation))
        w.mesh(n, iv.mesh)
        w.found_by(n, iv.found_by)
        w.span(n, iv.span)
        if iv.courses is not None:
            c = w.node("courses", i)
            w.add(n, KG.numberOfCourses, c)
            _summary(w, c, iv.courses)
    outcome_nodes: list[NamedNode] = []
    for i, o in enumerate(evidence.outcomes, 1):
        n = w.node("outcome", i)
        outcome_nodes.append(n)
        w.add(study, KG.outcome, n)
        w.add(n, RDF.type, KG.Outcome)
        w.add(n, RDFS.label, Literal(o.text))
        w.add(n, KG.outcomeKind, Literal(o.kind))
        w.mesh(n, o.mesh)
        if o.arm is not None and o.arm < len(arms):
            w.add(n, KG.arm, arms[o.arm])
        w.found_by(n, o.found_by)
        w.span(n, o.span)
        m = w.node("measurement", i)
        w.add(n, KG.measurement, m)
        _measurement(w, m, o.measurement)
    for span in evidence.conclusion:
        w.add(study, KG.conclusion, w.span_node(span))
    for i, found in enumerate(evidence.findings, 1):
        _finding(w, study, i, found, evidence, arms, outcome_nodes)
    for i, mention in enumerate(evidence.mentions, 1):
        n = w.node("mention", i)
        w.add(study, KG.mention, n)
        w.add(n, RDF.type, KG.Mention)
        w.add(n, RDF.type, MENTION_CLASSES[mention.label])
        w.found_by(n, mention.found_by)
        w.span(n, mention.span)
    for i, a in enumerate(evidence.abbreviations, 1):
        n = w.node("abbreviation", i)
        w.add(w.article, KG.definesAbbreviation, n)
        w.add(n, RDF.type, KG.AbbreviationDefinition)
        w.add(n, KG.shortForm, Literal(a.short))
        w.add(n, KG.longForm, Literal(a.long))
        w.span(n, a.span)
    return w.quads


#: A tagged mention's class, by its label (kg.models.MENTION_LABELS).
MENTION_CLASSES = {
    "participants": KG.ParticipantsMention,
    "intervention": KG.InterventionMention,
    "outcome": KG.OutcomeMention,
}

#: A finding's direction, as the controlled terms of ontologies/kg.ttl.
DIRECTIONS = {
    "significantly increased": KG.SignificantlyIncreased,
    "significantly decreased": KG.SignificantlyDecreased,
    "no significant difference": KG.NoSignificantDifference,
}


def _finding(
    w: _Writer,
    study: NamedNode,
    i: int,
    f: Finding,
    evidence: Evidence,
    arms: list[NamedNode],
    outcomes: list[NamedNode],
) -> None:
    """``study kg:finding <…/finding/i>``: arms, outcome, direction, numbers, sentence."""
    n = w.node("finding", i)
    w.add(study, KG.finding, n)
    w.add(n, RDF.type, KG.Finding)
    if f.intervention is not None and f.intervention < len(arms):
        w.add(n, KG.findingIntervention, arms[f.intervention])
    if f.comparator is not None and f.comparator < len(arms):
        w.add(n, KG.findingComparator, arms[f.comparator])
    if f.intervention_text:
        w.add(n, KG.interventionText, Literal(f.intervention_text))
    if f.comparator_text:
        w.add(n, KG.comparatorText, Literal(f.comparator_text))
    if f.outcome:
        w.add(n, KG.outcomeText, Literal(f.outcome))
        words = set(f.outcome.lower().split())
        for o, node in zip(evidence.outcomes, outcomes, strict=True):
            inside = f.span.start <= o.span.start and o.span.end <= f.span.end
            if inside and words & set(o.text.lower().split()):
                w.add(n, KG.findingOutcome, node)
                break
    if f.direction is not None:
        w.add(n, KG.direction, DIRECTIONS[f.direction])
    if f.probability is not None:
        w.add(n, KG.probability, _dec(Decimal(str(f.probability))))
    w.found_by(n, f.found_by)
    w.span(n, f.span)
    if f.measurement != Measurement():
        m = w.node("finding-measurement", i)
        w.add(n, KG.measurement, m)
        _measurement(w, m, f.measurement)


def _population(w: _Writer, study: NamedNode, evidence: Evidence) -> None:
    pop = evidence.population
    p = w.node("population", 1)
    w.add(study, KG.population, p)
    w.add(p, RDF.type, KG.Population)
    if pop.sample_size is not None:
        w.add(p, KG.sampleSize, _int(pop.sample_size))
        w.span(p, pop.sample_size_span)
        if pop.sample_size_kind:
            w.add(p, KG.sampleSizeKind, Literal(pop.sample_size_kind))
    for i, c in enumerate(pop.conditions, 1):
        n = w.node("condition", i)
        w.add(p, KG.condition, n)
        w.add(n, RDF.type, KG.Condition)
        w.add(n, RDFS.label, Literal(c.text))
        w.mesh(n, c.mesh)
        if c.mesh and (mesh := w.iris.mesh(c.mesh)) is not None:
            w.add(study, SCHEMA.healthCondition, mesh)
        w.found_by(n, c.found_by)
        w.span(n, c.span)
    for sex in pop.sex:
        w.add(p, KG.sex, Literal(sex))
    for group in pop.age_groups:
        w.add(p, KG.ageGroup, Literal(group))
    if pop.humans is not None:
        w.add(p, KG.humans, Literal(str(pop.humans).lower(), datatype=XSD.boolean))
    if pop.inclusion is not None:
        w.add(p, KG.inclusionCriteria, Literal(pop.inclusion.quote))
        node = w.node("inclusion", 1)
        w.add(p, KG.inclusion, node)
        w.add(node, RDF.type, KG.InclusionCriteria)
        w.span(node, pop.inclusion)


def _summary(w: _Writer, n: NamedNode, s: Summary) -> None:
    w.add(n, RDF.type, KG.Summary)
    for prop, value in (
        (KG.mean, s.mean),
        (KG.median, s.median),
        (KG.sd, s.sd),
        (KG.minimum, s.minimum),
        (KG.maximum, s.maximum),
    ):
        if value is not None:
            w.add(n, prop, _dec(value))
    if s.unit:
        w.add(n, KG.unit, Literal(s.unit))
    w.span(n, s.span)


def _measurement(w: _Writer, n: NamedNode, m: Measurement) -> None:
    w.add(n, RDF.type, KG.Measurement)
    if m.count is not None:
        w.add(n, KG.count, _int(m.count))
    if m.denominator is not None:
        w.add(n, KG.denominator, _int(m.denominator))
        if m.denominator_basis:
            w.add(n, KG.denominatorBasis, Literal(m.denominator_basis))
    decimals = (
        (KG.percentage, m.percentage),
        (KG.mean, m.mean),
        (KG.median, m.median),
        (KG.sd, m.sd),
        (KG.pValue, m.p_value),
        (KG.ciLevel, m.ci_level),
        (KG.effectValue, m.effect_value),
        (KG.timeValue, m.time),
    )
    for prop, value in decimals:
        if value is not None:
            w.add(n, prop, _dec(value))
    for prop, pair in ((KG.iqr, m.iqr), (KG.range, m.range), (KG.ci, m.ci)):
        if pair is not None:
            lo, hi = (KG[prop.value.rsplit("#", 1)[1] + suffix] for suffix in ("Lower", "Upper"))
            w.add(n, lo, _dec(pair[0]))
            w.add(n, hi, _dec(pair[1]))
    if m.p_operator:
        w.add(n, KG.pOperator, Literal(m.p_operator))
    if m.effect_measure:
        w.add(n, KG.effectMeasure, Literal(m.effect_measure))
    if m.time_unit:
        w.add(n, KG.timeUnit, Literal(m.time_unit))
        w.add(n, KG.timeUnitCode, Literal(UCUM[m.time_unit]))
    if m.time_statistic:
        w.add(n, KG.timeStatistic, Literal(m.time_statistic))
    if m.grade is not None:
        w.add(n, KG.grade, _int(m.grade))
    if m.conflict:
        w.add(n, KG.conflict, Literal(m.conflict))

"""Population, interventions and outcomes with their numbers, from sentences and indexing.

Each rule is small and named; the name goes into the graph as ``found_by`` so a reader can
see why kg says what it says. When the text does not state a number, kg does not state it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from kg.extract import comparisons, indexing, sample, valuegate
from kg.extract import numbers as num
from kg.extract.grounding import (
    GIVEN,
    INTERVENTION,
    candidates,
    grounded,
    mentions,
)
from kg.extract.text import (
    METHODS,
    OBJECTIVE,
    RESULTS,
    Sentence,
    replace_spans,
    short_form_spans,
    word_spans,
)
from kg.mesh import MeshTable
from kg.models import (
    Abbreviation,
    Article,
    Condition,
    Intervention,
    Measurement,
    MeshHeading,
    MeshQualifier,
    Outcome,
    Population,
    Span,
    Summary,
)

DRUG_THERAPY, THERAPY = "Q000188", "Q000628"
# qualifier UI → name (old records print the name without the UI)
_CONDITION_QUALIFIERS = {"Q000188": "drug therapy", "Q000628": "therapy", "Q000601": "surgery",
                         "Q000532": "radiotherapy", "Q000178": "diet therapy"}
_INTERVENTION_QUALIFIERS = {"Q000627": "therapeutic use", "Q000008": "administration & dosage"}
_HARMS = {"Q000009": "adverse effects"}
_OUTCOME_QUALIFIERS = {"Q000209": "etiology", "Q000453": "epidemiology", "Q000139": "chemically induced",
                       "Q000150": "complications", "Q000401": "mortality"}


def _text_rule(span: Span | None) -> str:
    """Matches in the abstract carry their span; title matches cannot (spans index the abstract)."""
    return "rule:mesh-text" if span is not None else "rule:mesh-title"


def _heading_ui(h: MeshHeading, mesh: MeshTable) -> str | None:
    """The descriptor's UI; old records name the descriptor without one."""
    return h.descriptor_ui or mesh.lookup(h.descriptor_name)


_CLASS_TREES = ("D27.", "D12.776.828", "E02.183.750", "E02.319")


def _is_class(ui: str, mesh: MeshTable) -> bool:
    """A pharmacological-action class or a protocol heading rather than an agent."""
    trees = mesh.trees(ui)
    return bool(trees) and any(t.startswith(_CLASS_TREES) for t in trees)


def _qualifies(q: MeshQualifier, wanted: dict[str, str]) -> bool:
    return q.ui in wanted if q.ui else q.name.lower() in wanted.values()

THERAPEUTIC_USE, ADMINISTRATION = "Q000627", "Q000008"
CONDITION_TREES = ("C", "F03")
INTERVENTION_TREES = ("D", "E02", "E04", "E07")
PLACEBO = "D010919"

_PEOPLE = (
    r"(?:patients|participants|subjects|cases|cycles|procedures|children|adults|adolescents|infants|neonates|"
    r"newborns|women|men|girls|boys|individuals|persons|people|volunteers|responders|"
    r"non-?responders|survivors|recipients|mothers|gravidas|pregnancies|eyes|controls|smokers|users|"
    r"patient|participant|subject|case|child|adult|infant|woman|man|individual|person|eye)"
)
# up to three words between a count and its people ("19 evaluable adult patients"), never a unit
# or a preposition: "75 months for the patients" is a duration, not 75 patients
_ADJ = (
    r"(?:(?!(?:months?|weeks?|days?|years?|hours?|minutes?|mg|g|kg|ml|gy|cycles?|courses?|doses?|"
    r"for|with|in|of|to|from|at|by|on|and|or|per|than|vs|versus)\b)[A-Za-z][\w'-]*\s+){0,3}?"
)
_PCT = rf"\(\s*(?P<pct>{num.NUM})\s*%\s*\)"
_OF = rf"(?:(?:of|out of)\s+(?:the\s+)?(?P<of>{num.INTEGER}|these|them|those|whom)\s+)"
# "Nineteen patients (70%)", "six of these patients", "12/40 (30%) patients", "12 (30%) patients"
_MENTION = re.compile(
    # a count starts with a digit or a number word's first letter (case-insensitively: "ſ" is an
    # "s" to re.I); the look-ahead spares the scan the long alternation at every other character
    r"(?=[\dzotfsenZOTFSENſ])"
    rf"(?<![\w.,/])(?P<count>{num.INTEGER})"
    rf"(?:\s*/\s*(?P<den>\d+)(?![\d.]|\s*%))?"
    rf"(?:\s*{_PCT})?"
    rf"\s*(?:{_OF})?"
    rf"(?:{_ADJ}(?P<noun>{_PEOPLE})\b)?"
    rf"(?(pct)|(?:\s*{_PCT.replace('pct', 'pct2')})?)",
)
_OUT_OF = re.compile(rf"\s*out\s+of\s+(?:the\s+)?(?P<n>{num.INTEGER})(?:\s+{_PEOPLE})?\b", re.I)
_SUBGROUP_BEFORE = re.compile(
    r"\b(?:including|includ(?:es|ed)|of whom|among (?:them|whom|these)|of these|"
    r"of them|in whom)\s*$",
    re.I,
)
_NOT_OUTCOME = re.compile(
    r"^\s*(?:underwent randomi[sz]ation|(?:were|was|had been)?\s*(?:included|enrolled|randomi[sz]ed|recruited|assigned|allocated|"
    r"assessable|evaluable|accrued|registered|entered|available|"
    r"analy[sz]ed|screened|eligible|identified|evaluated|studied|examined|reviewed|followed|"
    r"aged|years?|months?|weeks?|days?|mg|kg|ml|g))\b",
    re.I,
)
_PASSIVE_BEFORE = re.compile(
    r"(?P<what>[A-Za-z][^,;:]*?)\s+(?:was|were|had)?\s*(?:developed|occurred|observed|seen|noted|"
    r"reported|found|achieved|obtained|documented|recorded|detected|present|identified|"
    r"developed)\s+(?:in|among|for)\s*$",
    re.I,
)
_LEAD_VERB = re.compile(
    r"^(?:were|was|had|have|has|showed|show|exhibited|achieved|experienced|presented(?: with)?|"
    r"reported|obtained|attained|reached|displayed|developed|suffered(?: from)?|underwent|"
    r"required|needed|received|remained|became|had|with)\s+(?:an?\s+|the\s+)?",
    re.I,
)
_QUALIFIER = re.compile(r"(?:receiving|treated with|given|taking|on|in the|allocated|assigned|randomi[sz]ed to)\b", re.I)
_BARE_AFTER = re.compile(
    r"\s*(?:had|developed|experienced|showed|exhibited|achieved|attained|relapsed|died|received|"
    r"required|underwent|presented|suffered|progressed|recovered|responded)\b",
    re.I,
)
_VERB_NOUN = {
    "relapsed": "relapse",
    "died": "death",
    "responded": "response",
    "recovered": "recovery",
    "improved": "improvement",
    "recurred": "recurrence",
    "survived": "survival",
    "progressed": "progression",
    "healed": "healing",
}
_CLAUSE_END = re.compile(
    r",|;|:|\s+(?:compared|versus|vs\.?|while|whereas|but|including|who|which)\b|"
    r"\s+and\s+(?=\S)|\s*\((?![a-z])",
    re.I,
)
_TRAILING = re.compile(
    r"(?:[\s,;]+(?:and|or|but|while|whereas|including|in|of|with))+[\s,;]*$|[\s,;.]+$", re.I
)
_KIND = (
    (
        re.compile(
            # a grade is a harm's unless the words are about survival: "grade 3-4 ECE … a
            # shorter OS" grades a tumour feature (PMID 30288496)
            r"side[- ]effects?|adverse|toxicit|complication|intoleran|"
            r"grade\s*[1-5IV](?![^.;]*\b(?:OS|DFS|PFS|EFS|RFS|survival)\b)|reaction|hypersensitiv",
            re.I,
        ),
        "adverse event",
    ),
    (re.compile(r"relaps|recurr|flare", re.I), "relapse"),
    (re.compile(r"\bdied|death|mortality|fatal", re.I), "mortality"),
    (re.compile(r"(?i:surviv)|\b(?:OS|DFS|PFS|EFS|RFS)\b"), "survival"),
    (
        re.compile(r"respon|remission|improv|resol|clear|success|cure|heal|benefit|stable disease", re.I),
        "response",
    ),
    (re.compile(r"progress", re.I), "progression"),
)
_COURSES = re.compile(
    r"\bnumber of (?:[\w-]+\s+){0,3}?(?P<what>courses|cycles|infusions|sessions|doses|injections|"
    r"treatments|administrations)\b",
    re.I,
)
_MEAN = re.compile(
    rf"\bmean\b[^.;]{{0,40}}?\b(?:was|were|of|=|:)?\s*(?P<v>{num.NUM})(?!\s*%)", re.I
)
_MEDIAN = re.compile(
    rf"\bmedian\b[^.;]{{0,40}}?\b(?:was|were|of|=|:)?\s*(?P<v>{num.NUM})(?!\s*%)", re.I
)
_THERAPY_CUE = re.compile(
    r"\b(?:treat|therap|receiv|administ|given|giving|randomi[sz]|versus|vs\b|compar|dose|dosing|"
    r"mg\b|infusion|course|regimen|use of|using|efficacy|effect of|supplement|vaccin|injection|"
    r"underw|perform|procedure|surg|operat|implant|graft|irradiat|radiotherap|chemotherap|placebo)",
    re.I,
)
_COMPARATOR_BEFORE = re.compile(
    r"\b(?:versus|vs\.?|compared (?:with|to)|or|against|than)\s+(?:the\s+)?$", re.I
)


@dataclass
class _Found:
    """An outcome under construction (mutable while denominators are worked out)."""

    text: str
    span: Span
    rule: str
    sentence: int
    count: int | None = None
    denominator: int | None = None
    basis: str | None = None
    percentage: Decimal | None = None
    subgroup: str | None = None  # "previous" for "of these", "including" for "including two …"
    main: bool = True
    bare: bool = False  # "six patients developed …" / "… developed in six patients": no qualifier
    stats: dict[str, object] = field(default_factory=dict)
    conflict: str | None = None
    arm: int | None = None
    paired: bool = False  # one side of values given arm by arm ("36.3 vs 22.2%")
    lead: str | None = None  # the sentence's opening phrase ("For patients receiving X,")


# --- population ------------------------------------------------------------------------------


def sample_size(sentences: list[Sentence]) -> tuple[int, Span] | None:
    """The study's overall N: the integer the learned chooser (:mod:`kg.extract.sample`) scores
    highest, when it is sure enough; never a count of cycles, a duration or one arm's size."""
    found = sample.choose(sentences)
    return (found[0], found[1]) if found else None


def conditions(
    article: Article,
    sentences: list[Sentence],
    abbreviations: list[Abbreviation],
    mesh: MeshTable,
    *,
    participants: Sequence[Span] = (),
) -> tuple[Condition, ...]:
    """The study's conditions: from indexing (qualifier drug therapy/therapy) confirmed by MeSH
    disease terms of the title and objective/methods; without indexing, the disease headings
    the learned indexer gives the text (:mod:`kg.extract.indexing`), terms inside the tagged
    ``participants`` spans first."""
    if not article.mesh_headings:
        return _text_conditions(article, sentences, abbreviations, mesh, participants)
    by_ui: dict[str, Condition] = {}
    major: set[str] = set()
    for h in article.mesh_headings:
        ui = _heading_ui(h, mesh)
        if (ui and any(_qualifies(q, _CONDITION_QUALIFIERS) for q in h.qualifiers)
                and mesh.in_categories(ui, CONDITION_TREES)):
            by_ui[ui] = Condition(text=h.descriptor_name, mesh=ui, found_by=("nlm:mesh-qualifier",))
            if h.is_major:
                major.add(ui)
    for ui, text, span in _text_terms(
        article, sentences, abbreviations, mesh, CONDITION_TREES, roles=(OBJECTIVE, METHODS)
    ):
        old = by_ui.get(ui)
        if old is None:
            if article.mesh_headings and not any(
                _heading_ui(h, mesh) == ui and not any(_qualifies(q, _OUTCOME_QUALIFIERS) for q in h.qualifiers)
                for h in article.mesh_headings
            ):
                # indexed records: trust text terms only when NLM indexed them too, and not as
                # something the study found (etiology, complications…: an outcome, not the condition)
                continue
            by_ui[ui] = Condition(text=text, mesh=ui, found_by=(_text_rule(span),), span=span)
        elif _text_rule(span) not in old.found_by:
            by_ui[ui] = replace(
                old, text=text, found_by=(*old.found_by, _text_rule(span)), span=old.span or span
            )
    named = {ui for ui, c in by_ui.items() if set(c.found_by) & {"rule:mesh-text", "rule:mesh-title"}}
    if named:
        # NLM lists every infection it indexed under "drug therapy"; the ones the text names
        # (and the major topics) are the study's conditions
        by_ui = {ui: c for ui, c in by_ui.items() if ui in named or ui in major}
    return tuple(by_ui.values())


def _text_conditions(
    article: Article,
    sentences: list[Sentence],
    abbreviations: list[Abbreviation],
    mesh: MeshTable,
    participants: Sequence[Span],
) -> tuple[Condition, ...]:
    """Conditions from the text alone: the disease headings the learned indexer
    (:mod:`kg.extract.indexing`) gives the title and abstract. A heading the text names carries
    the span of its words (``rule:mesh-text``/``rule:mesh-title``); one it does not name (NLM's
    heading for the terms and words of such abstracts) says the model found it, with the span of
    the term that proposed it when there is one."""
    observed = indexing.observe(
        title=article.title,
        sentences=sentences,
        abbreviations=abbreviations,
        mesh=mesh,
        participants=participants,
    )
    chosen = indexing.index(observed, mesh=mesh)
    if participants:  # terms inside the tagged participants phrase first
        chosen.sort(key=lambda found: not (
            found.mention is not None and _inside(found.mention.first.span, participants)
        ))
    found_by = indexing.load().found_by
    out = []
    for found in chosen:
        c = found.mention
        if found.named and c is not None:
            out.append(Condition(text=c.first.text, mesh=found.ui, found_by=(_text_rule(c.first.span),),
                                 span=c.first.span))
        else:
            out.append(Condition(text=mesh.label(found.ui) or found.ui, mesh=found.ui,
                                 found_by=(found_by,), span=c.first.span if c else None))
    return tuple(out)


def population(
    article: Article, sentences: list[Sentence], abbreviations: list[Abbreviation], mesh: MeshTable
) -> Population:
    chosen = sample.choose(sentences)
    found = (chosen[0], chosen[1]) if chosen else None
    tags = {h.descriptor_ui: h.descriptor_name for h in article.mesh_headings if h.descriptor_ui}
    sex = tuple(s for ui, s in (("D005260", "female"), ("D008297", "male")) if ui in tags)
    ages = tuple(name for ui, name in tags.items() if ui in _AGE_TAGS)
    humans = True if "D006801" in tags else (False if "D000818" in tags else None)
    inclusion = None
    if found is not None:
        s = next(x for x in sentences if x.start <= found[1].start < x.span.end)
        rest = s.quote[found[1].end - s.start :]
        m = re.match(
            r"\s*(?:\([^)]*\)\s*)?(?:,\s*)?((?:who|with|after|that|aged|undergoing|receiving|"
            r"treated|diagnosed|admitted|hospitali[sz]ed|presenting)\b.*?)[.;]?$",
            rest,
        )
        if m and len(m.group(1)) > 8:
            start = found[1].end + m.start(1)
            inclusion = Span(
                start=start, end=start + len(m.group(1)), quote=m.group(1), section=s.span.section
            )
    return Population(
        conditions=conditions(article, sentences, abbreviations, mesh),
        sample_size=found[0] if found else None,
        sample_size_span=found[1] if found else None,
        sample_size_kind=chosen[2] if chosen else None,
        sex=sex,
        age_groups=ages,
        humans=humans,
        inclusion=inclusion,
    )


_AGE_TAGS = frozenset(
    {
        "D007231",
        "D007223",
        "D002675",
        "D002648",
        "D000293",
        "D055815",
        "D000328",
        "D008875",
        "D000368",
        "D000369",
    }
)


# --- interventions ---------------------------------------------------------------------------


def interventions(
    article: Article,
    sentences: list[Sentence],
    abbreviations: list[Abbreviation],
    mesh: MeshTable,
    *,
    interventions_spans: Sequence[Span] = (),
) -> tuple[Intervention, ...]:
    """Arms: from indexing (therapeutic use, administration, adverse effects) confirmed by the
    text; without indexing, the agents and procedures the title and objective/methods say were
    given, grounded as NLM indexes them (:mod:`kg.extract.grounding`; terms inside the tagged
    ``interventions_spans`` count as given). The placebo is a comparator."""
    by_ui: dict[str, Intervention] = {}
    for h in article.mesh_headings:
        ui = _heading_ui(h, mesh)
        if ui and (
            any(_qualifies(q, _INTERVENTION_QUALIFIERS) for q in h.qualifiers)
            # a drug or procedure indexed for its adverse effects is what the study exposed people to
            or (any(_qualifies(q, _HARMS) for q in h.qualifiers) and mesh.in_categories(ui, INTERVENTION_TREES))
        ):
            by_ui[ui] = Intervention(text=h.descriptor_name, mesh=ui, found_by=("nlm:mesh-qualifier",))
    harmed = {
        ui for h in article.mesh_headings
        if (ui := _heading_ui(h, mesh)) and any(_qualifies(q, _HARMS) for q in h.qualifiers)
    }
    by_ui = {ui: replace(iv, harms=True) if ui in harmed else iv for ui, iv in by_ui.items()}
    specific = [ui for ui in by_ui if not _is_class(ui, mesh)]
    if specific:
        # "Bronchodilator Agents", "Recombinant Proteins": classes NLM adds next to the agents
        by_ui = {ui: iv for ui, iv in by_ui.items() if ui in specific}
    for ui, text, span in _intervention_terms(
        article, sentences, abbreviations, mesh, interventions_spans
    ):
        if (
            article.mesh_headings
            and ui not in by_ui
            and ui != PLACEBO  # NLM rarely indexes the placebo arm; the text names it plainly
            and not any(_heading_ui(h, mesh) == ui for h in article.mesh_headings)
        ):
            continue
        old = by_ui.get(ui)
        short = _abbreviation_for(text, abbreviations)
        role = (
            "comparator"
            if ui == PLACEBO
            or (
                span is not None
                and _COMPARATOR_BEFORE.search(
                    _abstract(article)[max(0, span.start - 20) : span.start]
                )
            )
            else "intervention"
        )
        if old is None:
            by_ui[ui] = Intervention(
                text=text,
                mesh=ui,
                found_by=(_text_rule(span),),
                span=span,
                abbreviation=short,
                role=role,
            )
        elif _text_rule(span) not in old.found_by:
            by_ui[ui] = replace(
                old,
                text=text,
                found_by=(*old.found_by, _text_rule(span)),
                span=old.span or span,
                abbreviation=old.abbreviation or short,
                role=role if old.role == "intervention" else old.role,
            )
    if PLACEBO in by_ui:
        by_ui[PLACEBO] = replace(by_ui[PLACEBO], role="comparator")
    found = list(by_ui.values())
    return tuple(_with_courses(found, sentences))


def _intervention_terms(
    article: Article,
    sentences: list[Sentence],
    abbreviations: list[Abbreviation],
    mesh: MeshTable,
    spans: Sequence[Span],
) -> list[tuple[str, str, Span | None]]:
    """(UI, words, span) of the agents and procedures given: confirmed later by indexing when
    the record has it, else chosen by the grounding rules."""
    if article.mesh_headings:
        return _text_terms(article, sentences, abbreviations, mesh, INTERVENTION_TREES,
                           roles=(OBJECTIVE, METHODS), cue=_THERAPY_CUE)
    found = mentions(title=article.title, sentences=sentences, abbreviations=abbreviations,
                     mesh=mesh, trees=INTERVENTION_TREES, participants=spans, given=GIVEN)
    chosen = grounded(candidates(found, mesh=mesh, kind=INTERVENTION), kind=INTERVENTION)
    if spans:  # terms inside the tagged intervention phrases first
        chosen.sort(key=lambda pair: not _inside(pair[1].first.span, spans))
    long_forms = {a.short: a.long for a in abbreviations}
    return [(ui, long_forms.get(c.first.text, c.first.text), c.first.span) for ui, c in chosen]


def _inside(span: Span | None, spans: Sequence[Span]) -> bool:
    return span is not None and any(s.start <= span.start and span.end <= s.end for s in spans)


def _with_courses(found: list[Intervention], sentences: list[Sentence]) -> list[Intervention]:
    """ "The mean number of IVIg courses was 4.8 (range 1-15)" → courses of the named agent."""
    for s in sentences:
        m = _courses(s.quote)
        if not m:
            continue
        stat = _MEAN.search(s.quote, m.start() - 10 if m.start() >= 10 else 0)
        median = _MEDIAN.search(s.quote)
        rng = num.value_range(s.quote)
        target = _mentioned(found, s.quote) if len(found) != 1 else 0
        if target is None or not (stat or median):
            continue
        summary = Summary(
            mean=num.to_decimal(stat.group("v")) if stat and "mean" in s.quote.lower() else None,
            median=num.to_decimal(median.group("v")) if median else None,
            minimum=rng[0] if rng else None,
            maximum=rng[1] if rng else None,
            unit=m.group("what").lower(),
            span=s.span,
        )
        found[target] = replace(found[target], courses=summary)
    return found


def _courses(text: str) -> re.Match[str] | None:
    """``_COURSES`` in ``text``: ASCII text without "number of" holds none (outside ASCII, re.I
    matches more than lower() does: search then)."""
    if text.isascii() and "number of" not in text.lower():
        return None
    return _COURSES.search(text)


def _mentioned(found: list[Intervention], text: str) -> int | None:
    low = text.lower()
    hits = [
        i
        for i, iv in enumerate(found)
        if iv.text.lower() in low
        or (iv.abbreviation and word_spans(iv.abbreviation, text))
    ]
    return hits[0] if len(hits) == 1 else None


def _abbreviation_for(text: str, abbreviations: list[Abbreviation]) -> str | None:
    for a in abbreviations:
        if a.long.lower() == text.lower() or a.short == text:
            return a.short
    return None


# --- outcomes ----------------------------------------------------------------------------------


def outcomes(
    article: Article,
    sentences: list[Sentence],
    *,
    sample: int | None,
    arms: tuple[Intervention, ...],
    single_arm: bool,
    abbreviations: list[Abbreviation],
    mesh: MeshTable,
) -> tuple[Outcome, ...]:
    found: list[_Found] = []
    for i, s in enumerate(sentences):
        if s.role != RESULTS or _courses(s.quote):
            continue
        counted = _sentence_outcomes(s, i, arms)
        found.extend(counted)
        found.extend(_stat_outcomes(s, i, arms, counted))
    # what the study measured, for _process_rate (only asked when something was found)
    about = " ".join(
        [article.title or ""] + [s.quote for s in sentences if s.role != RESULTS and _MEASURED.search(s.quote)]
    ) if found else ""
    found = [
        f for f in found
        if not _before_treatment(f, sentences[f.sentence]) and not _process_rate(f, sentences[f.sentence], about)
    ]
    _denominators(found, sample=sample, single_arm=single_arm)
    comparative = _comparative(article, sentences, arms)
    if comparative:
        # "24 of 89 patients …" where 89 = 41 + 48, the arms' denominators: a pooled count
        dens = sorted({f.denominator for f in found if f.denominator and f.basis == "stated"})
        pooled = {a + b for i, a in enumerate(dens) for b in dens[i + 1 :]}
        # "10 (8%) of the 120 patients …" where 120 were enrolled or analysed, or more than any arm
        # of the study can hold: no arm's count
        everyone = _populations(sentences)
        found = [
            f for f in found
            if _tied(f, arms, sample)
            and not (f.count is not None and not f.paired and f.denominator in pooled)
            and not (f.count is not None and not f.paired and f.arm is None and _arm(f.span.quote, arms) is None
                     and (f.denominator in everyone or (sample and (f.denominator or 0) > 0.7 * sample)))
        ]
    out = []
    for f in found:
        words = clean_label(f.text)
        if words is None:
            continue  # the clause does not name what the number is of: kg does not either
        f.text = words
        stats = f.stats
        kind = next((k for p, k in _KIND if p.search(f.text)), "other")
        if kind == "other" and f.rule == "rule:count-clause" and not _EVENT.search(f.span.quote):
            continue
        # the learned gate turns down a count or percentage that is no result value
        count, pct, judged = valuegate.gate(
            f.span, sentences, f.sentence, count=f.count, percentage=f.percentage, arms=arms, comparative=comparative
        )
        if judged and count is None and pct is None and not stats:
            continue  # no number of it is a result value: no outcome either
        den = f.denominator if count is not None and (pct is not None or f.basis != "percentage") else None
        ui = None
        for match in mesh.find(expand_abbreviations(f.text, abbreviations), categories=CONDITION_TREES):
            ui = match.ui
            break
        out.append(
            Outcome(
                text=f.text,
                kind=kind,
                span=f.span,
                found_by=(f.rule, valuegate.found_by()) if judged and (count, pct) != (None, None) else (f.rule,),
                mesh=ui,
                # arms are a comparison's: where the study compares none, several "interventions"
                # are drugs of one regimen or markers ("ER/PR-negative tumours" is no arm of the
                # androgen receptor, 25743329), and a number tied to one by its words is not its arm's
                arm=f.arm if comparative or len(arms) <= 1 else None,
                measurement=Measurement(
                    count=count,
                    denominator=den,
                    denominator_basis=f.basis if den else None,
                    percentage=pct,
                    conflict=f.conflict if (count, pct) == (f.count, f.percentage) else None,
                    grade=stats.get("grade") if kind == "adverse event" else None,  # type: ignore[arg-type]
                    **{k: v for k, v in stats.items() if k != "grade"},  # type: ignore[arg-type]
                ),
            )
        )
    return tuple(out)


def _populations(sentences: list[Sentence]) -> set[int]:
    """Every number of people the abstract says were enrolled, randomized, included or analysed."""
    out = set()
    for s in sentences:
        for m in _MENTION.finditer(s.quote):
            if not m.group("noun") or m.group("den") or m.group("of"):
                continue
            after = s.quote[m.end() : m.end() + 40]
            if _NOT_OUTCOME.match(after) or _POPULATION.search(_clause(s.quote, m.start(), m.end())):
                n = num.to_int(m.group("count"))
                if n is not None:
                    out.add(n)
    return out


def _sentence_outcomes(s: Sentence, index: int, arms: tuple[Intervention, ...]) -> list[_Found]:
    text = s.quote
    mentions = [m for m in _MENTION.finditer(text) if _is_count_mention(m, text)]
    found: list[_Found] = []
    for k, m in enumerate(mentions):
        region_end = mentions[k + 1].start() if k + 1 < len(mentions) else len(text)
        after = text[m.end() : region_end]
        before_start = mentions[k - 1].end() if k else 0
        before = text[before_start : m.start()]
        if _NOT_OUTCOME.match(after) or _POPULATION.search(_clause(text, m.start(), m.end())):
            continue
        if m.group("noun") and not (m.group("of") or m.group("den") or m.group("pct") or m.group("pct2")) and _COHORT_AFTER.match(after):
            continue  # "100 patients diagnosed with acute ischemic stroke": who was studied
        if _GROUP_BEFORE.search(text, max(0, m.start() - 30), m.start()) and not m.group("den") and not m.group("of"):
            continue  # "of the 23 patients given amiloride", "in these 39 patients": the group, not a count
        by_arm = _BY_ARM.search(text, m.end(), region_end)
        if by_arm or re.match(r"\s*(?:\([^)]*\)\s*)?" + _BREAKDOWN, text[m.end() :]):
            # "Fourteen patients developed spinal osteoporosis (three of 41 in the clodronate
            # group, and 11 of 48 in the control group)": the arms' counts are the values
            label, lab_start, _ = _label(text, m, after, before, before_start)
            if by_arm and label is not None:
                label = label.split("(")[0].strip()
                found.extend(_arm_counts(s, index, label, min(m.start(), lab_start), by_arm.start(), arms))
            continue
        # "Two patients out of five had dose limiting toxicities": the five is the denominator
        out_of = _OUT_OF.match(after) if m.group("noun") and not (m.group("den") or m.group("of")) else None
        if out_of and _NOT_OUTCOME.match(after, out_of.end()):
            continue  # "12 patients out of 40 were randomized"
        label, lab_start, lab_end = _label(text, m, after, before, before_start, skip=out_of.end() if out_of else 0)
        if label is None:
            if found and found[-1].sentence == index and m.group("den"):
                label, lab_start, lab_end = found[-1].text, found[-1].span.start - s.start, 0
            else:
                continue
        count = num.to_int(m.group("count"))
        if count is None:
            continue
        pct_raw = m.group("pct") or m.group("pct2")
        f = _Found(
            text=label,
            rule="rule:count-clause",
            sentence=index,
            count=count,
            percentage=num.to_decimal(pct_raw) if pct_raw else None,
            span=_sub(s, min(m.start(), lab_start), max(m.end(), lab_end, m.end())),
        )
        if m.group("den"):
            f.denominator, f.basis = int(m.group("den")), "stated"
            if count > f.denominator:
                continue  # "43/41 (surgical/endovascular) patients": two arms' counts, not a share
        if out_of:
            den = num.to_int(out_of.group("n"))
            if den is None or count > den:
                continue
            f.denominator, f.basis = den, "stated"
        of = m.group("of")
        if of:
            if of.lower() in ("these", "them", "those", "whom"):
                f.subgroup, f.main = "previous", False
            else:
                den = num.to_int(re.sub(r"^the\s+", "", of))
                if den is not None:
                    f.denominator, f.basis = den, "stated"
        if _SUBGROUP_BEFORE.search(before):
            f.main = False
            f.subgroup = f.subgroup or (
                "previous" if re.search(r"of (?:these|them|whom)|among", before) else "including"
            )
        f.bare = bool(m.group("noun")) and bool(
            _BARE_AFTER.match(after) or (not after.strip(" .") and _PASSIVE_BEFORE.search(before))
        )
        region = text[m.start() : region_end]
        f.stats = _stats(region)
        f.arm = _arm(region, arms) if len(arms) > 1 else None
        found.append(f)
    return found


_ARM_PART = re.compile(
    rf"(?P<k>{num.INTEGER})(?:\s*(?:of|/)\s*(?P<n>\d+))?(?:\s*[\[(]\s*(?P<pct>{num.NUM})\s*%\s*[\])])?"
    r"\s+(?:patients?\s+)?(?:in|on|with|for)\s+(?:the\s+)?(?P<arm>[\w/+-]+(?:\s+[\w/+-]+)?)[\s-]+(?:group|arm)\b",
    re.I,
)


def _arm_counts(
    s: Sentence, index: int, label: str, start: int, paren: int, arms: tuple[Intervention, ...]
) -> list[_Found]:
    """The arms' counts in the parenthesis at ``paren``, each with its arm where one is named;
    nothing unless it gives two arms or more."""
    text = s.quote
    close = text.find(")", paren)
    inner_end = close if close > 0 else len(text)
    while close > 0 and text.count("(", paren + 1, close) > text.count(")", paren + 1, close):
        close = text.find(")", close + 1)  # "(10 in the TM group [14.7%] …)" and nested brackets
        inner_end = close if close > 0 else len(text)
    parts = list(_ARM_PART.finditer(text, paren + 1, inner_end))
    out = []
    for part in parts if len(parts) >= 2 else []:
        count = num.to_int(part.group("k"))
        if count is None:
            return []
        f = _Found(
            text=label, rule="rule:count-clause", sentence=index, count=count,
            percentage=num.to_decimal(part.group("pct")) if part.group("pct") else None,
            span=_sub(s, start, part.end()), main=False, paired=True,
        )
        if part.group("n"):
            f.denominator, f.basis = int(part.group("n")), "stated"
        f.arm = _arm(part.group("arm"), arms) if arms else None
        out.append(f)
    return out


_STAT_RULES = {"percentage": "rule:stat-pair", "mean": "rule:mean-sd", "median": "rule:median",
               "time": "rule:stat-pair"}


def _stat_outcomes(
    s: Sentence, index: int, arms: tuple[Intervention, ...], counted: list[_Found]
) -> list[_Found]:
    """Outcomes given as statistics (percentages side by side, mean ± SD, medians), outside the
    stretches the count clauses already read."""
    taken = [(f.span.start - s.start, f.span.end - s.start + 40) for f in counted]
    out = []
    findings = comparisons.find(s.quote)
    # the two sides of a pair are shares or not together: "by a maximum of 53% with propofol and 40%"
    not_shares = {
        (f.start, f.end) for f in findings
        if f.side and "percentage" in f.values
        and not _proportion(f.label, s.quote, f.start, f.end, f.values["percentage"])
    }
    for finding in findings:
        if any(finding.start < e and finding.end > b for b, e in taken):
            continue
        digit = re.search(r"\d", s.quote[finding.start : finding.end])
        lead_in = s.quote[finding.start : finding.start + (digit.start() if digit else 0)]
        if (
            _AGE.search(finding.label) or _BASELINE.search(finding.label) or _WHO_THEY_WERE.search(lead_in)
            or _NOT_THIS_TRIAL.search(s.quote[: finding.end])
        ):
            continue  # "mean age 54 ± 11", "more likely to be childless": who they were
        values = dict(finding.values)
        if "time_unit" in values and "median" in values:
            values["time"], values["time_statistic"] = values.pop("median"), "median"
        pct = values.pop("percentage", None)
        if pct is not None and (
            (finding.start, finding.end) in not_shares
            or not _proportion(finding.label, s.quote, finding.start, finding.end, pct)
        ):
            pct = None
            if not values:
                continue
        rule = next((r for k, r in _STAT_RULES.items() if k in finding.values), "rule:stat-pair")
        f = _Found(
            text=finding.label, rule=rule if finding.side or "p_value" not in values or pct else "rule:comparison",
            sentence=index, span=_sub(s, finding.start, finding.end),
            percentage=pct if isinstance(pct, Decimal) else None, main=False,
        )
        f.stats = values
        f.paired = finding.side in ("a", "b") and any(
            o is not finding and o.start == finding.start and o.end == finding.end and o.side
            for o in findings
        )
        if finding.arm_words and len(arms) > 1:
            f.arm = _arm(finding.arm_words, arms)
        if f.arm is None and f.paired and len(arms) > 1:
            f.arm = _side_arm(s.quote[finding.start : finding.end], finding.side, arms)
        lead = _LEAD.match(s.quote)
        f.lead = lead.group(0) if lead and lead.end() <= finding.start + 1 else None
        out.append(f)
    return out


# when the values are who the patients were before anything was given
_BEFORE_TREATMENT = re.compile(
    r"\b(?:at|before|prior to)\s+(?:the\s+)?(?:baseline|(?:study\s+)?entry|enrol?ment|inclusion|"
    r"randomi[sz]ation|(?:the\s+)?first (?:vaccination|dose|injection|treatment|visit)|treatment|therapy)\b|"
    r"\bpre-?(?:intervention|randomi[sz]ation)\b|\bbaseline characteristics\b|\b(?:well[- ])?balanced\b",
    re.I,
)
# words after such a cue that move the sentence on to what happened later
_LATER = re.compile(
    r"\b(?:after|post-?\w*|following|later|whereas|while|but|at (?:the )?(?:end|follow-?up|week|month|year|day|"
    r"\d))\b|;",
    re.I,
)


def _before_treatment(f: _Found, s: Sentence) -> bool:
    """Values the sentence places before treatment ("At baseline, 30% of patients …", "In
    pre-intervention phase the compliance was 49% vs. 47%"): who they were, not an outcome."""
    start = f.span.start - s.start
    digit = re.search(r"\d", f.span.quote)
    value = start + (digit.start() if digit else 0)
    cues = list(_BEFORE_TREATMENT.finditer(s.quote, 0, value))
    return bool(cues) and not _LATER.search(s.quote, cues[-1].end(), value)


# a sentence that says what the study measured or aimed at
_MEASURED = re.compile(
    r"\b(?:aims?|objectives?|purpose|to (?:compare|evaluate|assess|determine|test|investigate|examine|"
    r"measure|improve|increase|promote|enhance)|(?:was|were) (?:evaluated|assessed|measured|compared|recorded|"
    r"monitored)|(?:primary|secondary) (?:end-?points?|outcomes?)|outcomes? (?:was|were|included))\b",
    re.I,
)
# how the trial ran: who kept to, finished or left it; not what the treatment did
_PROCESS_KINDS = (
    re.compile(r"\b(?:non-?)?(?:adherence|compliance)\b", re.I),
    re.compile(r"\b(?:retention|attrition) rates?\b|\battrition\b", re.I),
    # answering a questionnaire is taking part, not a response to treatment
    re.compile(
        r"\b(?:questionnaires?|surveys?)\b[^.;]{0,40}\b(?:response rate|returned|completed|answered)|"
        r"\b(?:response|return|completion) rates?\b[^.;]{0,20}\b(?:questionnaires?|surveys?)\b",
        re.I,
    ),
    re.compile(r"\b(?:crossed over|cross-?over to|switched to)\b", re.I),
    re.compile(
        r"\b(?:withdr[ae]w|withdrawn|withdrawals?|dropp?(?:ed)? out|drop-?outs?|discontinu\w*|lost to follow|"
        r"exclu(?:ded|ding|sion)|complet(?:ed|ing|ion of) (?:the |all |their )?(?:study|trial|treatment|therapy|protocol|"
        r"intervention|course|programme|program|questionnaires?|follow-?up))",
        re.I,
    ),
)
# "relapsed after study drug discontinuation": a time, not the process itself
_AS_TIME = re.compile(r"\b(?:after|following|before|upon|since|until)\s+(?:\S+\s+){0,3}$", re.I)
# a stated reason makes a stop an event ("withdrew due to gastrointestinal symptoms", "discontinued
# because of adverse events"), unless the reason is itself how the trial ran
_REASON = re.compile(
    r"\b(?:because of|due to|owing to|caused by|as a result of|leading to|for)\s+(?!(?:the\s+|other\s+|"
    r"personal\s+|mainly\s+)?(?:personal|consent|protocol|reloc|logistic|scheduling|surgical procedures?|"
    r"other reasons|unknown|administrative|reasons|non-?complian|the study|follow))|"
    r"\b(?:adverse|AEs?|toxicit|side[- ]effects?|intoleran|complications?)",
    re.I,
)


def _process_rate(f: _Found, s: Sentence, about: str) -> bool:
    """A rate of how the trial ran (adherence, completion, withdrawal, discontinuation, loss to
    follow-up) is no outcome, unless a harm or another event is the reason given, or the title
    or objective names it as what the trial measured."""
    words = f.span.quote
    rel = f.span.start - s.start
    for kind in _PROCESS_KINDS:
        hits = [h for h in kind.finditer(words) if not _AS_TIME.search(words[: h.start()])]
        if not hits:
            continue
        if kind.search(about):
            return False
        # the clause: back to a ";" or a contrast, on to the end of the sentence or a ";"
        head = max(s.quote.rfind(";", 0, rel), *(m.end() for m in re.finditer(r"\b(?:but|whereas|while)\b", s.quote[:rel])), 0)
        stop = s.quote.find(";", rel + len(words))
        clause = s.quote[head : stop if stop > 0 else len(s.quote)]
        return not _REASON.search(clause)
    return False


# a clause that describes who was studied, not what happened to them
_POPULATION = re.compile(
    r"\b(?:randomi[sz]|randomly|assigned|allocated|enrol|recruit|(?:were|was|been) included|"
    r"included in (?:the )?(?:[\w-]+ )?(?:study|analys[ie]s|trial)|evaluable|analy[sz]able|available for|eligible|"
    r"per arm|per group|(?:is|are|was|were|be) (?:needed|required)|will be|at baseline|selected|referred|"
    r"accru|registered|"
    r"entered|participated|screened|healthy|controls\b|were studied|body mass index|BMI\b|"
    r"consent|person-years|women-years|years? of age|aged|who chose|population\b|subgroup|subset)",
    re.I,
)
# people described by a participle with no verb of their own are the cohort, not an event
_COHORT_AFTER = re.compile(
    r"^\s*(?:\([^)]*\)\s*)?(?:diagnosed|presenting|admitted|referred|scheduled|undergoing|suffering|"
    r"hospitali[sz]ed|aged|having)\b",
    re.I,
)
# a number after a preposition and a determiner names the group that the sentence is about
_GROUP_BEFORE = re.compile(
    r"\b(?:of|in|among|for|from|to)\s+(?:the|these|those|all(?: the)?|(?:the )?remaining|each|both)\s+$", re.I
)
_BREAKDOWN = (
    r"[(\[:;,]\s*(?:\w+\s+){0,2}?(?:\d+|[A-Za-z]+)(?:\s*(?:of|/)\s*\d+)?(?:\s*\([^)]*\))?\s+"
    r"(?:in|on|with|for|of)\s+(?:the\s+)?[\w/+-]+(?:[\s-]+(?:group|arm|treated))?"
)
# "… developed spinal osteoporosis (three of 41 in the clodronate group, and 11 of 48 …)"
_BY_ARM = re.compile(
    r"\(\s*(?:\d+|[A-Za-z]+)(?:\s*(?:of|/)\s*\d+)?(?:\s*\([^)]*\))?\s+(?:in|on|with|for)\s+(?:the\s+)?"
    r"[\w/+-]+(?:\s+[\w/+-]+)?[\s-]+(?:group|arm)\b",
    re.I,
)
_CLAUSE_STOP = re.compile(r"[,;:]|\.(?!\d)")


def _clause(text: str, start: int, end: int) -> str:
    """The clause around ``text[start:end]``: from the previous , ; : to the next one."""
    head = max(text.rfind(c, 0, start) for c in ",;:")
    stop = _CLAUSE_STOP.search(text, end)
    return text[head + 1 : stop.start() if stop else len(text)]


_BASELINE = re.compile(
    r"\bbaseline\b|\b(?:more|less) likely to be\b|\bcharacteristics\b|\bwere (?:older|younger)\b", re.I
)
# the words up to the values say who the patients were ("Women with VDI were more likely to be
# black (17% v. 2%)"), not what happened to them
_WHO_THEY_WERE = re.compile(
    r"\bbaseline\b|\bcharacteristics\b|\bwere (?:older|younger)\b|\blikely to be (?:black|white|hispanic|"
    r"asian|married|single|divorced|older|younger|obese|overweight|smokers?|employed|unemployed|educated|"
    r"childless|premenopausal|postmenopausal|insured|uninsured)\b",
    re.I,
)
# values the trial planned with, not results: "assuming a 2-year DFS of 70%", "80% power to detect"
_NOT_THIS_TRIAL = re.compile(
    r"\b(?:assum(?:ed|ing|ption)|hypothesi[sz]ed|(?:statistical|\d+\s*%)\s+power|power to detect)\b",
    re.I,
)
_BOUND = re.compile(
    r"(?:more than|less than|fewer than|over|under|above|below|approximately|about|around|nearly|"
    r"almost|up to|at least|at most|roughly|>|<|≥|≤|>=|<=|~)\s*$",
    re.I,
)
# one end of a range or of a confidence interval is no one's share
_RANGE_BEFORE = re.compile(
    rf"(?:{num.NUM}\s*%?\s*(?:-|–|—|to)\s*|\bfrom\s+|\branged?\s+(?:from\s+)?|"
    r"\b(?:CI|confidence interval)\b[^()\[\];]*)$",
    re.I,
)
_RANGE_AFTER = re.compile(rf"\s*%?\s*(?:-|–|—|to)\s*{num.NUM}", re.I)
# a change of a measure or a difference between arms is no one's share either
_CHANGE_BEFORE = re.compile(
    r"\b(?:difference|reduction|increase|improvement|decrease|benefit)\s*(?:of|was|were|is|=|:|,)\s*$|"
    r"(?:\b(?:fell|fall|falls|decreas\w*|reduc\w*|increas\w*|rose|rise|rises|improv\w*|declin\w*|dropped|"
    r"lower\w*|rais\w*|chang\w*|differ\w*)\b[^.;,()]{0,40}\bby|\bby\s+(?:a\s+)?(?:maximum|mean|median|"
    r"average|total)(?:\s+of)?)\s+(?:about\s+|approximately\s+|nearly\s+|only\s+|an?\s+(?:average|additional)\s+"
    r"(?:of\s+)?)?$",
    re.I,
)
_CHANGE_AFTER = re.compile(
    r"\s*%?\s*(?:relative|absolute|reduction|increase|decrease|improvement|higher|lower|greater|fewer|"
    r"difference|benefit|gain|advantage|power|CI|confidence|(?:percentage )?points?(?! prevalence))\b",
    re.I,
)
_NOT_PROPORTION = re.compile(
    r"\b(?:change|changes|changed|reduc|decreas|increas|declin|intensity|score|index|level|"
    r"concentration|density|weight|volume|size|dose)",
    re.I,
)
# how the trial ran and what was given, not what happened to the patients
_PROCESS = re.compile(
    r"\b(?:recruit|consent|complet|follow-?up|accrual|retention|attrition|participat|"
    r"regimen|boost|followed by|received|underwent|accounted|represented|those|(?:was|were) (?:treated|managed) "
    r"(?:with|by)|"
    r"(?:chemo|radio|hormono|endocrine )therapy (?:was|were)\b)",
    re.I,
)
_OF_PEOPLE = re.compile(
    r"%\s*(?:of|in)\s+(?:the\s+|all\s+)?(?:[\w-]+\s+){0,3}?(?:patients|participants|women|men|"
    r"subjects|cases|children)\b",
    re.I,
)


_OF_REFERENCE = re.compile(
    r"\s*%?\s*of\s+(?:the\s+)?(?:controls?|baseline|predicted|normal|pre-?treatment|pre-?operative|initial|"
    r"maximum|max|reference|basal|control values?)\b",
    re.I,
)


@functools.lru_cache(maxsize=4096)
def _printed_percentage(value: str) -> re.Pattern[str]:
    """Where a percentage's digits stand, "." or "·" as the point (compiled once per value:
    abstracts share most values)."""
    printed = re.escape(value).replace(r"\.", "[.·]")
    return re.compile(rf"(?<![\d.·]){printed}(?![\d]|[.·]\d)")


def _proportion(label: str, sentence: str, start: int, end: int, pct: object) -> bool:
    """A percentage that is a share of the patients: not a bound ("in more than 10%"), not a
    change of a measure ("Ki67 decreased by 3.4%"), not how the trial ran ("recruitment rate")."""
    if isinstance(pct, Decimal) and pct > 100:
        return False  # "162% of control": no share of anyone
    region = sentence[start:end]
    for m in _printed_percentage(str(pct)).finditer(region):
        at, end = start + m.start(), start + m.end()
        if _OF_REFERENCE.match(sentence, end):
            return False  # "83% of control", "92% of predicted": a measure against a reference
        if _BOUND.search(sentence[max(0, at - 20) : at]):
            return False
        if _RANGE_BEFORE.search(sentence[max(0, at - 40) : at]) or _RANGE_AFTER.match(sentence, end):
            return False  # "in 11.7% to 14.6% of patients", "ranged from 92-97%", "95% CI, 30% to 45%"
        if _CHANGE_BEFORE.search(sentence[max(0, at - 40) : at]) or _CHANGE_AFTER.match(sentence, end):
            return False  # "a fall in IOP by a maximum of 53%", "a 24.6% relative improvement"
    if _PROCESS.search(label):
        return False
    return not (_NOT_PROPORTION.search(label) and not _OF_PEOPLE.search(region))


_GIVEN = re.compile(
    r"\b(?:underwent|received|were (?:treated|given|operated)|had surgery|switched to|crossed over)\b|"
    r"\b(?:patients|women) (?:with|on|under) [^,;()]{0,40}\b(?:treatment|therapy)\b",
    re.I,
)
_RANDOMIZED = re.compile(r"\brandomi[sz]|\brandomly\b|\bplacebo\b|\bcontrol (?:group|arm)", re.I)
_VERSUS = re.compile(r"\b(?:versus|vs\.?|compared (?:with|to)|or)\b", re.I)


def _comparative(article: Article, sentences: list[Sentence], arms: tuple[Intervention, ...]) -> bool:
    """A trial of arms against each other: a comparator arm, randomization or a control group
    anywhere in the title or abstract, or arms compared in the title or objective."""
    return (
        any(a.role == "comparator" for a in arms)
        or any(_randomized(t) for t in [article.title or ""] + [s.quote for s in sentences])
        or any(_VERSUS.search(t) and _THERAPY_CUE.search(t)
               for t in [article.title or ""] + [s.quote for s in sentences if s.role == OBJECTIVE])
    )


def _randomized(text: str) -> bool:
    """Whether ``text`` says the study was randomized or controlled (``_RANDOMIZED``)."""
    if text.isascii():  # outside ASCII, re.I matches more than lower() does: search then
        low = text.lower()
        if "random" not in low and "placebo" not in low and "control " not in low:
            return False
    return _RANDOMIZED.search(text) is not None


def _tied(f: _Found, arms: tuple[Intervention, ...], sample: int | None) -> bool:
    """In a comparative study a value is stated for an outcome only where the text ties it to
    an arm: values given side by side, an arm named in the clause, or a count of a stated
    denominator that is not the whole study ("13 (26%) of 49 patients who underwent HDC").
    A pooled count ("Four patients experienced disease recurrence") is not an arm's value."""
    if f.paired:
        return True  # values given arm by arm
    if f.rule != "rule:count-clause":
        if f.percentage is None:
            return True
        if _POOLED.search(f.text):
            return False
        if f.arm is not None or _arm(f.span.quote, arms) is not None or _GROUP.search(f.span.quote):
            return True
        # "For patients receiving TMP/SMX, the clinical cure rate was 86.4%, with 12.1% improved"
        return bool(f.lead and _GROUP.search(f.lead))
    if _POOLED.search(f.span.quote):
        return False  # "One patient from all sonelokimab-containing groups": no arm's count
    if len(arms) > 1 and _arm(f.span.quote, arms) is not None:
        # "Thirty-eight patients underwent modified radical mastectomy": an arm's treatment
        # given is how the trial ran, as for shares (_PROCESS), not what happened to them
        return not _GIVEN.search(f.span.quote)
    return f.basis == "stated" and f.denominator is not None and f.denominator != sample and not f.subgroup


_GROUP = re.compile(
    r"\b(?:receiving|treated with|given|allocated to|assigned to|randomi[sz]ed to)\s+\S+|"
    r"\b(?:in|for|of|on|with) the [\w/+-]+(?:[\s-][\w/+-]+)?[\s-](?:group|arm|cohort)s?\b|"
    r"\b(?:group|arm) [A-Z0-9]\b|[\w/+-]+-(?:treated|group|arm)\b",
)
_LEAD = re.compile(r"^(?:For|In|Among|With|On)\b[^,;]*,")
_POOLED = re.compile(
    r"\b(?:overall|global|all(?: [\w-]+)? (?:groups|arms)|both (?:arms|groups)|total|combined)\b", re.I
)


_COUNT_VERB = re.compile(
    r"\s*(?:progressed|died|relapsed|responded|recovered|improved|survived|deteriorated|recurred)\b", re.I
)


def _is_count_mention(m: re.Match[str], text: str) -> bool:
    understood = (  # "… and 14 progressed on therapy": the people are understood
        not m.group("of") and m.group("count")[0].isdigit() and _COUNT_VERB.match(text, m.end())
    )
    if m.group("noun") is None and m.group("den") is None and not understood:
        return False
    after = text[m.end() : m.end() + 12].lower()
    if _UNIT_AFTER.match(after):
        return False  # a duration or a dose: "FF/VI 100/25 mcg", "for 12 weeks"
    before = text[max(0, m.start() - 14) : m.start()].lower()
    return not _NOT_COUNT_BEFORE.search(before)


# what a count of people is never followed by: a time, a dose or a measure
_UNIT_AFTER = re.compile(
    r"\s*(?:years?|months?|weeks?|days?|hours?|minutes?|mg|mcg|µg|μg|ug|micrograms?|g|kg|ml|l|iu|"
    r"units?|mmol|mmhg|cm|mm|gy|%)(?![\w-])"
)
# a number that names a thing rather than counts people: "type 2 diabetes subjects", "Experiment 1
# showed that participants", "grade 3 patients", "aged 70 patients" (not "group": "in the control
# group 1 PR case" counts)
_NOT_COUNT_BEFORE = re.compile(
    r"(?:aged|age|\bn\s*=|grade|phase|range|ratio|than|from|to|±|\btype|stage|class|step|experiment|"
    r"study|trial|cycle|visit|\blot|level|dose|score|category|version|no\.|#)\s*$"
)


def _label(
    text: str, m: re.Match[str], after: str, before: str, before_start: int, *, skip: int = 0
) -> tuple[str | None, int, int]:
    """The outcome's words: the clause after the count ("… exhibited a major response") or,
    in the passive, the words before it ("Muscle disease developed in six patients");
    ``skip``: characters of ``after`` that are not the clause's ("out of five")."""
    stripped = after[skip:].lstrip(" ,")
    offset = m.end() + (len(after) - len(stripped))
    passive = _PASSIVE_BEFORE.search(before)  # every way through asks it: search once
    if _QUALIFIER.match(stripped) or passive:
        # "eradicated in 73 (97.3%) of the 75 evaluable patients receiving ofloxacin": the
        # words after say who, the words before say what
        p = passive
        if p:
            what = re.sub(r"^(?:the|a|an)\s+", "", p.group("what").strip(), flags=re.I)
            start = before_start + p.start("what") + p.group("what").find(what)
            return what, start, start + len(what)
    lead = _LEAD_VERB.match(stripped)
    if lead:
        stripped, offset = stripped[lead.end() :], offset + lead.end()
    end = _CLAUSE_END.search(stripped)
    if end and end.start() == 0 and stripped.lower().startswith("with"):
        end = _CLAUSE_END.search(stripped, 5)
    # keep a parenthesis that names what the clause is about ("side effects (headaches)")
    if end and stripped[end.start() :].lstrip().startswith("("):
        close = stripped.find(")", end.start())
        after_paren = _CLAUSE_END.search(stripped, close + 1) if close > 0 else None
        end = after_paren if close > 0 else end
        cut = (
            close + 1
            if close > 0 and after_paren is None
            else (end.start() if end else len(stripped))
        )
    else:
        cut = end.start() if end else len(stripped)
    label = _TRAILING.sub("", stripped[:cut].strip())
    if (
        label
        and re.search(r"[A-Za-z]{3}", label)
        and not re.match(r"^(?:in|of|and|or|at|to|\d)", label, re.I)
        and not _AGE.search(label)
    ):
        word = label.split()[0].lower()
        if len(label.split()) == 1 and word in _VERB_NOUN:
            return label, offset, offset + len(label)
        return label, offset, offset + len(label)
    p = passive
    if p:
        what = p.group("what").strip()
        what = re.sub(r"^(?:and|but|while|whereas)\s+", "", what, flags=re.I)
        start = (
            before_start + p.start("what") + (len(p.group("what")) - len(p.group("what").lstrip()))
        )
        start += len(p.group("what").strip()) - len(what)
        return what, start, start + len(what)
    return None, 0, 0


_AGE = re.compile(r"\b(?:year[- ]old|years? old|aged|age)\b", re.I)
# An outcome of kind "other" needs a verb that reports something happening to the patients;
# "78 patients had malignant fractures" describes who they were, not what happened.
_EVENT = re.compile(
    r"\b(?:develop|occur|experienc|achiev|requir|underw|reported|present(?:ed)? with|show|exhibit|"
    r"attain|reach|suffer|progress|detect|observ|diagnos|die|surviv|fail|complicat|relief|"
    r"improv|worsen|recover|respond|relaps|recurr|discontinu|withdr|convert|resolv|heal|"
    r"infect|leak|embol|fractur(?:ed)?\b(?! due)|need|return|readmi|reoperat|revis)",
    re.I,
)


# What a label's words may open with that is not the outcome: a clause's conjunction, a stray
# bracket or stop left from the number before it ("83/176) were", ". p16 positivity").
_LABEL_JUNK = re.compile(
    r"^(?:[\s)\]}.,;:\"'“”‘’]+|(?:and|but|or|whereas|while|although|though|only|also|then|that|however,?|moreover,?)\s+"
    r"|(?:the|a|an)\s+(?=\S))+",
    re.I,
)
# A label that still opens with one of these has lost its subject to another clause ("was 0.09 ±
# 0.06", "which decreased to -0.3 ± 0.8", "it occurred in 7", "for age (48 vs. 60 years)").
_NO_SUBJECT = re.compile(
    r"^(?:was|were|is|are|be|been|which|whom|whose|it|they|this|"
    r"these|those|we|during|from|with|for|to|in|of|at|by|than|as|on)\b",
    re.I,
)
_NO_DIFFERENCE_IN = re.compile(
    r"there (?:was|were) no (?:statistically )?(?:significant )?differences? in (?:the )?(?P<what>.+?)"
    r"(?:\s+(?:between|among|across)\b.*)?$",
    re.I,
)
_NOT_WORDS = frozenset({"only", "also", "then", "that", "and", "but", "while", "whereas", "however"})
_LABEL_TAIL = re.compile(r"(?:[\s,;:(\[\"“”]+|\s+-+|\s+(?:of|to|from|in|at|by|for|with|the|and|or|was|were|that|only))+$", re.I)


def clean_label(text: str) -> str | None:
    """An outcome's words without what belongs to the clauses around them, or ``None`` when
    they do not name anything ("was", ") were", "which decreased to -").

    >>> clean_label(". p16 positivity"), clean_label("but less was required with AICAR (40 +/- 8")
    ('p16 positivity', 'less was required with AICAR')
    >>> clean_label(") were"), clean_label("which improved"), clean_label("Bone nonunion")
    (None, None, 'Bone nonunion')
    >>> clean_label("There was no significant difference in the pain score between Group 1")
    'pain score'
    """
    words = _LABEL_JUNK.sub("", text.strip())
    no_difference = _NO_DIFFERENCE_IN.match(words)
    if no_difference:  # "There was no significant difference in the pain score between …"
        words = no_difference.group("what")
    if words.count("(") > words.count(")"):  # a bracket opened for the numbers: cut before it
        words = words[: words.rfind("(")]
    words = _LABEL_TAIL.sub("", words).strip()
    if sum(map(str.isalpha, words)) < 2 or _NO_SUBJECT.match(words) or words.lower() in _NOT_WORDS:
        return None
    return words


def outcome_kind(text: str) -> str:
    """The kind of an outcome from its words: "response", "adverse event", … or "other"."""
    return next((k for p, k in _KIND if p.search(text)), "other")


def outcome_label(text: str) -> str:
    """A short label for an outcome's words: "relapsed" → "relapse"."""
    t = text.strip()
    return _VERB_NOUN.get(t.lower(), t)


def _stats(region: str) -> dict[str, object]:
    stats: dict[str, object] = {}
    g = num.grade(region)
    if g is not None:
        stats["grade"] = g
    p = num.p_value(region)
    if p:
        stats["p_operator"], stats["p_value"] = p
    # a CI is kept only with the effect it follows: "70% [95% CI 50-83] … HR 0·36, 95% CI 0·17-0·75"
    eff = num.effect_with_ci(region)
    if eff:
        stats["effect_measure"], stats["effect_value"], ci = eff
        if ci:
            stats["ci_level"], lo, hi = ci
            stats["ci"] = (lo, hi)
    t = re.search(
        rf"\b(median|mean)\s+(?:time|duration|follow-?up|interval|delay)[^.;]{{0,30}}?\b({num.NUM})\s*"
        r"(months?|weeks?|days?|years?|hours?)\b",
        region,
        re.I,
    )
    if t:
        value = num.to_decimal(t.group(2))
        tv = num.time_value(f"{t.group(2)} {t.group(3)}")
        if value is not None and tv:
            stats["time"], stats["time_unit"], stats["time_statistic"] = (
                value,
                tv[1],
                t.group(1).lower(),
            )
    return stats


@functools.lru_cache(maxsize=4096)
def _name(words: str) -> re.Pattern[str]:
    """``words`` between word boundaries, in any case (an arm's name; compiled once)."""
    return re.compile(rf"\b{re.escape(words)}\b", re.I)


def _name_at(words: str, text: str) -> int | None:
    """Where ``words`` first stand between word boundaries in ``text``, in any case (an arm's
    name); in ASCII text without compiling a pattern per name (re.I folds more than ASCII)."""
    if words.isascii() and text.isascii():
        spans = word_spans(words.lower(), text.lower())
        return spans[0][0] if spans else None
    m = _name(words).search(text)
    return m.start() if m else None


def _arm(region: str, arms: tuple[Intervention, ...]) -> int | None:
    hits = []
    for i, iv in enumerate(arms):
        names = [iv.text] + ([iv.abbreviation] if iv.abbreviation else [])
        if any(_name_at(n, region) is not None for n in names if n):
            hits.append(i)
    return hits[0] if len(hits) == 1 else None


_REFERENCE_BEFORE = re.compile(r"(?:compared (?:with|to)|versus|vs\.?|than|relative to|over)\s+(?:the\s+)?$", re.I)


def _side_arm(text: str, side: str | None, arms: tuple[Intervention, ...]) -> int | None:
    """Which arm one side of a pair belongs to: "higher in the EoP arm than in the E arm (36.3 vs
    22.2%)" names two arms in the order of the values. None when the sentence names other than
    two arms, or opens with the reference ("Compared with placebo, A reduced … (10% vs 20%)")."""
    first: dict[int, int] = {}
    for i, iv in enumerate(arms):
        for n in (iv.text, iv.abbreviation):
            if n:
                at = _name_at(n, text)
                if at is not None and (i not in first or at < first[i]):
                    first[i] = at
    if len(first) != 2:
        return None
    order = sorted(first, key=lambda i: first[i])
    if _REFERENCE_BEFORE.search(text[: first[order[0]]]):
        return None
    return order[0] if side == "a" else order[1] if side == "b" else None


def _denominators(found: list[_Found], *, sample: int | None, single_arm: bool) -> None:
    """Denominators only where the text determines them; conflicts recorded, never fixed."""
    for k, f in enumerate(found):
        if f.count is None:
            continue
        if f.denominator is None and f.subgroup == "previous" and k and found[k - 1].count:
            base = found[k - 1].count
            # "30 of these patients (34%)": a percentage that does not fit says "these" is
            # another group; then the subgroup gives no denominator
            if f.percentage is None or (base and num.percentage_allows(f.count, base, f.percentage)):
                f.denominator, f.basis = base, "subgroup"
        if f.denominator is not None:
            if f.count > f.denominator:
                f.conflict = f"count {f.count} exceeds denominator {f.denominator}"
            elif f.percentage is not None and not num.percentage_allows(
                f.count, f.denominator, f.percentage
            ):
                f.conflict = (
                    f"{f.count}/{f.denominator} is not {f.percentage}%"
                    f" ({Decimal(100 * f.count) / f.denominator:.2f}%)"
                )
            continue
        if f.percentage is not None:
            limit = sample if sample else 100_000
            cands = num.denominators_for(f.count, f.percentage, limit=limit)
            if sample in cands and f.main:
                f.denominator, f.basis = sample, "percentage"
            elif len(cands) == 1:
                f.denominator, f.basis = cands[0], "percentage"

    # partition: main counts of one sentence adding up to the sample size
    if sample:
        by_sentence: dict[int, list[_Found]] = {}
        for f in found:
            if f.main and f.count is not None:
                by_sentence.setdefault(f.sentence, []).append(f)
        for group in by_sentence.values():
            if len(group) >= 2 and sum(f.count or 0 for f in group) == sample:
                for f in group:
                    if f.denominator is None and f.percentage is None:
                        f.denominator, f.basis = sample, "partition"
        # cohort: a single-arm study's counts of its patients
        if single_arm:
            for f in found:
                if (
                    f.main
                    and f.bare
                    and f.denominator is None
                    and f.percentage is None
                    and f.count
                    and f.count <= sample
                ):
                    f.denominator, f.basis = sample, "cohort"


# --- helpers -----------------------------------------------------------------------------------


def _sub(s: Sentence, start: int, end: int) -> Span:
    return Span(
        start=s.start + start, end=s.start + end, quote=s.quote[start:end], section=s.span.section
    )


def _abstract(article: Article) -> str:
    return article.abstract_text


def expand_abbreviations(text: str, abbreviations: list[Abbreviation]) -> str:
    """Replace each defined short form with its long form (for MeSH matching only)."""
    for a in abbreviations:
        if a.short in text:
            text = replace_spans(text, word_spans(a.short, text), a.long)
    return text


def _text_terms(
    article: Article,
    sentences: list[Sentence],
    abbreviations: list[Abbreviation],
    mesh: MeshTable,
    trees: tuple[str, ...],
    *,
    roles: tuple[str, ...],
    cue: re.Pattern[str] | None = None,
) -> list[tuple[str, str, Span | None]]:
    """MeSH terms of the given trees in the title and the sentences of ``roles``: (UI, words, span).

    A defined abbreviation counts as its long form ("DM" → dermatomyositis).
    """
    found: list[tuple[str, str, Span | None]] = []
    long_forms = {a.short: a for a in abbreviations}
    if article.title and (cue is None or cue.search(article.title)):
        for m in mesh.find(expand_abbreviations(article.title, abbreviations), categories=trees):
            found.append((m.ui, m.text, None))
    for s in sentences:
        if s.role not in roles or (cue is not None and not cue.search(s.quote)):
            continue
        for m in mesh.find(s.quote, categories=trees):
            found.append((m.ui, m.text, _sub(s, m.start, m.end)))
        for short, a in long_forms.items():
            for hit_start, hit_end in short_form_spans(short, s.quote) if short in s.quote else ():
                for m in mesh.find(a.long, categories=trees):
                    if m.end - m.start >= len(a.long) - 2:
                        found.append((m.ui, a.long, _sub(s, hit_start, hit_end)))
    # words as written: prefer the long form where an abbreviation defines it
    out = []
    for ui, text, span in found:
        for a in abbreviations:
            if (text.lower() in a.long.lower() or text == a.short) and mesh.lookup(a.long) == ui:
                text = a.long
        out.append((ui, text, span))
    return out


__all__ = ["conditions", "interventions", "outcome_label", "outcomes", "population", "sample_size"]

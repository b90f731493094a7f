"""MeSH terms of an abstract with where they stand, and which of them are the study's condition.

:func:`mentions` finds the descriptors (and supplementary concepts) of some trees in the title
and the sentences, each with the features the choice needs: the section role, whether the words
around it say who was studied ("patients with …", inside a tagged participants span), whether it
reads as a harm ("side effects such as nausea"). :func:`study_conditions` keeps the terms that
name what the study is about: those of the title, the objective and the participants, not every
disease the methods or results happen to name. The feature names are shared with the trainer of
:mod:`kg.extract.grounding_rules` (``kg/extract/train/grounding.py``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from kg.errors import InputError
from kg.extract.text import (
    BACKGROUND,
    CONCLUSIONS,
    METHODS,
    OBJECTIVE,
    RESULTS,
    Sentence,
    replace_spans,
    short_form_spans,
)
from kg.mesh import MeshTable
from kg.models import Abbreviation, Span

TITLE = "title"
RULES_FILE = "mesh-grounding.json"
CONDITION_TREES = ("C", "F03")
INTERVENTION_TREES = ("D", "E02", "E04", "E07")
CONDITION, INTERVENTION = "condition", "intervention"
PLACEBO = "D010919"
# a sentence that says something was given or done to the participants
GIVEN = re.compile(
    r"\b(?:treat|therap|receiv|administ|given|giving|randomi[sz]|versus|vs\b|compar|dose|dosing|"
    r"mg\b|infusion|course|regimen|use of|using|efficacy|effect of|supplement|vaccin|injection|"
    r"underw|perform|procedure|surg|operat|implant|graft|irradiat|radiotherap|chemotherap|placebo)",
    re.I,
)
# headings that say how a disease behaves, not which (Acute Disease, Recurrence…), and the
# catch-alls no study is about as such (Death, Signs and Symptoms, Syndrome…)
_ATTRIBUTES = ("C23.550.291", "C23.550.260", "C23.888.592.612.050")
_NOT_CONDITIONS = frozenset({"D003643", "D012816", "D013577", "D004194", "D020969"})
_WHO = (
    r"(?:patients?|children|adults?|adolescents|infants|neonates|newborns|women|men|girls|boys|"
    r"subjects|participants|volunteers|individuals|persons|people|cases|outpatients|inpatients|"
    r"survivors|smokers|veterans|mothers|pregnancies|dogs|cats|horses|eyes)"
)
# "patients with …", "children suffering from …", "for the treatment of …", "in …"
_BEFORE = re.compile(
    rf"\b{_WHO}\s+(?:[\w-]+\s+){{0,3}}?(?:with|having|suffering from|diagnosed with|"
    r"presenting with|undergoing|at (?:high\s+)?risk (?:of|for)|affected by|hospitali[sz]ed for|"
    r"admitted (?:for|with))\s+(?:[\w'-]+[\s,]+){0,4}$|"
    r"\b(?:treatment|treating|management|therapy|prevention|preventing|prophylaxis|control|"
    r"relief|cure|screening|diagnosis) (?:of|for)\s+(?:[\w'-]+[\s,]+){0,4}$|"
    r"\b(?:in|among|for)\s+(?:[\w'-]+[\s,]+){0,3}$",
    re.I,
)
# "… patients", "… -infected children"
_AFTER = re.compile(rf"^[\s-]*(?:[\w-]+\s+){{0,1}}{_WHO}\b", re.I)
_HARM = re.compile(
    r"side[- ]effects?|adverse|toxicit|complication|incidence of|tolera|safety|"
    r"reported|experienced|develop|occur|induced|associated with|risk of",
    re.I,
)
_LEAD_ROLES = frozenset({TITLE, OBJECTIVE, BACKGROUND})
# words that say more about the condition than its name: how it runs, whom it struck. They
# stand as pseudo-terms ("cue:acute") that the learned rules map to the headings NLM gives them
# (Acute Disease; "hypertensive patients" → Hypertension)
CUES = {  # name: (a word every match contains, lower case; the pattern)
    "acute": ("acute", r"\bacute(?:ly)?\b"),
    "chronic": ("chronic", r"\bchronic(?:ally)?\b"),
    "recurrent": ("recur|relaps", r"\b(?:recurren(?:t|ce)|relaps(?:ed|ing|e))\b"),
    "progression": ("progress", r"\bprogress(?:ion|ive)\b"),
    "metastatic": ("metasta", r"\bmetasta(?:tic|ses|sis)\b"),
    "postoperative": (
        "operat|surg",
        r"\b(?:post-?operative(?:ly)?|after (?:\w+ ){0,2}(?:surgery|operation)|surgical)\b",
    ),
    "advanced": ("advanced", r"\badvanced\b"),
    "hypertensive": ("hypertensive", r"\bhypertensives?\b"),
    "diabetic": ("diabetic", r"\bdiabetics?\b"),
    "asthmatic": ("asthmatic", r"\basthmatics?\b"),
    "epileptic": ("epileptic", r"\bepileptics?\b"),
    "autistic": ("autis", r"\b(?:autistic|autism)\b"),
    "schizophrenic": ("schizophrenic", r"\bschizophrenics?\b"),
    "depressed": ("depressed", r"\bdepressed\b"),
    "obese": ("obese", r"\bobese\b"),
    "infertile": ("fertile", r"\b(?:infertile|subfertile)\b"),
    "hiv": ("hiv", r"\bHIV\b"),
    "cancer": (
        "cancer|carcinom|tumo|malignan|neoplas",
        r"\b(?:cancers?|carcinomas?|tumou?rs?|malignan(?:t|cy|cies)|neoplasms?)\b",
    ),
    "dogs": ("dog|canine", r"\b(?:dogs|canine)\b"),
    "cats": ("cats|feline", r"\b(?:cats|feline)\b"),
    "women": ("wom|female|girl|mother|pregnan", r"\b(?:women|female|girls|mothers|pregnan\w*)\b"),
}
_CUES = [
    (name, tuple(words.split("|")), re.compile(pattern, re.I))
    for name, (words, pattern) in CUES.items()
]


@dataclass(frozen=True, slots=True)
class Mention:
    """One term found: UI, the words as written, span (None in the title), where it stands."""

    ui: str
    text: str
    span: Span | None
    role: str  # "title" or the sentence's role
    sentence: int  # -1 for the title
    who: bool  # the words around it say who was studied
    harm: bool  # it reads as something that happened to them


def _expand(text: str, abbreviations: Sequence[Abbreviation]) -> str:
    """Each defined short form replaced by its long form (matching only)."""
    for a in abbreviations:
        if a.short in text:
            text = replace_spans(text, short_form_spans(a.short, text), a.long)
    return text


def mentions(
    *,
    title: str | None,
    sentences: Sequence[Sentence],
    abbreviations: Sequence[Abbreviation],
    mesh: MeshTable,
    trees: tuple[str, ...],
    participants: Sequence[Span] = (),
    given: re.Pattern[str] | None = None,
) -> list[Mention]:
    """Terms of ``trees`` in the title and every sentence, with their features.

    A defined abbreviation counts as its long form ("DM" → dermatomyositis); a term inside one
    of the ``participants`` spans (offsets into the abstract) reads as who was studied. With
    ``given`` (interventions), ``who`` says instead that the sentence says something was given
    ("treated", "randomised to"), and a term inside a ``participants`` span (there the tagged
    intervention phrases) counts as given.
    """
    out: list[Mention] = []
    if title:
        text = _expand(title, abbreviations)
        said = given.search(text) is not None if given is not None else False
        for ui, words, start, end in _terms(text, mesh=mesh, trees=trees):
            who = said if given is not None else _who(text, start, end)
            out.append(Mention(ui, words, None, TITLE, -1, who, False))
    long_forms = {a.short: a for a in abbreviations}.values()
    for i, s in enumerate(sentences):
        quote = s.quote
        says_given: bool | None = None  # asked of the sentence once, when a term needs it
        found = _terms(quote, mesh=mesh, trees=trees)
        for a in long_forms:
            hits = short_form_spans(a.short, quote) if a.short in quote else []
            if not hits:
                continue
            expanded = [m for m in mesh.find(a.long, categories=trees)
                        if m.end - m.start >= len(a.long) - 2]
            for hit_start, hit_end in hits:
                if any(start <= hit_start < end for _, _, start, end in found):
                    continue
                found.extend((m.ui, a.long, hit_start, hit_end) for m in expanded)
        for ui, words, start, end in found:
            span = Span(start=s.start + start, end=s.start + end, quote=quote[start:end],
                        section=s.span.section)
            if any(p.start <= span.start and span.end <= p.end for p in participants):
                who = True
            elif given is not None:
                if says_given is None:
                    says_given = given.search(quote) is not None
                who = says_given
            else:
                who = _who(quote, start, end)
            # a harm only when not said of who was studied (no need to search then)
            harm = not who and (s.role in (RESULTS, CONCLUSIONS) or bool(
                _HARM.search(quote[max(0, start - 60) : end + 30])
            ))
            out.append(Mention(ui, words, span, s.role or METHODS, i, who, harm))
    return out


_BEFORE_WORD = re.compile(r"([A-Za-z]{3,})[\s-]+$")
_OF_SITE = re.compile(r"\s+of\s+(?:the\s+)?([A-Za-z]{3,}(?:\s+and\s+[A-Za-z]{3,})?)")


def _terms(text: str, *, mesh: MeshTable, trees: tuple[str, ...]) -> list[tuple[str, str, int, int]]:
    """(UI, words, start, end) of the terms in ``text``; a tumour named by its kind and its
    site ("gastric adenocarcinoma", "carcinoma of the lung") also yields the site's neoplasm
    heading (Stomach Neoplasms, Lung Neoplasms), as NLM indexes both."""
    found = [(m.ui, m.text, m.start, m.end) for m in mesh.find(text, categories=trees)]
    if "C" not in trees:
        return found
    sites = []
    for ui, _, start, end in found:
        if not mesh.in_categories(ui, ("C04",)):
            continue
        before = _BEFORE_WORD.search(text, max(0, start - 30), start)
        after = _OF_SITE.match(text, end)
        for site, (a, b) in (
            (before[1] if before else None, (before.start(1) if before else 0, end)),
            (after[1] if after else None, (start, after.end(1) if after else 0)),
        ):
            if site is None:
                continue
            other = mesh.lookup(f"{site} cancer")
            if other and other != ui and mesh.in_categories(other, ("C04",)):
                sites.append((other, text[a:b], a, b))
    return found + sites


def _who(text: str, start: int, end: int) -> bool:
    return bool(_BEFORE.search(text[max(0, start - 60) : start]) or _AFTER.match(text[end:]))


@dataclass(frozen=True, slots=True)
class Candidate:
    """A UI's mentions taken together: the features a condition is chosen by."""

    ui: str
    first: Mention
    count: int
    roles: frozenset[str]
    who: bool  # some mention says who was studied
    harm_only: bool  # every mention reads as a harm
    narrower_found: bool  # a narrower term of it is a candidate too

    def features(self) -> tuple[str, ...]:
        """Names of the features that hold (the trainer counts outcomes by them)."""
        names = []
        if TITLE in self.roles:
            names.append("title")
        if self.roles & {OBJECTIVE, BACKGROUND}:
            names.append("lead")
        if METHODS in self.roles:
            names.append("methods")
        if not self.roles - {RESULTS, CONCLUSIONS}:
            names.append("late-only")
        if self.who:
            names.append("who")
        if self.harm_only:
            names.append("harm-only")
        if self.count >= 2:
            names.append("repeated")
        if self.narrower_found:
            names.append("broader")
        return tuple(names)


def cues(*, title: str | None, sentences: Sequence[Sentence]) -> list[Mention]:
    """Pseudo-terms (``cue:…``) for the cue words in the title and the sentences before the
    results (the lead says what the study is about; results mention everything)."""
    out = []
    parts = [(TITLE, -1, title or "", None)] + [
        (s.role or METHODS, i, s.quote, s) for i, s in enumerate(sentences)
        if s.role not in (RESULTS, CONCLUSIONS)
    ]
    for role, i, text, sentence in parts:
        lower = text.lower()
        for name, words, pattern in _CUES:
            if any(map(lower.__contains__, words)) and (m := pattern.search(text)):
                span = None
                if sentence is not None:
                    span = Span(start=sentence.start + m.start(), end=sentence.start + m.end(),
                                quote=m[0], section=sentence.span.section)
                out.append(Mention(f"cue:{name}", m[0], span, role, i, True, False))
    return out


def candidates(
    found: Sequence[Mention], *, mesh: MeshTable, kind: str = CONDITION
) -> list[Candidate]:
    """One candidate per UI, in order of first mention; for conditions, disease attributes and
    catch-alls left out."""
    by_ui: dict[str, list[Mention]] = {}
    for m in found:
        if kind == CONDITION and (m.ui in _NOT_CONDITIONS or (
            m.ui.startswith("D") and all(t.startswith(_ATTRIBUTES) for t in mesh.trees(m.ui))
        )):
            continue
        by_ui.setdefault(m.ui, []).append(m)
    out = []
    for ui, ms in by_ui.items():
        stems = tuple(f"{t}." for t in mesh.trees(ui))
        out.append(
            Candidate(
                ui=ui,
                first=ms[0],
                count=len(ms),
                roles=frozenset(m.role for m in ms),
                who=any(m.who for m in ms),
                harm_only=all(m.harm for m in ms),
                narrower_found=bool(stems) and any(
                    o != ui and any(t.startswith(stems) for t in mesh.trees(o)) for o in by_ui
                ),
            )
        )
    return out


def is_study_condition(c: Candidate) -> bool:
    """The hand rule: a condition named where the study says what and whom it is about.

    In the title, or said of the participants, or named in the objective/methods more than
    once; never only in results or conclusions, never only as a harm, never a broader term of
    one the abstract names more precisely.
    """
    if c.narrower_found and not c.who:
        return False
    if c.harm_only and TITLE not in c.roles:
        return False
    if TITLE in c.roles or c.who:
        return True
    return c.count >= 2 and bool(c.roles & (_LEAD_ROLES | {METHODS}))


def is_study_intervention(c: Candidate) -> bool:
    """The hand rule: named in the title or the objective/methods where something is given."""
    return c.who and bool(c.roles & {TITLE, OBJECTIVE, METHODS})


def key(c: Candidate, *, kind: str = CONDITION) -> str:
    """The candidate's key in the learned rules: UI (or cue) and bucket; interventions' keys
    start with ``iv:``."""
    if kind == INTERVENTION:
        return f"iv:{c.ui}|{'strong' if is_study_intervention(c) else 'weak'}"
    if c.ui.startswith("cue:"):
        return f"{c.ui}|{'title' if TITLE in c.roles else 'lead'}"
    return f"{c.ui}|{'strong' if is_study_condition(c) else 'weak'}"


def grounded(
    found: Sequence[Candidate],
    *,
    kind: str,
    rules: Mapping[str, Sequence[str]] | None = None,
) -> list[tuple[str, Candidate]]:
    """(UI, the candidate that stands for it), first mention first.

    A candidate the learned ``rules`` know gives the headings NLM indexes for it (none, itself,
    or others, most often first); one they do not know stands for itself when the hand rule
    holds. An intervention stays one arm: itself when NLM indexes it, else the heading NLM
    gives such a term ("chemotherapy" → Antineoplastic Combined Chemotherapy Protocols).
    """
    rules = load_rules() if rules is None else rules
    out: dict[str, Candidate] = {}
    for c in found:
        k = key(c, kind=kind)
        if k in rules:
            uis: Sequence[str] = rules[k]
        else:
            uis = (c.ui,) if k.endswith("|strong") else ()
        if kind == INTERVENTION and c.ui == PLACEBO:
            uis = (c.ui,) if k.endswith("|strong") else ()  # the comparator, which NLM rarely indexes
        elif kind == INTERVENTION and uis:
            uis = (c.ui,) if c.ui in uis else uis[:1]
        for ui in uis:
            out.setdefault(ui, c)
    return list(out.items())


def study_conditions(
    found: Sequence[Candidate], *, rules: Mapping[str, Sequence[str]] | None = None
) -> list[tuple[str, Candidate]]:
    """(UI, the candidate that stands for it) of the study's conditions (see :func:`grounded`)."""
    return grounded(found, kind=CONDITION, rules=rules)


def digest(rules: Mapping[str, Sequence[str]]) -> str:
    """The SHA-256 of the rules as the file stores them (what the loader checks)."""
    canonical = json.dumps({k: list(v) for k, v in rules.items()}, sort_keys=True,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@functools.cache
def load_rules() -> dict[str, tuple[str, ...]]:
    """The learned rules shipped in ``kg/data/mesh-grounding.json``, checksum verified."""
    resource = resources.files("kg") / "data" / RULES_FILE
    try:
        data = json.loads(resource.read_bytes())
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the grounding rules: {exc}", source=str(resource)) from exc
    rules = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(rules, dict) or digest(rules) != data.get("sha256"):
        raise InputError("grounding rules fail their checksum", source=str(resource))
    return {k: tuple(v) for k, v in rules.items()}


__all__ = [
    "CONDITION",
    "CONDITION_TREES",
    "GIVEN",
    "INTERVENTION",
    "INTERVENTION_TREES",
    "Candidate",
    "Mention",
    "candidates",
    "cues",
    "digest",
    "grounded",
    "is_study_condition",
    "is_study_intervention",
    "key",
    "load_rules",
    "mentions",
    "study_conditions",
]

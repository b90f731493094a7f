"""Findings: a comparison the abstract states, intervention vs comparator on an outcome, and its
direction (significantly increased / decreased / no significant difference).

A results or conclusions sentence that states a comparison (significance words, a p-value or CI,
"than", "compared with", "no difference"…) becomes a finding. Its direction is read by a small
maximum-entropy classifier (CRFsuite over one-item sequences) trained on the Evidence Inference
corpus (``kg/extract/train/findings.py``), except where an exact rule knows it (every p-value of
the sentence at or above 0.05 → no significant difference). The classifier reads the direction of
the sentence's *subject* arm against its *reference* arm ("lower in the placebo group than in
the drug group": placebo is the subject); :func:`orientation` says which is which, and the
finding states the direction of the intervention against the comparator, flipped when the
sentence puts the comparator first. A direction is only stated when the model is confident (a
threshold chosen on the training split by cross-validation); otherwise ``direction`` is None.

The features (:func:`features`) and labels (:data:`LABELS`) are defined here, and the training
code imports them, so both sides see the same thing. Inference needs only ``pycrfsuite`` and the
model shipped in ``kg/data/`` (its SHA-256 is checked on load).

>>> s = "Pain was significantly lower with drug A than with placebo (P < 0.01)."
>>> outcome_words(s)
'Pain'
>>> [m.text for m in arm_mentions(s, ["drug A", "placebo"])]
['drug', 'placebo']
>>> orientation(s, arm_mentions(s, ["drug A", "placebo"]))
(0, 1)
>>> stated_no_difference("No difference in mortality (p = 0.43).")
True
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache, lru_cache
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any

from kg.errors import KgError
from kg.extract import numbers as num
from kg.extract.text import CONCLUSIONS, RESULTS, Sentence
from kg.models import Finding, Intervention, Measurement, Span

INCREASED = "significantly increased"
DECREASED = "significantly decreased"
NO_DIFFERENCE = "no significant difference"
#: The classifier's labels, in a fixed order; the corpus's label codes map to them.
LABELS = (INCREASED, DECREASED, NO_DIFFERENCE)
CODE_LABEL = {1: INCREASED, -1: DECREASED, 0: NO_DIFFERENCE}
FLIP = {INCREASED: DECREASED, DECREASED: INCREASED, NO_DIFFERENCE: NO_DIFFERENCE}

MODEL_NAME = "findings.crfsuite"
CARD_NAME = "findings.json"


class ModelError(KgError):
    """The shipped findings model is missing or is not the one its card describes."""


# --- which sentences state a comparison ----------------------------------------------------------

_COMPARISON = re.compile(
    r"\bsignifican|\bp\s*(?:-?\s*values?)?\s*[<=>≤≥]|\b(?-i:CI)\b|\bconfidence interval|\bthan\b|"
    r"\b(?:compared|in comparison) (?:with|to)\b|\bversus\b|\b(?-i:vs?)\b\.?|\bno (?:\w+ )?differences?\b|"
    r"\bdiffer(?:ed|ence|ent)?\b|\b(?:similar|comparable) (?:in|between|to|among)\b|\b(?:odds|hazard|risk) ratio\b|"
    r"\b(?-i:OR|RR|HR)\b",
    re.I,
)


_STRONG = re.compile(
    r"\bsignifican|\bp\s*(?:-?\s*values?)?\s*[<=>≤≥]|\b(?-i:CI)\b|\bconfidence interval|"
    r"\bno (?:\w+ )?differences?\b|\bdid not differ|\b(?:similar|comparable) (?:in|between|among)\b",
    re.I,
)


def states_comparison(text: str) -> bool:
    """Whether a sentence says how two things compare: significance words, a p-value or CI, or
    "than"/"compared with"/"versus" with a word saying which way.

    >>> states_comparison("Mortality was 12% vs 20% (P = .03)."), states_comparison("We enrolled 40.")
    (True, False)
    >>> states_comparison("Doses were compared with those of 2010.")
    False
    """
    low = text.lower()
    if (_has_operator(text) or any(map(low.__contains__, _STRONG_HINTS))) and _STRONG.search(text):
        return True
    # the direction words first: one dictionary look-up per word costs less than the scan
    return bool(directions(_WORDS.findall(low))) and bool(_COMPARISON.search(text))


_STRONG_HINTS = ("signific", "ci", "confidence", "differ", "similar", "comparable")


def _has_operator(text: str) -> bool:
    return any(map(text.__contains__, "<=>≤≥"))


_NOT_SIGNIFICANT = re.compile(
    r"\b(?:no|not|non-?|without|neither|nor|failed to (?:show|reach|demonstrate))\s*(?:a\s+|any\s+)?"
    r"(?:\w+\s+){0,2}?(?:statistically\s+)?(?:significant|significantly|differ|differences?|different)\b|"
    r"\b(?:did not|didn't|does not|do not|was not|were not) (?:\w+ )?(?:differ|change|improve|reduce|increase|affect)|"
    r"\b(?:similar|comparable|equivalent)\b|\bn\.?s\.?\b|\binsignificant",
    re.I,
)
_SIGNIFICANT = re.compile(r"\bsignificant(?:ly)?\b", re.I)


def p_values(text: str) -> list[tuple[str, Decimal]]:
    """Every p-value the sentence states: (operator as printed, value)."""
    if not _has_operator(text):
        return []
    values: list[tuple[str, Decimal]] = []
    for m in _P_ALL.finditer(text):
        value = num.to_decimal(m.group(2))
        if value is not None:
            values.append((m.group(1), value))
    return values


def stated_no_difference(text: str, *, values: list[tuple[str, Decimal]] | None = None) -> bool:
    """True when every p-value the sentence states is at or above 0.05 (an exact rule)."""
    values = p_values(text) if values is None else values
    return bool(values) and all(op in ("=", ">", "≥", ">=") and v >= Decimal("0.05") for op, v in values)


_P_ALL = re.compile(rf"\b[Pp](?:\s*-?\s*values?)?\s*(<=|>=|≤|≥|<|>|=)\s*({num.NUM})")


# --- features, shared with training --------------------------------------------------------------

_TOKEN = re.compile(r"[a-z]+(?:-[a-z]+)*|\d+(?:\.\d+)?|[<>=≤≥%]")
_WORDS = re.compile(r"[a-z]+")
# words that say which way: exact words, and stems of words ("increas" → increased, increases)
_UP_WORDS = frozenset(
    ("higher", "greater", "more", "longer", "better", "larger", "superior", "faster", "rise", "rose")
)
_UP_STEMS = ("increas", "improv", "elevat", "rais", "gain", "enhanc", "prolong", "exceed", "benefit",
             "boost", "augment")
_DOWN_WORDS = frozenset(
    ("lower", "less", "shorter", "fewer", "fell", "fall", "smaller", "worse", "inferior", "slower",
     "lowered", "cut")
)
_DOWN_STEMS = ("decreas", "reduc", "declin", "diminish", "drop", "attenuat", "suppress", "prevent",
               "lessen", "alleviat", "relie", "minimi")


def directions(words: Iterable[str]) -> list[str]:
    """"up" or "down" for each word (lower case) that says which way, in order."""
    out = []
    for w in words:
        kind = _KIND.get(w)
        if kind is None:
            kind = _kind(w)
            if len(_KIND) < 100_000:
                _KIND[w] = kind
        if kind:
            out.append(kind)
    return out


def _kind(w: str) -> str:
    if w in _UP_WORDS or w.startswith(_UP_STEMS):
        return "up"
    if w in _DOWN_WORDS or w.startswith(_DOWN_STEMS):
        return "down"
    return ""


_KIND: dict[str, str] = {}  # word → "up", "down" or "" (memo: abstracts reuse their words)


_REFERENCE_CUE = re.compile(
    r"\b(?:than|compared(?: with| to)?|in comparison(?: with| to)?|versus|vs\.?|relative to|over|as against)\s+$",
    re.I,
)
_STOP = frozenset(
    ("the", "a", "an", "of", "in", "on", "at", "to", "for", "with", "and", "or", "by", "from",
     "group", "groups", "arm", "arms", "patients", "subjects", "participants", "those", "who",
     "that", "was", "were", "is", "are", "be", "been", "mg", "kg", "day", "daily", "dose", "doses",
     "plus", "alone", "treatment", "therapy", "receiving", "received")
)


def _p_bucket(values: list[tuple[str, Decimal]]) -> list[str]:
    out = []
    for op, v in values:
        small = v < Decimal("0.05") or (op in ("<", "≤", "<=") and v <= Decimal("0.05"))
        out.append("p=sig" if small else "p=ns")
    return out


def features(text: str, *, subject_first: bool | None = None) -> dict[str, float]:
    """The classifier's features of one sentence: n-grams, negation, p-values, direction words.

    ``subject_first`` says whether the subject arm was named before the reference arm (None
    when kg could not tell).
    """
    low = text.lower()
    tokens = _TOKEN.findall(low)
    f: dict[str, float] = {"bias": 1.0}
    for t in tokens:
        f["w=" + t] = 1.0
    for a, b in pairwise(tokens):
        f[f"b={a}_{b}"] = 1.0
    neg = bool(_NOT_SIGNIFICANT.search(text))
    sig = bool(_SIGNIFICANT.search(text))
    kinds = directions(_WORDS.findall(low))
    ups = kinds.count("up")
    downs = len(kinds) - ups
    f["neg"] = 1.0 if neg else 0.0
    if sig and not neg:
        f["sig_only"] = 1.0
    values = p_values(text)
    for p in _p_bucket(values):
        f[p] = 1.0
    if stated_no_difference(text, values=values):
        f["all_p_ns"] = 1.0
    if ups:
        f["up"] = 1.0
    if downs:
        f["down"] = 1.0
    if ups > downs:
        f["more_up"] = 1.0
    elif downs > ups:
        f["more_down"] = 1.0
    # the first direction word of the sentence, alone and with the arms' order
    if kinds:
        kind = kinds[0]
        f["first_dir=" + kind] = 1.0
        if neg:
            f["first_dir_neg=" + kind] = 1.0
        if subject_first is not None:
            f[f"first_dir={kind}&subject_first={subject_first}"] = 1.0
    if subject_first is not None:
        f[f"subject_first={subject_first}"] = 1.0
    return f


# --- arms and outcome words in a sentence ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mention:
    """Where one arm (``key``: its index in the candidates) is named in a sentence."""

    key: int
    start: int
    end: int
    text: str


def _arm_words(text: str) -> list[str]:
    inner = re.findall(r"\(([^()]{2,12})\)", text)
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z0-9+-]{2,}", text) if w.lower() not in _STOP]
    return [*inner, *words]


@lru_cache(maxsize=256)
def _distinctive_words(arms: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """Per arm, its words (lower case, sorted) that no other arm has; cached: an abstract's
    arms are the same for each of its sentences."""
    words = [{w.lower() for w in _arm_words(a)} for a in arms]
    shared = set.union(*(a & b for i, a in enumerate(words) for b in words[i + 1 :])) if len(words) > 1 else set()
    return tuple(tuple(sorted(ws - shared)) for ws in words)


def arm_mentions(text: str, arms: Sequence[str]) -> list[Mention]:
    """The first place each arm is named in ``text``, by its distinctive words (case-insensitive).

    Words two arms share ("rocuronium with lidocaine" vs "rocuronium with placebo") do not count.
    """
    low = text.lower()
    found: list[Mention] = []
    for key, ws in enumerate(_distinctive_words(tuple(arms))):
        best: tuple[int, int] | None = None
        for w in ws:
            at = low.find(w)
            while at >= 0:
                end = at + len(w)
                if (at == 0 or not low[at - 1].isalnum()) and (end == len(low) or not low[end].isalnum()):
                    if best is None or at < best[0]:
                        best = (at, end)
                    break
                at = low.find(w, at + 1)
        if best is not None:
            found.append(Mention(key, best[0], best[1], text[best[0] : best[1]]))
    return sorted(found, key=lambda m: m.start)


def orientation(text: str, mentions: Sequence[Mention]) -> tuple[int, int | None] | None:
    """(subject, reference) keys of the arms the sentence compares, or None when it names none.

    The reference is the arm named right after "than", "compared with", "versus"…; otherwise the
    arm named second. With one arm named, the other is unknown (None) unless that arm is the
    reference.
    """
    if not mentions:
        return None
    keys = list(dict.fromkeys(m.key for m in mentions))
    for m in mentions:
        before = text[max(0, m.start - 40) : m.start]
        before = re.sub(r"(?:\b(?:the|a|an|in|with|on|for|using|during|those|patients|group|receiving|given)\b\s*)+$", "", before, flags=re.I)
        if _REFERENCE_CUE.search(before):
            others = [k for k in keys if k != m.key]
            if others:
                return others[0], m.key
            return -1, m.key
    if len(keys) >= 2:
        return keys[0], keys[1]
    return keys[0], None


_COPULA_DIRECTION = re.compile(
    r"\s+(?:was|were|is|are)\s+(?:\w+\s+){0,3}?"
    r"(?:significantly|statistically|not|no|similar|comparable|higher|lower|greater|smaller|"
    r"more|less|longer|shorter|better|worse|increased|decreased|reduced|improved|elevated|"
    r"unchanged|different|lowered|raised)\b",
    re.I,
)
_ABOUT = re.compile(
    r"\b(?:differences?|improvements?|reductions?|increases?|decreases?|changes?|effects?|benefits?)\s+"
    r"(?:\w+\s+){0,2}?(?:in|on|of|for|regarding|with respect to)\s+(?:the\s+)?"
    r"(?P<what>[A-Za-z][^,;:()]*?)(?=\s+(?:between|among|in|at|after|was|were|with|from|of|compared|than|"
    r"versus|vs)\b|[,;:()]|\.\s*$|$)",
    re.I,
)
_LEAD = re.compile(r"^(?:(?:in|at|after|during|for|among|within|by)\s+[^,]{0,60},\s*)?(?:the\s+|a\s+|an\s+|mean\s+|overall,?\s+|both\s+)?", re.I)


_ADVERB = re.compile(r"^(?:(?:although|however|similarly|moreover|furthermore|in addition|additionally|also|overall|notably|importantly|thus|therefore)\b,?\s*)+", re.I)
_NOT_OUTCOME = re.compile(r"(?i)^(?:there|it|this|these|they|we|both|all|none|no)\b|\bthere$|\b(?:and|or|this difference)$")


def outcome_words(text: str) -> str | None:
    """The outcome's words by a simple rule: the subject before "was/were significantly …"
    (without parentheses), what a group "had less/more" of, or what a "difference in …" is about.

    >>> outcome_words("There was no significant difference in pain scores between groups.")
    'pain scores'
    >>> outcome_words("In all, the primary outcome (44.1% vs 52.9%; P=.04) and sepsis (8% vs 15%) were less frequent.")
    'primary outcome and sepsis'
    >>> outcome_words("The antibiotic group had less frequent primary outcome (44.5% vs 54.5%; P=.03).")
    'primary outcome'
    """
    text = _INLINE_LABEL.sub("", text)
    low = text.lower()
    had = _HAD.search(text) if any(map(low.__contains__, (" had ", " showed ", " experienced ", " reported "))) else None
    if had:
        words = _clean(had.group("what"))
        if words:
            return words
    m = _COPULA_DIRECTION.search(text) if any(map(low.__contains__, (" was ", " were ", " is ", " are "))) else None
    if m:
        head = text[: m.start()]
        if _LEAD_IN.match(head) and "," in head:
            head = head[head.index(",") + 1 :]
        words = _clean(head)
        if words:
            return words
    a = _ABOUT.search(text)
    if a:
        return _clean(a.group("what"))
    return None


def _clean(words: str) -> str | None:
    words = _PARENS.sub("", words).strip(" ,;")
    words = _ADVERB.sub("", words)
    lead = _LEAD.match(words)
    words = words[lead.end() :] if lead else words
    words = _ARM_TAIL.split(words)[0].strip(" ,;")
    if 3 <= len(words) <= 120 and re.search(r"[A-Za-z]{3}", words) and not _NOT_OUTCOME.search(words):
        return words
    return None


_INLINE_LABEL = re.compile(r"^[A-Z][A-Z &/,-]{2,40}:\s+")
_PARENS = re.compile(r"\s*[(\[][^()\[\]]*[)\]]")
_LEAD_IN = re.compile(r"^\s*(?:in|at|after|during|for|among|within|by|compared|from|over|on)\b", re.I)
_ARM_TAIL = re.compile(
    r"\s+(?:in|with|for|among|on|using|after|of)\s+(?:the\s+)?(?:\w+[\s-]+){0,3}?(?:group|groups|arm|arms|patients)\b", re.I
)
_HAD = re.compile(
    r"\b(?:group|arm|patients|subjects|participants)\s+(?:had|showed|experienced|reported)\s+(?:a\s+)?"
    r"(?:significantly\s+|statistically\s+significantly\s+)?(?:less|more|lower|higher|fewer|greater|shorter|longer|"
    r"better|worse|smaller|larger|reduced|increased|decreased)\s+(?:frequent\s+|often\s+)?(?P<what>[^,;()]+)",
    re.I,
)


# --- the model --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Model:
    """The shipped classifier, its card and the threshold under which no direction is stated."""

    tagger: Any
    version: str
    threshold: float

    @property
    def found_by(self) -> str:
        return f"model:findings-{self.version}"

    def probabilities(self, feats: dict[str, float]) -> dict[str, float]:
        self.tagger.set([feats])
        self.tagger.tag()
        return {label: self.tagger.marginal(label, 0) for label in self.tagger.labels()}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load(directory: Path) -> Model:
    """The model in ``directory`` (its ``findings.json`` card and ``findings.crfsuite``),
    refused unless the model's SHA-256 is the one the card states."""
    import pycrfsuite

    try:
        card = json.loads((directory / CARD_NAME).read_text(encoding="utf-8"))
        blob = (directory / MODEL_NAME).read_bytes()
    except OSError as exc:
        raise ModelError(f"the findings model is not installed: {exc}", source=str(directory)) from exc
    if sha256(blob) != card.get("sha256"):
        raise ModelError(
            "the findings model's SHA-256 is not the one its card states",
            source=str(directory / MODEL_NAME),
        )
    tagger = pycrfsuite.Tagger()
    tagger.open(str(directory / MODEL_NAME))
    return Model(tagger=tagger, version=str(card["version"]), threshold=float(card["threshold"]))


@cache
def model() -> Model:
    """The model shipped in ``kg/data/``, loaded once per process."""
    with resources.as_file(resources.files("kg") / "data") as directory:
        return load(Path(directory))


def classify(text: str, *, subject_first: bool | None = None, model_: Model | None = None) -> tuple[str, float]:
    """The direction of the sentence's subject arm against its reference arm, and its probability."""
    m = model_ or model()
    probs = m.probabilities(features(text, subject_first=subject_first))
    label = max(LABELS, key=lambda lab: (probs.get(lab, 0.0), -LABELS.index(lab)))
    return label, probs.get(label, 0.0)


# --- findings of an abstract ---------------------------------------------------------------------

_EFFECT_HINT = re.compile(r"(?i:ratio|risk|difference)|\b(?:a?OR|a?HR|a?RR|IRR|MD)s?\b")
_PLACEBO_WORDS = re.compile(r"\b(?:placebo|control|controls|usual care|standard care|sham|no treatment|untreated)\b", re.I)


def _arm_names(iv: Intervention) -> str:
    return f"{iv.text} ({iv.abbreviation})" if iv.abbreviation else iv.text


def _measurement(text: str) -> Measurement:
    p = num.p_value(text) if _has_operator(text) else None
    eff = num.effect_with_ci(text) if _EFFECT_HINT.search(text) else None
    ci = eff[2] if eff else (num.confidence_interval(text) if "%" in text else None)
    return Measurement(
        p_operator=p[0] if p else None,
        p_value=p[1] if p else None,
        effect_measure=eff[0] if eff else None,
        effect_value=eff[1] if eff else None,
        ci_level=ci[0] if ci else None,
        ci=(ci[1], ci[2]) if ci else None,
    )


def _outcome(s: Sentence, outcome_spans: Iterable[Span]) -> tuple[str | None, Span | None]:
    for span in outcome_spans:
        if s.span.start <= span.start and span.end <= s.span.end:
            return span.quote, span
    words = outcome_words(s.quote)
    if words is None:
        return None, None
    at = s.quote.find(words)
    if at < 0:  # words joined across a parenthesis: no single stretch of the text
        return words, None
    start = s.span.start + at
    return words, Span(start=start, end=start + len(words), quote=words, section=s.span.section)


def find(
    sentences: Sequence[Sentence],
    *,
    interventions: Sequence[Intervention],
    outcome_spans: Sequence[Span] = (),
    model_: Model | None = None,
) -> tuple[Finding, ...]:
    """The findings of results/conclusions sentences that state a comparison: one per outcome
    mention in the sentence (``outcome_spans``, from the span tagger), else one per sentence.
    ``model_`` replaces the shipped model (training's cross-validation uses it)."""
    m = model_ or model()
    out: list[Finding] = []
    names = [_arm_names(iv) for iv in interventions]
    spans = sorted(outcome_spans, key=lambda sp: (sp.start, sp.end))
    for s in sentences:
        if s.role not in (RESULTS, CONCLUSIONS) or not states_comparison(s.quote):
            continue
        f = finding(s, interventions=interventions, names=names, outcome_spans=spans, model_=m)
        inside = [sp for sp in spans if s.span.start <= sp.start and sp.end <= s.span.end]
        if len(inside) < 2:
            out.append(f)
            continue
        for sp in inside:  # "A (p = .01) and B (p = .03) were lower": the numbers after each
            after = s.quote[sp.end - s.span.start :]
            numbers = _measurement(after)
            out.append(
                replace(
                    f,
                    outcome=sp.quote,
                    outcome_span=sp,
                    measurement=numbers if numbers != Measurement() else f.measurement,
                )
            )
    return tuple(out)


def finding(
    s: Sentence,
    *,
    interventions: Sequence[Intervention],
    names: Sequence[str] | None = None,
    outcome_spans: Sequence[Span] = (),
    model_: Model | None = None,
) -> Finding:
    """The finding one sentence states (direction None when the model is not confident)."""
    m = model_ or model()
    text = s.quote
    names = list(names) if names is not None else [_arm_names(iv) for iv in interventions]
    mentions = arm_mentions(text, names) if names else []
    orient = orientation(text, mentions)
    subject: int | None = None
    reference: int | None = None
    subject_first: bool | None = None
    if orient is not None:
        subject = orient[0] if orient[0] >= 0 else None
        reference = orient[1]
        if subject is not None and reference is not None:
            first = {mm.key: mm.start for mm in mentions}
            subject_first = first.get(subject, 0) <= first.get(reference, 0)
    if stated_no_difference(text):
        label, prob, how = NO_DIFFERENCE, 1.0, "rule:findings-p-value"
    else:
        label, prob = classify(text, subject_first=subject_first, model_=m)
        how = m.found_by
    # the direction of the intervention against the comparator: flip when the sentence's
    # subject is a comparator (or a placebo/control) and its reference an intervention
    iv_index, cmp_index = subject, reference
    if subject is None and reference is not None:
        iv_index = next((i for i, iv in enumerate(interventions) if i != reference and iv.role == "intervention"), None)
    if iv_index is not None and _is_comparator(interventions[iv_index]) and (
        cmp_index is None or not _is_comparator(interventions[cmp_index])
    ):
        iv_index, cmp_index = cmp_index, iv_index
        label = FLIP[label]
    elif iv_index is None and reference is None:
        iv_index = next((i for i, iv in enumerate(interventions) if iv.role == "intervention"), None)
        cmp_index = next((i for i, iv in enumerate(interventions) if iv.role == "comparator"), None)
    if cmp_index is None and iv_index is not None:
        cmp_index = next(
            (i for i, iv in enumerate(interventions) if i != iv_index and iv.role == "comparator"), None
        )
    by_text = {mm.key: mm.text for mm in mentions}
    outcome, outcome_span = _outcome(s, outcome_spans)
    stated = prob >= m.threshold
    return Finding(
        intervention=iv_index,
        comparator=cmp_index,
        intervention_text=by_text.get(iv_index) if iv_index is not None else None,
        comparator_text=by_text.get(cmp_index) if cmp_index is not None else None,
        outcome=outcome,
        outcome_span=outcome_span,
        direction=label if stated else None,
        probability=round(prob, 4),
        span=s.span,
        measurement=_measurement(text),
        found_by=how,
    )


def _is_comparator(iv: Intervention) -> bool:
    return iv.role == "comparator" or bool(_PLACEBO_WORDS.search(iv.text))


__all__ = [
    "CODE_LABEL",
    "DECREASED",
    "FLIP",
    "INCREASED",
    "LABELS",
    "NO_DIFFERENCE",
    "Mention",
    "Model",
    "ModelError",
    "arm_mentions",
    "classify",
    "directions",
    "features",
    "find",
    "finding",
    "model",
    "orientation",
    "outcome_words",
    "p_values",
    "stated_no_difference",
    "states_comparison",
]

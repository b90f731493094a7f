"""The value gate: a learned check on each count and percentage kg is about to state for an outcome.

The outcome rules (:mod:`kg.extract.pico`) read numbers from the shapes of sentences; some of the
numbers they attach are not results (an arm's size, a baseline share, a bound). The gate is a
CRFsuite maximum-entropy model (each number a one-item sequence) that scores a printed number from
its context alone: the words around it, brackets, what follows it ("of 40", "(12%)"), the
sentence's role and cues ("baseline", "randomized", "respectively"), the arms named near it. Below
the card's threshold the number is not stated. The corpus it learns from marks the values of a
trial's arms, so it judges numbers only in studies that compare arms. Features, labels and where a
value is printed are defined here, once, for the trainer (``kg.extract.train.valuegate``) and for
inference; the model ships as ``kg/data/valuegate.crfsuite`` with a card (``valuegate.json``: data,
split, metrics, sha256) whose checksum the loader verifies.

>>> [(c.kind, c.start, c.end) for c in candidates("Of 40 women, 12 (30%) responded vs 8.5 and 9%.")]
[('count', 3, 5), ('count', 13, 15), ('percent', 17, 19), ('percent', 35, 38), ('percent', 43, 44)]
"""

from __future__ import annotations

import contextvars
import functools
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from kg.extract import numbers as num
from kg.extract import sample
from kg.extract.shipped import ShippedCrf
from kg.extract.text import Sentence
from kg.models import Intervention, Span

MODEL = Path(__file__).resolve().parent.parent / "data" / "valuegate.crfsuite"
CARD = MODEL.with_suffix(".json")
NAME = "valuegate"
LABEL_VALUE, LABEL_OTHER = "V", "O"  # a result value of its kind / any other number
COUNT, PERCENT = "count", "percent"

_PERCENT = re.compile(
    rf"(?<![\w.,·/-])(?:{num.NUM})(?![\d.·,]\d)(?=\s*(?:%|percent\b|per cent\b)"
    rf"|\s*(?:vs\.?|v\.?|versus|and|to|or|,)\s*(?:{num.NUM})\s*(?:%|percent\b))"
)


@dataclass(frozen=True)
class Candidate:
    """A count or percentage printed in a sentence: its kind and offsets inside the quote."""

    kind: str
    start: int
    end: int


def candidates(text: str) -> list[Candidate]:
    """Every count (an integer that can count people) and every percentage of ``text``, in order."""
    out = [Candidate(COUNT, c.start, c.end) for c in sample.candidates(text)]
    out += [Candidate(PERCENT, m.start(), m.end()) for m in _PERCENT.finditer(text)]
    return sorted(out, key=lambda c: (c.start, c.kind))


def printed(value: Decimal | int, *, percent: bool) -> re.Pattern[str]:
    """Where a value may be printed: "16.2%", "16·2 %", "1,234"; never inside a longer number."""
    # the digits as printed decide the pattern (Decimal("16.2") == Decimal("16.20") do not)
    integer = isinstance(value, int)
    return _printed(f"{value:,}" if integer else str(value), integer, percent)


@functools.lru_cache(maxsize=4096)
def _printed(value: str, integer: bool, percent: bool) -> re.Pattern[str]:
    """The pattern of :func:`printed`, compiled once per value (abstracts share most values)."""
    if integer:
        digits = value.replace(",", ",?")
    else:
        digits = re.escape(value).replace(r"\.", "[.·]")
        if value.startswith("0."):
            digits = "0?" + digits[1:]
    # a percentage of a pair may print its sign only once: "(36.3 vs 22.2%)"
    tail = r"(?=\s*%|\s*(?:vs\.?|v\.?|versus|and|to|,)\s*\d)" if percent else r"(?!\s*%)"
    return re.compile(rf"(?<![\w,·])(?<!\d[.·]){digits}(?!\d|[.·]\d){tail}")


_WORD_NUMBERS = re.compile(rf"(?i)\b{num.WORD_NUMBER}(?:[- ]+and[- ]+{num.WORD_NUMBER})?\b")


def places(quote: str, value: Decimal | int, *, percent: bool) -> list[tuple[int, int]]:
    """Where ``value`` is printed in ``quote`` (digits, or number words for a count), in order."""
    hits = [(h.start(), h.end()) for h in printed(value, percent=percent).finditer(quote)]
    if not hits and not percent:  # number words: "Nineteen patients"
        hits = [
            (w.start(), w.end())
            for w in _WORD_NUMBERS.finditer(quote)
            if num.to_int(w.group(0)) == value
        ]
    return hits


# --- features ------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[a-z]+|\d+(?:[.,·]\d+)*|[()\[\]=%/<>≤≥±;:,]")
_CUES = (
    ("baseline", re.compile(r"\bbaseline|\bat (?:study )?entry|\bbefore (?:treatment|therapy)|\bpre-?treatment", re.I)),
    ("randomized", re.compile(r"randomi[sz]|randomly|allocated|assigned", re.I)),
    ("enrolled", re.compile(r"enrol|recruit|accru|\bincluded|entered|eligible", re.I)),
    ("analysed", re.compile(r"analy[sz]|evaluable|assessable", re.I)),
    ("age", re.compile(r"\baged?\b|years? old|\bage\b", re.I)),
    ("follow", re.compile(r"follow-?up", re.I)),
    ("respectively", re.compile(r"\brespectively\b", re.I)),
    ("versus", re.compile(r"\bvs\.?|\bversus\b|\bcompared (?:with|to)\b", re.I)),
    ("arm", re.compile(r"\b(?:group|groups|arm|arms|placebo)\b", re.I)),
    ("p", re.compile(r"\b[pP]\s*[=<>≤≥]")),
    ("ci", re.compile(r"\bCI\b|confidence interval", re.I)),
    ("effect", re.compile(r"\b(?:a?HR|a?OR|a?RR|hazard|odds|relative risk)\b")),
    ("mean", re.compile(r"\bmean\b|\baverage\b|±", re.I)),
    ("median", re.compile(r"\bmedian\b", re.I)),
    ("time", re.compile(r"\b(?:months?|years?|weeks?|days?)\b", re.I)),
    ("survival", re.compile(r"surviv|free\b", re.I)),
    ("response", re.compile(r"respon|remission|pCR\b", re.I)),
    ("harm", re.compile(r"toxicit|adverse|grade|neutropeni|nausea|vomit|side effect|complication", re.I)),
    ("rate", re.compile(r"\brates?\b|incidence|proportion|percentage", re.I)),
    ("characteristics", re.compile(r"characteristic|demographic|women|postmenopausal|stage|tumou?rs?|node", re.I)),
    ("questionnaire", re.compile(r"questionnaire|survey|respondent|interview", re.I)),
    ("conclusion", re.compile(r"\bconclu|\bsuggest|\bmay\b", re.I)),
)
_AFTER = (
    ("of-n", re.compile(r"\s*(?:/|of|out of)\s*(?:the\s+)?\d")),
    ("paren-pct", re.compile(rf"\s*[(\[]\s*{num.NUM}\s*%")),
    ("pct-sign", re.compile(r"\s*(?:%|percent\b|per cent\b)")),
    ("ci-after", re.compile(r"\s*%?\s*(?:CI\b|confidence)", re.I)),
    ("range", re.compile(rf"\s*%?\s*(?:-|–|to)\s*{num.NUM}")),
    ("pair", re.compile(rf"\s*%?\s*(?:vs\.?|v\.?|versus)\s*{num.NUM}", re.I)),
    ("and-num", re.compile(rf"\s*%?\s*(?:,|and|or)\s*{num.NUM}", re.I)),
    ("people", re.compile(r"\s*%?\s*(?:\w+\s+){0,2}?(?:patients?|women|subjects|participants|cases)\b", re.I)),
    ("of-people", re.compile(r"\s*%?\s*of (?:the )?(?:\w+\s+){0,2}?(?:patients?|women|subjects|participants|cases)\b", re.I)),
    ("group", re.compile(r"[^.;]{0,40}\b(?:group|arm)\b", re.I)),
    ("unit", re.compile(r"\s*(?:mg|g|kg|ml|gy|cm|mm|months?|years?|weeks?|days?|hours?|cycles?)\b", re.I)),
)
_BEFORE = (
    ("n=", re.compile(r"\bn\s*=\s*$", re.I)),
    ("of-before", re.compile(r"\b(?:of|in|among|from)\s+(?:the\s+|all\s+|these\s+)?$", re.I)),
    ("count-paren", re.compile(rf"(?:{num.INTEGER})\s*(?:/\s*\d+\s*)?[(\[]\s*$", re.I)),
    ("stat", re.compile(r"(?:[<>≤≥±]|\b(?:p|or|hr|rr|r)\s*=)\s*$", re.I)),
    ("bound", re.compile(r"\b(?:than|least|most|over|under|up to|above|below|exceed\w*)\s*$", re.I)),
    ("by", re.compile(r"\bby\s*$", re.I)),
    ("from-to", re.compile(r"\b(?:from|to|between)\s*$", re.I)),
    ("was", re.compile(r"\b(?:was|were|is|are|of)\s*$", re.I)),
    ("ci-before", re.compile(r"\bci\b[^a-z]{0,6}$", re.I)),
    ("pair-before", re.compile(rf"{num.NUM}\s*%?\s*(?:[)\]]\s*)?(?:vs\.?|v\.?|versus|and|or|,|compared (?:with|to))\s*$", re.I)),
)
_CONTROL = re.compile(r"\b(?:placebo|controls?|usual care|standard care|observation|sham|no treatment)\b", re.I)
# words of an arm's name that do not tell it apart
_ARM_STOP = frozenset({
    "therapy", "treatment", "treated", "patients", "group", "versus", "compared",
    "combination", "plus", "alone", "standard", "adjuvant", "neoadjuvant", "dose", "doses",
    "daily", "weekly", "intervention", "program", "programme", "women", "breast", "cancer",
})


def arm_words(arms: Iterable[Intervention]) -> tuple[str, ...]:
    """Lower-case names an arm goes by in the text: its words, abbreviation and telling words."""
    out: set[str] = set()
    for a in arms:
        out.add(a.text.lower())
        if a.abbreviation:
            out.add(a.abbreviation.lower())
        out.update(w for w in re.findall(r"[a-z][a-z0-9-]{4,}", a.text.lower()) if w not in _ARM_STOP)
    return tuple(sorted(out))


def _names(text: str, names: tuple[str, ...]) -> int:
    low = text.lower()
    return sum(1 for n in names if n in low and re.search(rf"(?<![a-z0-9]){re.escape(n)}(?![a-z0-9])", low))


def _shape(token: str) -> str:
    if token[0].isdigit():
        return "#." if any(ch in token for ch in ".·") else "#"
    return token


def _bucket(value: Decimal | None) -> str:
    if value is None:
        return "none"
    for bound, name in ((1, "<1"), (10, "<10"), (50, "<50"), (100, "<100"), (1000, "<1000")):
        if value < bound:
            return name
    return "big"


def features(
    sentence: str, start: int, end: int, kind: str, *, role: str | None, index: int, total: int,
    arms: tuple[str, ...] = (),
) -> list[str]:
    """The features of the number at ``sentence[start:end]`` (a ``count`` or a ``percent``), in
    sentence ``index`` of ``total`` whose role is ``role``, in a study whose arms go by the names
    ``arms`` (:func:`arm_words`): the same for training and inference."""
    raw = sentence[start:end]
    before_text = sentence[max(0, start - 60) : start]
    after_text = sentence[end : end + 60]
    before = [_shape(t) for t in _TOKEN.findall(before_text.lower())][-4:]
    after = [_shape(t) for t in _TOKEN.findall(after_text.lower())][:4]
    value = num.to_decimal(raw) if raw[0].isdigit() else None
    if value is None and kind == COUNT:
        n = num.to_int(raw)
        value = Decimal(n) if n is not None else None
    f = [
        "b", f"k={kind}", f"role={role}", f"rel={(4 * index) // max(total, 1)}",
        f"first={index == 0}", f"{kind}:mag={_bucket(value)}",
    ]
    if not raw[0].isdigit():
        f.append("words")
    if "." in raw or "·" in raw:
        f.append("decimal")
    f += [f"w-{k}={w}" for k, w in enumerate(reversed(before), 1)]
    f += [f"w+{k}={w}" for k, w in enumerate(after, 1)]
    f += [f"{kind}:w-1={before[-1] if before else '^'}", f"{kind}:w+1={after[0] if after else '$'}"]
    f.append("bi-=" + "_".join(before[-2:]))
    f.append("bi+=" + "_".join(after[:2]))
    head = sentence[:start]
    depth = head.count("(") + head.count("[") - head.count(")") - head.count("]")
    if depth > 0:
        f.append("in-paren")
    if start == 0 or not head.strip():
        f.append("starts")
    f += [f"{kind}:{name}" for name, pattern in _AFTER if pattern.match(sentence, end)]
    f += [f"{kind}:{name}" for name, pattern in _BEFORE if pattern.search(before_text)]
    clause = re.split(r"[;:]", sentence[:start])[-1] + re.split(r"[;:]", sentence[end:], maxsplit=1)[0]
    for name, pattern in _CUES:
        if pattern.search(clause):
            f.append(f"cue={name}")
        elif pattern.search(sentence):
            f.append(f"cue~={name}")
    near_after = re.split(r"[;.]", sentence[end : end + 70], maxsplit=1)[0]
    near_before = re.split(r"[;.]", before_text)[-1]
    for where, text in (("after", near_after), ("before", near_before)):
        if _names(text, arms):
            f.append(f"arm-{where}")
        if _CONTROL.search(text):
            f.append(f"control-{where}")
    named = _names(sentence, arms) + bool(_CONTROL.search(sentence))
    f.append(f"arms-named={min(named, 2)}")
    found = candidates(sentence)
    same = sum(1 for c in found if c.kind == kind)
    f.append(f"{kind}:many={min(same, 5)}")
    f.append(f"{kind}:order={min(sum(1 for c in found if c.kind == kind and c.start < start), 3)}")
    return f


def label(start: int, end: int, gold: list[tuple[int, int]]) -> str:
    """The training label of a number at ``start:end`` given the gold value spans of its kind."""
    return LABEL_VALUE if any(start < ge and end > gs for gs, ge in gold) else LABEL_OTHER


# --- the model -----------------------------------------------------------------------------------


_MODEL = ShippedCrf(MODEL, what="value-gate")


def found_by() -> str:
    """How a number the gate let through was found, for ``found_by`` ("model:valuegate-1")."""
    return f"model:{NAME}-{_MODEL.card()['version']}"


def threshold() -> float:
    """Below this probability a number is not stated (chosen out of fold on train; the card)."""
    return float(_MODEL.card()["threshold"])


def probability(feats: list[str]) -> float:
    """The probability that a number with features ``feats`` is a result value of its kind."""
    tagger = _MODEL.tagger()
    tagger.set([feats])
    return float(tagger.marginal(LABEL_VALUE, 0))


@dataclass(frozen=True)
class Judged:
    """A number the gate reads: its kind and value, the outcome's span, where in the abstract the
    value is first printed inside that span and its features (both ``None`` when it is not printed
    there, so there is nothing to judge it by and it is not stated)."""

    kind: str
    value: Decimal | int
    span: Span
    place: tuple[int, int] | None
    features: list[str] | None


def judge(
    span: Span, sentences: list[Sentence], index: int, *, value: Decimal | int, kind: str, arms: tuple[str, ...] = ()
) -> Judged:
    """Where ``value`` (a ``count`` or a ``percent``) is first printed inside ``span`` (in sentence
    ``index``) and its features there: one reading for the trainer and for :func:`gate`."""
    s = sentences[index]
    hits = places(span.quote, value, percent=kind == PERCENT)
    if not hits:
        return Judged(kind, value, span, None, None)
    a, b = hits[0]
    start = span.start - s.start + a
    feats = features(s.quote, start, start + (b - a), kind, role=s.role, index=index, total=len(sentences), arms=arms)
    return Judged(kind, value, span, (span.start + a, span.start + b), feats)


_recording: contextvars.ContextVar[list[Judged] | None] = contextvars.ContextVar("valuegate", default=None)


@contextmanager
def recording() -> Iterator[list[Judged]]:
    """Within this block the gate keeps every number and records each one it would have judged:
    what the trainer reads (the rules' numbers as inference sees them, the model not needed)."""
    seen: list[Judged] = []
    token = _recording.set(seen)
    try:
        yield seen
    finally:
        _recording.reset(token)


def gate(
    span: Span, sentences: list[Sentence], index: int, *, count: int | None, percentage: Decimal | None,
    arms: Iterable[Intervention], comparative: bool,
) -> tuple[int | None, Decimal | None, bool]:
    """The count and percentage kg states for the outcome at ``span`` in sentence ``index``
    (``None`` for one the gate turns down: not printed in the span, or scored under the card's
    threshold) and whether the gate judged any. The corpus it learned from marks the values of a
    trial's arms, so it judges only where the study compares arms (``comparative``)."""
    if not comparative or (count is None and percentage is None):
        return count, percentage, False
    names = arm_words(arms)
    seen = _recording.get()

    def keep(kind: str, value: Decimal | int) -> bool:
        judged = judge(span, sentences, index, value=value, kind=kind, arms=names)
        if seen is not None:
            seen.append(judged)
            return True
        return judged.features is not None and probability(judged.features) >= threshold()

    if count is not None and not keep(COUNT, count):
        count = None
    if percentage is not None and not keep(PERCENT, percentage):
        percentage = None
    return count, percentage, seen is None


__all__ = [
    "CARD", "COUNT", "MODEL", "PERCENT", "Candidate", "Judged", "arm_words", "candidates", "features",
    "found_by", "gate", "judge", "label", "places", "printed", "probability", "recording", "threshold",
]

"""The study's sample size: a learned choice among the integers an abstract prints.

Exact rules find the candidates (every integer: "1,234", "Seventy-seven", "Two hundred and
forty-one"); a CRFsuite maximum-entropy model (each candidate a one-item sequence) scores each one
from its context, and :func:`pick` chooses among the best-scoring ones, above the card's threshold. The
features and labels are defined here, once, for the trainer (``kg.extract.train.sample``) and for
inference; the model ships as ``kg/data/sample_size.crfsuite`` with a card
(``sample_size.json``: data, split, metrics, sha256) whose checksum the loader verifies.

>>> [c.value for c in candidates("Two hundred and forty-one women received four cycles (n = 1,234).")]
[241, 4, 1234]
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from kg.extract import numbers as num
from kg.extract.shipped import ShippedCrf
from kg.extract.text import Sentence
from kg.models import Span

MODEL = Path(__file__).resolve().parent.parent / "data" / "sample_size.crfsuite"
CARD = MODEL.with_suffix(".json")
LABEL_N, LABEL_O = "N", "O"  # the study's sample size / any other number

_CANDIDATE = re.compile(rf"(?<![\w.,/·-])(?=[\dzotfsenZOTFSEN])(?:{num.INTEGER})(?![\w-]|[.,·]\d)")
# the words just before a candidate: (feature, pattern, strings one of which the text must hold
# for the pattern to match: a cheap test that spares most searches)
_TAIL = (
    ("paren", re.compile(r"[(\[]\s*$"), ("(", "[")),
    ("n=", re.compile(r"\bn\s*=\s*$"), ("=",)),
    ("total", re.compile(r"\b(?:a total of|total of|overall|in total|all)\s*$"), ("total", "all")),
    ("of", re.compile(r"\b(?:of|among|from)\s+(?:the\s+|all\s+|these\s+)?$"), ("of", "among", "from")),
    ("range", re.compile(r"(?:[-–]|\bto|\bfrom|\bbetween)\s*$"), ("-", "–", "to", "from", "between")),
    (
        "stat",
        re.compile(r"(?:aged?|age)\b[^.;]{0,15}$|[<>≤≥]\s*$|\bp\s*[=<>]\s*$"),
        ("age", "<", ">", "≤", "≥", "="),
    ),
)
_PART = re.compile(r"\s*(?:/|of|out of)\s*\d")
_RANGE_AFTER = re.compile(r"\s*(?:[-–]|to)\s*\d")
_WORD = re.compile(r"[a-z]+|\(|\)|=|%|\d[\d,]*|[;:]")
_PEOPLE = re.compile(
    r"(?:patients?|participants?|subjects?|women|men|woman|survivors?|cases?|individuals?|persons?|"
    r"people|volunteers?|adults?|children|girls|boys|mothers|pairs|couples|controls|"
    r"respondents|nurses|physicians|families|dyads|eligible|evaluable|assessable)"
)
_NON_PEOPLE = re.compile(
    r"(?:cycles?|courses?|doses?|months?|weeks?|days?|years?|yrs?|hours?|h|min|minutes?|mg|g|kg|"
    r"ml|gy|cgy|mm|cm|mmol|sessions?|times|fractions?|centers?|centres?|sites?|hospitals?|"
    r"institutions?|countries|trials?|studies|arms?|groups?|lesions?|tumou?rs?|nodes?|items?|"
    r"questions?|points?|samples?|specimens?|events?|deaths?|breasts?|visits?|injections?)"
)
_KINDS = (
    ("randomized", re.compile(r"randomi[sz]|randomly|allocated|assigned", re.I)),
    ("enrolled", re.compile(r"enrol|recruit|accru|includ|entered|register|eligible|participat", re.I)),
    ("analysed", re.compile(r"analy[sz]|evaluable|assessable|evaluated|completed|available", re.I)),
)
_KIND_NEEDLES = {  # in lower case, one of which a cue must hold
    "randomized": ("random", "allocated", "assigned"),
    "enrolled": ("enrol", "recruit", "accru", "includ", "entered", "register", "eligible", "participat"),
    "analysed": ("analy", "evaluable", "assessable", "evaluated", "completed", "available"),
}


@dataclass(frozen=True)
class Candidate:
    """An integer printed in a sentence: its value and offsets inside the sentence's quote."""

    value: int
    start: int
    end: int


_NOT_A_COUNT = re.compile(
    r"\s*(?:%|percent|per ?cent|mg|g|kg|ml|mL|l|gy|Gy|cGy|cm|mm|µg|μg|mmol|IU|years?|yrs?|months?|"
    r"mo|weeks?|wks?|days?|d|hours?|h|hrs?|min|minutes?|times)(?![\w/])",
)
_STAT_BEFORE = re.compile(r"(?:[<>≤≥±]|\b(?:[pP]|OR|HR|RR|r)\s*=)\s*$")


def candidates(text: str) -> list[Candidate]:
    """Every integer mention of ``text`` (digits with commas, number words) that can count
    people: not a percentage, a dose, a duration or a statistic's value; in order."""
    out = []
    for m in _CANDIDATE.finditer(text):
        if _NOT_A_COUNT.match(text, m.end()) or _STAT_BEFORE.search(text, max(0, m.start() - 6), m.start()):
            continue
        value = num.to_int(m.group(0))
        if value is not None:
            out.append(Candidate(value=value, start=m.start(), end=m.end()))
    return out


KINDS = ("randomized", "enrolled", "analysed")


def kind(sentence: str, start: int, end: int) -> str | None:
    """Which count the number at ``sentence[start:end]`` is: randomized, enrolled or analysed,
    from the cue of its clause (after it, asides in parentheses skipped; else before it).

    >>> kind("A total of 2471 women (tamoxifen 1238, placebo 1233) were analysed.", 11, 15)
    'analysed'
    >>> kind("We randomly assigned 2972 women, aged 30-70 years.", 21, 25)
    'randomized'
    >>> kind("Of 300 randomized patients, 280 were analysed.", 28, 31)
    'analysed'
    """
    after = re.split(r"[,;:.]", re.sub(r"\([^()]*\)", " ", sentence[end:]), maxsplit=1)[0]
    before = re.split(r"[,;:]", sentence[:start])[-1]
    for part in (after, before):
        for name, pattern in _KINDS:
            if pattern.search(part):
                return name
    return None


def _cues(sentence: str) -> list[str]:
    """The kinds of count a sentence's words cue ("cue=randomized"…)."""
    low = sentence.lower()
    return [
        f"cue={name}"
        for name, pattern in _KINDS
        if any(map(low.__contains__, _KIND_NEEDLES[name])) and pattern.search(sentence)
    ]


def _bucket(value: int) -> str:
    return "0" if value <= 0 else str(min(int(math.log10(value) * 2), 9))


def features(sentences: list[Sentence]) -> list[tuple[int, Candidate, list[str]]]:
    """(sentence index, candidate, features) for every candidate of an abstract."""
    found = [(i, c) for i, s in enumerate(sentences) for c in candidates(s.quote)]
    people = [_people_noun(sentences[i].quote, c) for i, c in found]
    values = sorted({c.value for (_, c), p in zip(found, people, strict=True) if p}, reverse=True)
    rank = {v: k for k, v in enumerate(values)}
    first = next((k for k, p in enumerate(people) if p), None)
    total = len(sentences)
    out = []
    per_sentence: dict[int, list[int]] = {}
    for i, c in found:
        per_sentence.setdefault(i, []).append(c.value)
    sums = {i: {a + b for k, a in enumerate(v) for b in v[k + 1 :]} for i, v in per_sentence.items()}
    cues = {i: _cues(sentences[i].quote) for i in per_sentence}
    for k, (i, c) in enumerate(found):
        s = sentences[i].quote
        low_before = s[max(0, c.start - 60) : c.start].lower()
        low_after = s[c.end : c.end + 60].lower()
        before = _WORD.findall(low_before)[-4:]
        after = _WORD.findall(low_after)[:5]
        f = ["b", f"role={sentences[i].role}", f"sent={min(i, 6)}", f"rel={(4 * i) // max(total, 1)}",
             f"mag={_bucket(c.value)}"]
        if people[k]:
            f.append(f"rank={min(rank[c.value], 3)}")
            if k == first:
                f.append("first-people")
        f += [f"w-{k}={w}" for k, w in enumerate(reversed(before), 1)]
        f += [f"w+{k}={w}" for k, w in enumerate(after[:3], 1)]
        f.append("bi-=" + "_".join(before[-2:]))
        f.append("bi+=" + "_".join(after[:2]))
        alpha_after = [w for w in after if w.isalpha()]
        noun = next((w for w in alpha_after[:4] if _PEOPLE.fullmatch(w) or _NON_PEOPLE.fullmatch(w)), None)
        if noun:
            f.append("noun=" + ("people" if _PEOPLE.fullmatch(noun) else noun))
        if alpha_after and _NON_PEOPLE.fullmatch(alpha_after[0]):
            f.append("unit")
        if low_after.lstrip().startswith("%") or low_after.startswith(" percent"):
            f.append("pct")
        if _is_year(c.value) and not noun:
            f.append("year")
        if c.start == 0 or s[: c.start].strip() == "":
            f.append("starts")
        if not s[c.start].isdigit():
            f.append("words")
        tail = low_before[-24:]
        f += [name for name, pattern, needles in _TAIL
              if any(map(tail.__contains__, needles)) and pattern.search(tail)]
        if _PART.match(low_after):
            f.append("part")
        if _RANGE_AFTER.match(low_after):
            f.append("range+")
        f += cues[i]
        head = low_after[:50]
        for name, pattern in _KINDS:
            needles = _KIND_NEEDLES[name]
            if any(map(head.__contains__, needles)) and pattern.search(head):
                f.append(f"cue+={name}")
            if any(map(tail.__contains__, needles)) and pattern.search(tail):
                f.append(f"cue-={name}")
        others = per_sentence[i]
        if c.value in sums[i]:
            f.append("sum-of-others")
        if any(c.value + a in others for a in others if a != c.value):
            f.append("part-of-other")
        out.append((i, c, f))
    return out


def _people_noun(text: str, c: Candidate) -> bool:
    """A people noun follows within four words, with no unit or percent first."""
    for w in _WORD.findall(text[c.end : c.end + 50].lower())[:4]:
        if _PEOPLE.fullmatch(w):
            return True
        if _NON_PEOPLE.fullmatch(w) or w in ("%", "percent", ")", ";", ":"):
            return False
    return False


def _is_year(value: int) -> bool:
    return 1950 <= value <= 2035


def label(start: int, end: int, gold: list[tuple[int, int]]) -> str:
    """The training label of a candidate at ``start:end`` given gold sample-size spans."""
    return LABEL_N if any(start < ge and end > gs for gs, ge in gold) else LABEL_O


_MODEL = ShippedCrf(MODEL, what="sample-size")


def scores(sentences: list[Sentence]) -> list[tuple[int, Candidate, float]]:
    """(sentence index, candidate, probability that it is the study's N)."""
    tagger = _MODEL.tagger()
    out = []
    for i, c, f in features(sentences):
        tagger.set([f])
        out.append((i, c, float(tagger.marginal(LABEL_N, 0))))
    return out


_NOUN_AFTER = re.compile(
    rf"\s+(?:[A-Za-z][\w'-]*\s+){{0,3}}?{_PEOPLE.pattern}\b", re.I
)


def threshold() -> float:
    """Below this probability no candidate is the sample size (chosen on train folds; the card)."""
    _MODEL.tagger()
    return float(_MODEL.card()["threshold"])


def pick(probabilities: list[float], *, prefer: float = 1.0) -> int | None:
    """Which candidate is the N: the earliest one scoring at least ``prefer`` times the best.
    Abstracts give the randomized (or enrolled) N before the analysed one, so ``prefer`` < 1
    sends close scores to the first of them; the card's value was chosen on train folds."""
    if not probabilities:
        return None
    best = max(probabilities)
    return next(k for k, p in enumerate(probabilities) if p >= prefer * best)


def choose(sentences: list[Sentence]) -> tuple[int, Span, str | None] | None:
    """The study's N, its span ("131 patients") and which count it is, or None."""
    scored = scores(sentences)
    k = pick([p for _, _, p in scored], prefer=float(_MODEL.card().get("prefer", 1.0)))
    if k is None or scored[k][2] < threshold():
        return None
    i, c, _ = scored[k]
    s = sentences[i]
    end = c.end
    m = _NOUN_AFTER.match(s.quote, c.end)
    if m:
        end = m.end()
    span = Span(start=s.start + c.start, end=s.start + end, quote=s.quote[c.start : end],
                section=s.span.section)
    return c.value, span, kind(s.quote, c.start, c.end)


__all__ = ["CARD", "KINDS", "MODEL", "Candidate", "candidates", "choose", "features", "kind", "label", "pick", "scores", "threshold"]

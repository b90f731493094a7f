"""Numbers as abstracts write them: words, percentages, n/N, mean ± SD, median (IQR), ranges,
95% CI, p-values, OR/RR/HR, times with units, grades.

Values are ``Decimal`` built from the digits as printed, so the graph states exactly the
number in the text ("4.8" stays 4.8, never 4.7999…).

>>> word_number("Nineteen"), word_number("twenty-one"), word_number("a")
(19, 21, None)
>>> to_decimal("1,234"), to_decimal(".05"), to_decimal("6·2")
(Decimal('1234'), Decimal('0.05'), Decimal('6.2'))
>>> p_value("difference was significant (P<.05)")
('<', Decimal('0.05'))
>>> p_value("(p=<0.0001)"), p_value("P < 10(-4)"), p_value("P = 1.2 x 10-5")
(('≤', Decimal('0.0001')), None, ('=', Decimal('0.000012')))
>>> effect_with_ci("hazard ratio [HR], 0.81; 95% CI, 0.65 to 1.00; P = .044")
('HR', Decimal('0.81'), (Decimal('95'), Decimal('0.65'), Decimal('1.00')))
>>> confidence_interval("OR 2.1 (95% CI, 1.2-3.4)")
(Decimal('95'), Decimal('1.2'), Decimal('3.4'))
>>> effect_size("hazard ratio 0.72 (95% CI 0.6-0.9)")
('HR', Decimal('0.72'))
>>> mean_sd("mean age 54.2 ± 11.3 years")
(Decimal('54.2'), Decimal('11.3'))
>>> median_iqr("median 12 (IQR 8-15) days")
(Decimal('12'), Decimal('8'), Decimal('15'))
>>> value_range("4.8 (range 1-15)")
(Decimal('1'), Decimal('15'))
>>> time_value("a median time of 6.2 months after")
(Decimal('6.2'), 'month')
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_BELOW_100 = (
    r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ](?:one|two|three|four|"
    r"five|six|seven|eight|nine)(?![\w-]))?|zero|one|two|three|four|five|six|seven|eight|nine|"
    r"ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)"
)
_BELOW_1000 = rf"(?:{_BELOW_100}(?:[- ]hundred(?:(?:[- ]and)?[- ]{_BELOW_100})?)?)"
# "Nineteen", "twenty-one", "Two hundred and forty-one", "one thousand two hundred", "3 thousand"
WORD_NUMBER = (
    rf"(?:{_BELOW_1000}(?:[- ]thousand(?:,?(?:[- ]and)?[- ]{_BELOW_1000})?)?)"
)
NUM = r"(?:\d{1,3}(?:,\d{3})+(?!\d)|\d*[.·]\d+|\d+)"
INTEGER = rf"(?:\d{{1,3}}(?:(?:,|[\u2008\u2009\u202f])\d{{3}})+(?![\d.])|\d+(?![\d.·])|(?i:{WORD_NUMBER})\b)"
_DASH = r"\s*(?:-|–|—|to)\s*"


def word_number(text: str) -> int | None:
    """An integer written in words, up to the thousands, or None.

    >>> word_number("Two hundred and forty-one"), word_number("one thousand, two hundred")
    (241, 1200)
    >>> word_number("Three hundred eighty-two"), word_number("hundred"), word_number("and")
    (382, None, None)
    """
    words = [w for w in re.split(r"[-\s,]+", text.strip().lower()) if w]
    if not words or words[0] == "and" or words[-1] == "and":
        return None
    total = current = 0
    last = ""
    for w in words:
        if w in _UNITS:
            if last in _UNITS or (last in _TENS and _UNITS[w] >= 10):
                return None
            current += _UNITS[w]
        elif w in _TENS:
            if last in _UNITS or last in _TENS:
                return None
            current += _TENS[w]
        elif w == "hundred" and 0 < current < 100:
            current *= 100
        elif w == "thousand" and 0 < current < 1000 and not total:
            total, current = current * 1000, 0
        elif w == "and" and last in ("hundred", "thousand"):
            pass
        else:
            return None
        last = w
    return total + current


def to_int(text: str) -> int | None:
    """An integer from digits ("1,234") or words ("Nineteen")."""
    if text.isdigit():  # most are plain digits
        return int(text)
    t = re.sub(r"[,\u2008\u2009\u202f]", "", text.strip())
    if t.isdigit():
        return int(t)
    return word_number(t)


def to_decimal(text: str) -> Decimal | None:
    t = text.strip().replace(",", "").replace("·", ".").replace("−", "-")
    if t.startswith("."):
        t = "0" + t
    try:
        return Decimal(t)
    except InvalidOperation:
        return None


def decimals(value: Decimal) -> int:
    """Digits after the point as printed: 52.6 → 1, 70 → 0."""
    exp = value.as_tuple().exponent
    return -exp if isinstance(exp, int) and exp < 0 else 0


def percentage_allows(count: int, denominator: int, percentage: Decimal) -> bool:
    """True when ``count/denominator`` rounds to ``percentage`` at its printed precision."""
    if denominator <= 0:
        return False
    half = Decimal(5) / (Decimal(10) ** (decimals(percentage) + 1))
    exact = Decimal(100 * count) / Decimal(denominator)
    return abs(exact - percentage) <= half + Decimal("1e-9")


def denominators_for(count: int, percentage: Decimal, *, limit: int = 1_000_000) -> list[int]:
    """Every whole denominator ≥ ``count`` that the printed percentage allows.

    >>> denominators_for(10, Decimal(53)), denominators_for(19, Decimal(70))
    ([19], [27])
    >>> len(denominators_for(1, Decimal(5))) > 1
    True
    """
    if percentage <= 0 or count <= 0:
        return []
    half = Decimal(5) / (Decimal(10) ** (decimals(percentage) + 1))
    low = int(Decimal(100 * count) / (percentage + half))
    high_p = percentage - half
    high = int(Decimal(100 * count) / high_p) + 1 if high_p > 0 else limit
    return [
        d
        for d in range(max(low, count, 1), min(high, limit) + 1)
        if percentage_allows(count, d, percentage)
    ]


_P = re.compile(
    rf"\b[Pp](?:\s*-?\s*values?)?\s*(<=|>=|=<|=>|≤|≥|<|>|=)\s*"
    rf"({NUM}(?:\s*[x×]\s*10\s*(?:[-−]|\^\s*[-−]?|\(\s*[-−])\s*\d+\)?)?)"
)


def p_value(text: str) -> tuple[str, Decimal] | None:
    m = _P.search(text)
    if not m:
        return None
    op = {"<=": "≤", ">=": "≥", "=<": "≤", "=>": "≥"}.get(m.group(1), m.group(1))
    raw = m.group(2)
    sci = re.match(r"(.+?)\s*[x×]\s*10\s*(?:[-−]|\^\s*[-−]|\(\s*[-−])\s*(\d+)\)?$", raw)
    if sci:
        base = to_decimal(sci.group(1))
        value = base * Decimal(10) ** -int(sci.group(2)) if base is not None else None
    else:
        if re.match(r"\s*\(\s*[-−]|\s*[-−]\s*\d", text[m.end() :]):
            return None  # "P < 10(-4)": an exponent the rule does not read
        value = to_decimal(raw)
    # a probability is never above 1: "P = 12" is not a p-value
    return (op, value) if value is not None and value <= 1 else None


_CI = re.compile(
    rf"({NUM})\s*%\s*(?:CI|C\.I\.|confidence intervals?(?:\s*[\[(]CI[\])])?)\s*(?:[,:=]|of|was)?\s*[\[(]?\s*"
    rf"(-?\s?{NUM}){_DASH}(-?\s?{NUM})",
    re.I,
)


def confidence_interval(text: str) -> tuple[Decimal, Decimal, Decimal] | None:
    m = _CI.search(text)
    if not m:
        return None
    level, lo, hi = (to_decimal(g.replace(" ", "")) for g in m.groups())
    if level is None or lo is None or hi is None or lo > hi:
        return None
    return level, lo, hi


_EFFECT_NAMES = {
    "odds ratio": "OR",
    "hazard ratio": "HR",
    "relative risk": "RR",
    "risk ratio": "RR",
    "incidence rate ratio": "IRR",
    "rate ratio": "RR",
    "mean difference": "MD",
}
_EFFECT = re.compile(
    rf"\b(a?OR|a?HR|a?RR|IRR|MD|(?:adjusted\s+)?(?:odds ratio|hazard ratio|relative risk|risk ratio|"
    rf"incidence rate ratio|rate ratio|mean difference))s?\b\s*(?:[(\[][A-Za-z]+[)\]]\s*)?"
    rf"(?:[=:,]|of|was|were|is)?\s*(-?{NUM})(?!\s*%)"
)


def effect_size(text: str) -> tuple[str, Decimal] | None:
    m = _EFFECT.search(text)
    if not m:
        return None
    name = re.sub(r"^adjusted\s+", "", m.group(1).lower())
    measure = _EFFECT_NAMES.get(name) or m.group(1).lstrip("a").upper()
    value = to_decimal(m.group(2))
    return (measure, value) if value is not None else None


def effect_with_ci(text: str) -> tuple[str, Decimal, tuple[Decimal, Decimal, Decimal] | None] | None:
    """An effect size and the confidence interval printed right after it (not another number's).

    >>> effect_with_ci("70% [95% CI 50-83] vs 44%; hazard ratio 0·36, 95% CI 0·17-0·75; p=0·004")
    ('HR', Decimal('0.36'), (Decimal('95'), Decimal('0.17'), Decimal('0.75')))
    """
    m = _EFFECT.search(text)
    if not m:
        return None
    found = effect_size(text[m.start():])
    if found is None:
        return None
    return found[0], found[1], confidence_interval(text[m.end():m.end() + 60])


_MEAN_SD = re.compile(rf"({NUM})\s*(?:±|\+/-|\+-|\+/−)\s*({NUM})")


def mean_sd(text: str) -> tuple[Decimal, Decimal] | None:
    m = _MEAN_SD.search(text)
    if not m:
        return None
    a, b = to_decimal(m.group(1)), to_decimal(m.group(2))
    return (a, b) if a is not None and b is not None else None


_MEDIAN_IQR = re.compile(
    rf"\bmedian\b[^.;()]{{0,40}}?({NUM})[^.;()\d]{{0,20}}[(\[,]\s*(?:IQR|interquartile range)\s*[:,=]?\s*"
    rf"({NUM}){_DASH}({NUM})",
    re.I,
)


def median_iqr(text: str) -> tuple[Decimal, Decimal, Decimal] | None:
    m = _MEDIAN_IQR.search(text)
    if not m:
        return None
    med, lo, hi = (to_decimal(g) for g in m.groups())
    if med is None or lo is None or hi is None or not lo <= hi:
        return None
    return med, lo, hi


_RANGE = re.compile(rf"\brange\s*[:,=]?\s*(?:from\s+)?({NUM}){_DASH}({NUM})", re.I)


def value_range(text: str) -> tuple[Decimal, Decimal] | None:
    m = _RANGE.search(text)
    if not m:
        return None
    lo, hi = to_decimal(m.group(1)), to_decimal(m.group(2))
    if lo is None or hi is None or lo > hi:
        return None
    return lo, hi


_UNIT = {
    "month": "month",
    "months": "month",
    "mo": "month",
    "mos": "month",
    "week": "week",
    "weeks": "week",
    "wk": "week",
    "wks": "week",
    "day": "day",
    "days": "day",
    "d": "day",
    "year": "year",
    "years": "year",
    "yr": "year",
    "yrs": "year",
    "y": "year",
    "hour": "hour",
    "hours": "hour",
    "h": "hour",
    "hr": "hour",
    "hrs": "hour",
    "minute": "minute",
    "minutes": "minute",
    "min": "minute",
}
_TIME = re.compile(
    rf"({NUM})\s*(months?|mos?|weeks?|wks?|days?|years?|yrs?|hours?|hrs?|minutes?|min)\b", re.I
)


def time_value(text: str) -> tuple[Decimal, str] | None:
    m = _TIME.search(text)
    if not m:
        return None
    value = to_decimal(m.group(1))
    return (value, _UNIT[m.group(2).lower()]) if value is not None else None


_GRADE = re.compile(r"\bgrades?\s*(I{1,3}V?|IV|V|[0-5])\b(?!\s*(?:-|–|to|or|and)\s*(?:I|[0-5]))")
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}


def grade(text: str) -> int | None:
    """A single adverse-event grade ("grade 3", "grade III"); a span of grades gives None."""
    m = _GRADE.search(text)
    if not m:
        return None
    g = m.group(1)
    return int(g) if g.isdigit() else _ROMAN.get(g)


# UCUM codes for the time units above (used in the graph next to the unit's word)
UCUM = {"month": "mo", "week": "wk", "day": "d", "year": "a", "hour": "h", "minute": "min"}

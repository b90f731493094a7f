"""Outcomes stated as statistics rather than counts of patients.

- two arms side by side: "primary outcome (44.1% vs 52.9%; P=.04)",
  "16.2% of DC patients versus 8.8% of VC patients (P = .03)", "46% for DC versus 40% for VC";
- a mean with its SD: "mean VAS of 27.6+/-23.8", "followed up for an average of 24.20±5.40 months";
- a median: "The median time for first relapse was 8 months", "median survival time ... 11.3 v 10.1".

Each finding is the words of the outcome (with offsets inside the sentence), the numbers, and,
for side-by-side values, which side ("a" first, "b" second) — a comparison's p-value, effect and
CI are a finding of their own, so that no per-arm number is mixed with a between-arm one.

>>> [(f.label, f.values) for f in find("Febrile neutropenia occurred in 16.2% of DC patients versus 8.8% of VC patients (P = .03).")]
... # doctest: +NORMALIZE_WHITESPACE
[('Febrile neutropenia', {'percentage': Decimal('16.2')}), ('Febrile neutropenia', {'percentage': Decimal('8.8')}),
 ('Febrile neutropenia', {'p_operator': '=', 'p_value': Decimal('0.03')})]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kg.extract import numbers as num

N = num.NUM
_VS = r"\s*(?:vs\.?|v\.?|versus|compared with|and)\s*"
_LABEL_LEAD = re.compile(
    r"^(?:(?:in|for|among|within|at)\s+(?:the\s+)?[^,]*,\s*)?(?:the\s+|a\s+|an\s+|overall,?\s+)?", re.I
)
_PASSIVE_TAIL = re.compile(
    r"\s+(?:was|were|is|are)?\s*(?:more|less)?\s*(?:frequent|common|observed|seen|found|noted|reported|"
    r"occurred|developed|detected|present|recorded|achieved|significantly|similar)?\s*(?:in|for|among|by)?\s*"
    r"(?:the\s+)?(?:(?:[A-Za-z/-]+\s+)?(?:arm|group|groups|patients)\b|both arms)?\s*$",
    re.I,
)

# "label (a% v b%; P = .0018)" and "label (a v b months; HR, 0.81; 95% CI, 0.65 to 1.00; P = .044)"
_ARM_WORDS = r"(?:\s+(?:for|in|with|on)\s+(?:the\s+)?[\w/+-]+(?:\s+(?:arm|group))?)?"
_PAIR_PAREN = re.compile(
    rf"\(\s*(?P<a>{N})\s*(?P<ua>%|[a-zμ]+)?{_ARM_WORDS}{_VS}(?P<b>{N})\s*(?P<ub>%|months?|weeks?|days?|years?|[a-zμ]+)?{_ARM_WORDS}"
    rf"(?P<rest>[^()]*(?:\([^()]*\)[^()]*)*)\)",
    re.I,
)
# "16.2% of DC patients versus 8.8% of VC patients", "46% for DC versus 40% for VC"
_PAIR_ARMS = re.compile(
    rf"(?P<a>{N})\s*%\s+(?:for|in|of|with)\s+(?:the\s+)?(?P<arm_a>[\w/+-]+(?:\s+[\w/+-]+){{0,3}}?)"
    rf"(?:\s+(?:patients|group|arm))?\s*,?\s*(?:vs\.?|v\.?|versus|compared with|and)\s+"
    rf"(?:only\s+)?(?P<b>{N})\s*%\s+(?:for|in|of|with)\s+(?:the\s+)?(?P<arm_b>[\w/+-]+(?:\s+[\w/+-]+){{0,3}}?)"
    rf"(?:\s+(?:patients|group|arm))?(?=[\s.,;)]|$)",
    re.I,
)
_PEOPLE = r"(?:patients|participants|subjects|women|men|children|adults|infants|cases|individuals)"
# "29.7% of the patients receiving ofloxacin", "in 5% of the ofloxacin patients"
_PCT_OF = re.compile(
    rf"(?<![\w.])(?P<pct>{N})\s*%\s+of\s+(?:the\s+|all\s+)?(?P<arm>(?:[\w/+-]+\s+){{0,3}}?){_PEOPLE}\b"
    rf"(?:\s+(?:receiving|treated with|given|on|taking)\s+(?P<arm2>[\w/+-]+(?:\s+[\w/+-]+)?))?",
    re.I,
)
# "11% improved, 64% remained stable, and 17% died"
_PCT_VERB = re.compile(
    rf"(?<![\w.])(?P<pct>{N})\s*%\s+(?P<verb>improved|died|relapsed|responded|recovered|remained stable|"
    rf"progressed|survived|failed|healed|recurred)\b",
    re.I,
)
# "The clinical cure rate for patients receiving ofloxacin was 93.3%"
_RATE_IS = re.compile(
    rf"(?P<label>\b[A-Za-z][\w/ -]*?\b(?:rate|rates|proportion|percentage|incidence|prevalence)\b[^,;:()]*?)"
    rf"\s+(?:was|were)\s+(?P<pct>{N})\s*%",
    re.I,
)
# a minus sign is the mean's own where no word, digit or bracket closes right before it ("-0.3 ±
# 0.8", "(−20.3±20.5 ms"), not a range's dash ("10-12 ± 2")
_MEAN_SD = re.compile(rf"(?:(?<![\w.)\]])(?P<neg>[-−–]))?(?P<m>{N})\s*(?:±|\+/-|\+-)\s*(?P<sd>{N})")
_MEDIAN_IS = re.compile(
    rf"\bmedian\s+(?P<what>[^.;,()]{{2,60}}?)\s+(?:was|were|of|=|:)\s+(?P<v>{N})\s*(?P<unit>months?|weeks?|days?|years?|hours?)?\b(?!\s*(?:%|v\b|vs))",
    re.I,
)


_NOT_A_LABEL = re.compile(r"^(?:but|whereas|while|and|or)\b|\b(?:superior|inferior|than|similar|compared)\b", re.I)


@dataclass
class Finding:
    label: str
    start: int  # offsets of the whole finding inside the sentence
    end: int
    values: dict[str, object] = field(default_factory=dict)
    side: str | None = None  # "a", "b" for side-by-side values; None for a comparison or single value
    arm_words: str | None = None


_VERB_FIRST = re.compile(r"\s*(?:was|were|is|are)\b", re.I)
_RELATIVE = re.compile(r"\s*(?:which|who)\b", re.I)


def _boundary(head: str, end: int) -> int:
    """Where the clause that ends at ``end`` begins: the last ",", ";", ":", ")" or "and"
    before it (-1: the sentence's start)."""
    cut = max(head.rfind(",", 0, end), head.rfind(";", 0, end), head.rfind(":", 0, end), head.rfind(")", 0, end))
    m_and = list(re.finditer(r"\band\b|\bas was\b|\bas were\b", head[:end]))
    if m_and and m_and[-1].end() > cut:
        cut = m_and[-1].end() - 1
    return cut


def _label_before(sentence: str, pos: int) -> tuple[str, int] | None:
    """The outcome's words before ``pos``: back to the previous clause boundary."""
    head = sentence[:pos]
    cut = _boundary(head, len(head))
    for _ in range(2):
        # "The rate of leucopenia (grade 4) was 47.1% …", "Loss of hair, which was a quality of
        # life measure, was significantly lower …": the clause begins with its verb, so the
        # bracket or the relative clause before it is inside the subject: go back past it
        if cut < 0 or not _VERB_FIRST.match(head, cut + 1):
            break
        if head[cut] == ")":
            opened = head.rfind("(", 0, cut)
            if opened < 0:
                break
            cut = _boundary(head, opened)
        elif head[cut] == "," and _RELATIVE.match(head, _boundary(head, cut) + 1):
            cut = _boundary(head, _boundary(head, cut))
        else:
            break
    start = cut + 1
    words = head[start:]
    lead = _LABEL_LEAD.match(words.lstrip())
    offset = start + (len(words) - len(words.lstrip())) + (lead.end() if lead else 0)
    label = head[offset:]
    label = _PASSIVE_TAIL.sub("", label).strip()
    subject = re.split(r"\s+(?:was|were|is|are)\s+(?:significantly\s+|not\s+)?(?:longer|shorter|higher|lower|"
                       r"greater|smaller|more|less|better|worse|similar|comparable|(?:un)?common|rare|(?:in)?frequent|"
                       r"increased|decreased|reduced|elevated|improved|unchanged|observed|seen|found|noted|"
                       r"present|detected|reported|achieved)\b", label, maxsplit=1)
    label = re.split(r",\s*(?:which|who)\b", subject[0], maxsplit=1)[0].strip()
    if not re.search(r"[A-Za-z]{3}", label) or len(label) > 120 or re.match(r"^\d(?!\d*[-‑–\s](?:year|month|week|day))", label):
        return None
    return label, offset


_CONJUNCTION = re.compile(r"^(?:but|whereas|while|and|or)\s+(?:the\s+)?", re.I)


def _own_subject(found: tuple[str, int] | None) -> tuple[str, int] | None:
    """A clause after a conjunction that names its own subject keeps it: in "… (48 vs. 35%) but OS
    was worse in IBC (68 vs. 71%)" the second pair is OS's, not the first clause's outcome."""
    if found is None:
        return None
    label, start = found
    lead = _CONJUNCTION.match(label)
    if lead is None:
        return found
    rest = label[lead.end() :]
    if not re.search(r"[A-Za-z]{2}", rest) or _NOT_A_LABEL.search(rest) or re.match(
        r"(?:was|were|is|are|had|has|have|did|does|it|they|this|that|which|not|no|only|also)\b", rest, re.I
    ):
        return found
    return rest, start + lead.end()


def _comparison_values(rest: str) -> dict[str, object]:
    values: dict[str, object] = {}
    p = num.p_value(rest)
    if p:
        values["p_operator"], values["p_value"] = p
    eff = num.effect_with_ci(rest)
    if eff:
        values["effect_measure"], values["effect_value"], ci = eff
        if ci:
            values["ci_level"], lo, hi = ci
            values["ci"] = (lo, hi)
    return values


_RATE_WORDS = ("rate", "proportion", "percentage", "incidence", "prevalence")


def _may_say(sentence: str, words: tuple[str, ...]) -> bool:
    """False only when no case-insensitive pattern for one of ``words`` can match: an ASCII
    sentence that holds none of them (outside ASCII, ``re.I`` matches more than ``lower``)."""
    if not sentence.isascii():
        return True
    low = sentence.lower()
    return any(map(low.__contains__, words))


def find(sentence: str) -> list[Finding]:
    """Statistic outcomes of one results sentence."""
    out: list[Finding] = []
    taken: list[tuple[int, int]] = []
    # most results sentences lack what a pattern needs ("(", "%", "±"): skip its scan
    percent = "%" in sentence

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    previous: tuple[str, int] | None = None
    for m in _PAIR_PAREN.finditer(sentence) if "(" in sentence else ():
        found = _own_subject(_label_before(sentence, m.start()))
        if found is not None and _NOT_A_LABEL.search(found[0]):
            found = previous  # "…, but inferior to X (34.4% vs. 44.4%)": the same outcome again
        if found is None:
            continue
        previous = found
        label, lstart = found
        ua, ub = (m.group("ua") or "").lower(), (m.group("ub") or "").lower()
        unit = ub or ua
        key = "percentage" if unit == "%" or ua == "%" else None
        if key is None:
            tv = num.time_value(f"1 {unit}") if unit else None
            if tv is None:
                continue
            key = "median" if re.search(r"\bmedian\b", label, re.I) else "time"
        for side, g in (("a", "a"), ("b", "b")):
            value = num.to_decimal(m.group(g))
            if value is None:
                continue
            values: dict[str, object] = {key: value}
            if key in ("time", "median") and unit:
                tv = num.time_value(f"1 {unit}")
                if tv:
                    values["time_unit"] = tv[1]
            out.append(Finding(label=label, start=lstart, end=m.end(), values=values, side=side))
        comp = _comparison_values(m.group("rest"))
        if comp:
            out.append(Finding(label=label, start=lstart, end=m.end(), values=comp))
        taken.append((lstart, m.end()))
    for m in _PAIR_ARMS.finditer(sentence) if percent else ():
        if not free(m.start(), m.end()):
            continue
        found = _label_before(sentence, m.start())
        if found is None:
            continue
        label, lstart = found
        for side in ("a", "b"):
            value = num.to_decimal(m.group(side))
            if value is not None:
                out.append(Finding(label=label, start=lstart, end=m.end(), values={"percentage": value},
                                   side=side, arm_words=m.group(f"arm_{side}")))
        tail = sentence[m.end():]
        close = re.match(r"\s*\(([^()]*)\)", tail)
        comp = _comparison_values(close.group(1)) if close else {}
        if comp:
            out.append(Finding(label=label, start=lstart, end=m.end() + close.end() if close else m.end(), values=comp))
        taken.append((lstart, m.end()))
    previous = None
    for m in _PCT_OF.finditer(sentence) if percent else ():
        if not free(m.start(), m.end()):
            continue
        found = _label_before(sentence, m.start())
        if found is None or _NOT_A_LABEL.search(found[0]):
            found = previous
        if found is None:
            continue
        previous = found
        value = num.to_decimal(m.group("pct"))
        arm = (m.group("arm2") or m.group("arm") or "").strip() or None
        out.append(Finding(label=found[0], start=found[1], end=m.end(), values={"percentage": value},
                           side="a", arm_words=arm))
        taken.append((found[1], m.end()))
    for m in _PCT_VERB.finditer(sentence) if percent else ():
        if not free(m.start(), m.end()):
            continue
        out.append(Finding(label=m.group("verb"), start=m.start(), end=m.end(),
                           values={"percentage": num.to_decimal(m.group("pct"))}, side="a"))
        taken.append((m.start(), m.end()))
    rates = percent and _may_say(sentence, _RATE_WORDS)
    for m in _RATE_IS.finditer(sentence) if rates else ():
        if not free(m.start(), m.end()):
            continue
        label = _LABEL_LEAD.sub("", m.group("label").strip())
        start = m.start("label") + m.group("label").find(label) if label in m.group("label") else m.start()
        out.append(Finding(label=label, start=start, end=m.end(),
                           values={"percentage": num.to_decimal(m.group("pct"))}, side="a"))
        taken.append((m.start(), m.end()))
    plus_minus = "±" in sentence or "+" in sentence
    sds = [m for m in _MEAN_SD.finditer(sentence) if free(m.start(), m.end())] if plus_minus else []
    for k, m in enumerate(sds):
        found = _label_before(sentence, m.start())
        if found is None:
            continue
        label, lstart = found
        label = re.sub(r"\s+(?:was|were|of|is|are|to|at)$", "", re.sub(r"\b(?:an? )?(?:mean|average)\s+(?:of\s+)?", "", label)).strip()
        if not re.search(r"[A-Za-z]{3}", label):
            continue
        mean, sd = num.to_decimal(m.group("m")), num.to_decimal(m.group("sd"))
        if m.group("neg") and mean is not None:
            mean = -mean
        values = {"mean": mean, "sd": sd}
        following = sentence[m.end(): sds[k + 1].start() if k + 1 < len(sds) else len(sentence)]
        p = num.p_value(following[:40])
        if p and len(sds) == 1:
            values["p_operator"], values["p_value"] = p
        out.append(Finding(label=label, start=lstart, end=m.end(), values=values))
        taken.append((lstart, m.end()))
    for m in _MEDIAN_IS.finditer(sentence) if _may_say(sentence, ("median",)) else ():
        if not free(m.start(), m.end()):
            continue
        value = num.to_decimal(m.group("v"))
        if value is None:
            continue
        what = m.group("what").strip()
        values = {"median": value}
        if m.group("unit"):
            tv = num.time_value(f"1 {m.group('unit')}")
            if tv:
                values["time_unit"] = tv[1]
        out.append(Finding(label=f"median {what}", start=m.start(), end=m.end(), values=values))
        taken.append((m.start(), m.end()))
    return out

"""Sections, sentences and abbreviation definitions of an abstract, with offsets.

Every offset is into ``Article.abstract_text`` (section texts joined by newlines), so a
``Span``'s quote is always ``abstract_text[start:end]``.

>>> [s.quote for s in split_sentences("Rates were 5 vs. 7 (P<.05). Mean 4.8 mg, e.g. daily. End.")]
['Rates were 5 vs. 7 (P<.05).', 'Mean 4.8 mg, e.g. daily.', 'End.']
>>> [(a.short, a.long) for a in find_abbreviations("Intravenous immunoglobulins (IVIg) help.")]
[('IVIg', 'Intravenous immunoglobulins')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kg.models import Abbreviation, AbstractSection, Span

# Section roles, from NLM's category first, then from the printed label.
BACKGROUND, OBJECTIVE, METHODS, RESULTS, CONCLUSIONS = (
    "background",
    "objective",
    "methods",
    "results",
    "conclusions",
)
_CATEGORY = {
    "BACKGROUND": BACKGROUND,
    "OBJECTIVE": OBJECTIVE,
    "METHODS": METHODS,
    "RESULTS": RESULTS,
    "CONCLUSIONS": CONCLUSIONS,
}
_LABEL_ROLES = (
    (
        re.compile(r"conclu|interpretation|implication|discussion|summary|significance", re.I),
        CONCLUSIONS,
    ),
    (re.compile(r"result|finding|outcome", re.I), RESULTS),
    (
        re.compile(
            r"method|design|setting|patient|participant|population|subject|intervention|"
            r"measure|material|procedure|data source|study selection|eligib|case",
            re.I,
        ),
        METHODS,
    ),
    (re.compile(r"objective|aim|purpose|goal|question|hypothes", re.I), OBJECTIVE),
    (re.compile(r"background|introduction|context|rationale|importance", re.I), BACKGROUND),
)
_CONCLUDING = re.compile(
    r"^(?:in conclusion|we conclude|to conclude|in summary|overall|taken together|these (?:data|"
    r"results|findings) (?:suggest|indicate|show|demonstrate|support)|our (?:data|results|findings) "
    r"(?:suggest|indicate|show|demonstrate|support)|this study (?:suggests|shows|demonstrates))",
    re.I,
)

# Words after which a full stop does not end a sentence.
_NO_BREAK_AFTER = frozenset(
    ["vs", "v", "e.g", "i.e", "al", "etc", "approx", "ca", "cf", "dr", "fig", "figs", "no", "nos", "mr", "mrs", "ms", "prof", "st", "resp", "incl", "min", "max", "wk", "wks", "yr", "yrs", "mo", "mos", "hr", "hrs", "sec", "inc", "corp", "jr", "sr", "vol", "suppl", "eq", "eqs", "ref", "refs"]
)
_BREAK = re.compile(r"[.!?][\"')\]]*(?=\s+[\"'(\[]?[A-Z0-9])")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of the abstract, with its section's index and role."""

    span: Span
    role: str

    @property
    def quote(self) -> str:
        return self.span.quote

    @property
    def start(self) -> int:
        return self.span.start


def section_role(section: AbstractSection) -> str | None:
    """The role of a labelled section, or None when it has neither category nor label."""
    if section.nlm_category and section.nlm_category.upper() in _CATEGORY:
        return _CATEGORY[section.nlm_category.upper()]
    if section.label:
        for pattern, role in _LABEL_ROLES:
            if pattern.search(section.label):
                return role
    return None


def split_sentences(text: str, *, offset: int = 0, section: int | None = None) -> list[Span]:
    """Split ``text`` into sentence spans; offsets are shifted by ``offset``."""
    spans: list[Span] = []
    begin = 0
    for m in _BREAK.finditer(text):
        end = m.end()
        before = _WORD_BEFORE.search(text, max(0, m.start() - 30), m.start())
        if text[m.start()] == "." and before is not None:
            written = before.group(1).rstrip(".")
            word = written.lower()
            # "vs." "e.g." "et al." — and single capitals ("J. Smith"), not sentence ends; an
            # acronym in capitals ends one ("… a better HR. The 5-year OS …": "hr." is hours)
            acronym = len(written) > 1 and written.isupper()
            if (word in _NO_BREAK_AFTER and not acronym) or (len(word) == 1 and word.isalpha()):
                continue
        _add(spans, text, begin, end, offset, section)
        begin = end
    _add(spans, text, begin, len(text), offset, section)
    return spans


def _add(
    spans: list[Span], text: str, begin: int, end: int, offset: int, section: int | None
) -> None:
    chunk = text[begin:end]
    lead = len(chunk) - len(chunk.lstrip())
    chunk = chunk.strip()
    if chunk:
        start = offset + begin + lead
        spans.append(Span(start=start, end=start + len(chunk), quote=chunk, section=section))


def sentences(sections: tuple[AbstractSection, ...]) -> list[Sentence]:
    """All sentences of an abstract with roles: from section labels, else from position and cues."""
    out: list[Sentence] = []
    offset = 0
    labelled = any(section_role(s) for s in sections)
    for index, section in enumerate(sections):
        role = section_role(section) if labelled else None
        for span in split_sentences(section.text, offset=offset, section=index):
            if not role or not section.label:
                # labels printed inside one unlabelled text: "DESIGN: Randomized, double-blind…"
                inline = _INLINE_LABEL.match(span.quote)
                if inline:
                    found = section_role(AbstractSection(text="", label=inline.group(1)))
                    if found:
                        role, labelled = found, True
            out.append(Sentence(span=span, role=role or ""))
        offset += len(section.text) + 1
    if not labelled or any(not s.role for s in out):
        out = _guess_roles(out)
    return out


_INLINE_LABEL = re.compile(r"^([A-Z][A-Z &/,-]{2,40}):\s")
_NUMBER = re.compile(r"\d|%")
_STUDY_VERB = re.compile(
    r"\b(?:we (?:performed|conducted|studied|enrolled|included|reviewed|analy[sz]ed|randomi[sz]ed|"
    r"recruited|undertook|report)|received|underwent|were (?:treated|given|enrolled|included|randomi[sz]ed|recruited|assigned|"
    r"allocated|reviewed)|this (?:study|trial)|(?:study|trial) (?:was|of)|patients? (?:with|who))\b",
    re.I,
)


def _guess_roles(found: list[Sentence]) -> list[Sentence]:
    """Roles for an unlabelled abstract: background → methods → results → conclusions."""
    n = len(found)
    out: list[Sentence] = []
    seen_results = False
    for i, s in enumerate(found):
        if s.role:
            out.append(s)
            continue
        text = s.quote
        # the last sentence, or a concluding one after the first (one search: the rule for the
        # last two sentences asked the same of them)
        if (i == n - 1 and n > 2) or (i > 0 and _CONCLUDING.search(text)):
            role = CONCLUSIONS
        elif (
            not seen_results
            and _STUDY_VERB.search(text)
            and not re.search(r"\bp\s*[<=>]", text, re.I)
        ):
            role = METHODS
        elif _NUMBER.search(text) and i > 0:
            role = RESULTS
            seen_results = True
        elif i == 0:
            role = BACKGROUND
        else:
            role = RESULTS if seen_results else METHODS
        out.append(Sentence(span=s.span, role=role))
    return out


# --- abbreviations (after Schwartz & Hearst, PSB 2003) ---------------------------------------

_PAREN = re.compile(r"\(([^()]{1,80})\)")
_SHORT_BEFORE = re.compile(r"([A-Za-z][\w\-]{1,9})\s*$")
_SHORT_OK = re.compile(r"^[A-Za-z0-9][\w\-/&.]*[A-Za-z0-9]?$")
_WORD = re.compile(r"[^\s]+")


def find_abbreviations(
    text: str, *, offset: int = 0, section: int | None = None
) -> list[Abbreviation]:
    """Definitions of the form "long form (SF)", and "SF (long form)" when the SF comes first."""
    found: list[Abbreviation] = []
    for m in _PAREN.finditer(text):
        short = m.group(1).strip()
        if not _is_short_form(short):
            # the other order: "IVIg (intravenous immunoglobulins)"
            found.extend(_reverse(text, m, offset=offset, section=section))
            continue
        words = list(_WORD.finditer(text, 0, m.start()))
        limit = min(len(short) + 5, len(short) * 2)
        window = words[-limit:]
        long_start = _best_long_form(short, text, window)
        if long_start is None:
            continue
        long = text[long_start : m.start()].rstrip()
        if not long or len(long) <= len(short) or short.lower() in long.lower().split():
            continue
        start = long_start
        found.append(
            Abbreviation(
                short=short,
                long=long,
                span=Span(
                    start=offset + start,
                    end=offset + m.end(),
                    quote=text[start : m.end()],
                    section=section,
                ),
            )
        )
    return found


def _is_short_form(s: str) -> bool:
    return (
        2 <= len(s) <= 10
        and any(c.isalpha() for c in s)
        and any(c.isupper() for c in s)
        and len(s.split()) <= 2
        and bool(_SHORT_OK.match(s))
    )


def _best_long_form(short: str, text: str, window: list[re.Match[str]]) -> int | None:
    """Schwartz–Hearst: match the short form's characters right to left in the words before it.

    Returns the offset in ``text`` where the long form starts, or None.
    """
    if not window:
        return None
    begin = window[0].start()
    candidate = text[begin : window[-1].end()]
    chars = [c.lower() for c in short if c.isalnum()]
    s_i = len(chars) - 1
    l_i = len(candidate) - 1
    while s_i >= 0:
        c = chars[s_i]
        # the first character of the short form must start a word of the long form
        while l_i >= 0 and (
            candidate[l_i].lower() != c or (s_i == 0 and l_i > 0 and candidate[l_i - 1].isalnum())
        ):
            l_i -= 1
        if l_i < 0:
            return None
        l_i -= 1
        s_i -= 1
    # extend to the start of the word
    word_start = candidate.rfind(" ", 0, l_i + 1) + 1
    return begin + word_start


def _reverse(
    text: str, m: re.Match[str], *, offset: int, section: int | None
) -> list[Abbreviation]:
    inner = m.group(1)
    # the word just before the parenthesis: only the last characters can hold it (the pattern
    # is anchored at the end), and searching them alone keeps this linear in the text
    head = text[: m.start()]
    window = max(0, len(head.rstrip()) - 10)
    before = _SHORT_BEFORE.search(head, window)
    if before is None or not _is_short_form(before.group(1)) or len(inner.split()) < 2:
        return []
    short = before.group(1)
    initials = "".join(w[0].lower() for w in re.findall(r"[A-Za-z]+", inner))
    letters = [c.lower() for c in short if c.isalpha()]
    if not letters or letters[0] != initials[:1]:
        return []
    start = before.start(1)
    return [
        Abbreviation(
            short=short,
            long=inner.strip(),
            span=Span(
                start=offset + start,
                end=offset + m.end(),
                quote=text[start : m.end()],
                section=section,
            ),
        )
    ]


# Where a literal stands in a text, found with str.find rather than a pattern compiled per
# literal: every abstract defines short forms of its own, and compiling a pattern for each cost
# more than searching with it. "Word character" is what the re module's \w means for str.


def _is_word(c: str) -> bool:
    return c.isalnum() or c == "_"


def short_form_spans(short: str, text: str) -> list[tuple[int, int]]:
    r"""(start, end) of each place where a defined short form stands alone in ``text``: "DM", not
    "DMs" or "T-DM" (the matches of ``(?<![\w-])SHORT(?![\w-])``, left to right).

    >>> short_form_spans("DM", "DM, DMs, T-DM and DM.")
    [(0, 2), (18, 20)]
    """
    out: list[tuple[int, int]] = []
    n, size = len(short), len(text)
    i = text.find(short) if short else -1
    while i >= 0:
        j = i + n
        if (i == 0 or not (_is_word(c := text[i - 1]) or c == "-")) and (
            j == size or not (_is_word(c := text[j]) or c == "-")
        ):
            out.append((i, j))
            i = text.find(short, j)
        else:
            i = text.find(short, i + 1)
    return out


def word_spans(words: str, text: str) -> list[tuple[int, int]]:
    r"""(start, end) of each place where ``words`` stand between word boundaries in ``text`` (the
    matches of ``\bWORDS\b``, left to right, case as written).

    >>> word_spans("IV", "IV, IVs and (IV)")
    [(0, 2), (13, 15)]
    """
    out: list[tuple[int, int]] = []
    n, size = len(words), len(text)
    if not n:
        return out
    # \b before and after: a boundary is where a word character meets a non-word one
    first, last = _is_word(words[0]), _is_word(words[-1])
    i = text.find(words)
    while i >= 0:
        j = i + n
        if (i > 0 and _is_word(text[i - 1])) != first and (j < size and _is_word(text[j])) != last:
            out.append((i, j))
            i = text.find(words, j)
        else:
            i = text.find(words, i + 1)
    return out


def replace_spans(text: str, spans: list[tuple[int, int]], new: str) -> str:
    """``text`` with each of ``spans`` (in order, not overlapping) replaced by ``new`` as written."""
    if not spans:
        return text
    parts: list[str] = []
    at = 0
    for start, end in spans:
        parts += (text[at:start], new)
        at = end
    parts.append(text[at:])
    return "".join(parts)


def abbreviations(sections: tuple[AbstractSection, ...]) -> list[Abbreviation]:
    """Abbreviations defined anywhere in the abstract (first definition of each short form wins)."""
    seen: dict[str, Abbreviation] = {}
    offset = 0
    for index, section in enumerate(sections):
        for a in find_abbreviations(section.text, offset=offset, section=index):
            seen.setdefault(a.short, a)
        offset += len(section.text) + 1
    return list(seen.values())

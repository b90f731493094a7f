"""Study design features from publication types, MeSH headings and the methods text.

>>> [f.term for f in from_text([_s("We performed a retrospective monocentric study.")])]
['retrospective', 'single-centre']
>>> [f.term for f in from_text([_s("Controlled studies are required to confirm this.")])]
[]
"""

from __future__ import annotations

import re

from kg.extract.text import BACKGROUND, CONCLUSIONS, Sentence
from kg.models import DESIGN_TERMS, Article, DesignFeature, Span

TERMS = DESIGN_TERMS

_PUBLICATION_TYPES: dict[str, tuple[str, ...]] = {
    "randomized controlled trial": ("randomized", "controlled"),
    "randomized controlled trial, veterinary": ("randomized", "controlled"),
    "controlled clinical trial": ("controlled",),
    "clinical trial, phase i": ("phase 1",),
    "clinical trial, phase ii": ("phase 2",),
    "clinical trial, phase iii": ("phase 3",),
    "clinical trial, phase iv": ("phase 4",),
    "multicenter study": ("multicentre",),
    "meta-analysis": ("meta-analysis",),
    "systematic review": ("systematic review",),
    "case reports": ("case report",),
}

_MESH: dict[str, str] = {
    "D012189": "retrospective",  # Retrospective Studies
    "D011446": "prospective",  # Prospective Studies
    "D015331": "cohort",  # Cohort Studies
    "D016022": "case-control",  # Case-Control Studies
    "D003430": "cross-sectional",  # Cross-Sectional Studies
    "D004311": "double-blind",  # Double-Blind Method
    "D016037": "single-blind",  # Single-Blind Method
    "D018592": "crossover",  # Cross-Over Studies
    "D010865": "pilot",  # Pilot Projects
}

_MESH_NAMES = {
    "D012189": "Retrospective Studies", "D011446": "Prospective Studies", "D015331": "Cohort Studies",
    "D016022": "Case-Control Studies", "D003430": "Cross-Sectional Studies",
    "D004311": "Double-Blind Method", "D016037": "Single-Blind Method",
    "D018592": "Cross-Over Studies", "D010865": "Pilot Projects",
}
_PHASE = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "1": "1", "2": "2", "3": "3", "4": "4"}
_TEXT: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.I), term)
    for p, term in (
        (
            r"\brandomi[sz]ed\b|\brandomly (?:assigned|allocated)\b|\brandomi[sz]ation\b",
            "randomized",
        ),
        (r"\b(?:placebo|sham)[- ]controlled\b", "placebo-controlled"),
        (
            r"\b(?:placebo|sham)[- ]controlled\b|\bcontrolled (?:clinical )?(?:trial|study)\b",
            "controlled",
        ),
        (r"\bdouble[- ](?:blind(?:ed)?|mask(?:ed)?)\b", "double-blind"),
        (r"\bsingle[- ](?:blind(?:ed)?|mask(?:ed)?)\b", "single-blind"),
        (r"\bopen[- ]label(?:l?ed)?\b", "open-label"),
        (r"\bcross-?over\b", "crossover"),
        (r"\bprospective(?:ly)?\b", "prospective"),
        (r"\bretrospective(?:ly)?\b", "retrospective"),
        (
            r"\bcohort (?:study|studies|analysis)\b|\b(?:prospective|retrospective|population-based) cohort\b",
            "cohort",
        ),
        (r"\bcase[- ]control\b", "case-control"),
        (r"\bcross[- ]sectional\b", "cross-sectional"),
        (r"\bcase series\b", "case series"),
        (
            r"\bcase report\b|\bwe (?:report|describe|present) (?:a|an|the) (?:case|patient)\b",
            "case report",
        ),
        (
            r"\bmono-?cent(?:re|er|ric)\b|\bsingle[- ](?:cent(?:re|er)|institution(?:al)?|site|hospital)\b|"
            r"\bat (?:our|a single|one) (?:institution|hospital|cent(?:re|er)|department|clinic)\b",
            "single-centre",
        ),
        (r"\bmulti-?cent(?:re|er|ric)\b|\bmulti-?(?:site|institutional|national)\b", "multicentre"),
        (r"\bsystematic(?:ally)? review", "systematic review"),
        (r"\bmeta-?analys[ie]s\b", "meta-analysis"),
        (r"\bpost[- ]hoc\b", "post-hoc analysis"),
        (r"\bpilot (?:study|trial)\b", "pilot"),
    )
)
_PHASE_TEXT = re.compile(r"\bphase\s*(I{1,3}V?|IV|[1-4])\b(?![/-])", re.I)
# A sentence asking for more research names designs the study is not.
_NOT_THIS_STUDY = re.compile(
    r"\b(?:needed|required|warranted|should be|future|further|previous(?:ly)?|prior|earlier|"
    r"recommend|lack of|no (?:randomi[sz]ed|controlled))\b",
    re.I,
)
# in lower case, one of which a match holds: most sentences hold none and skip the scan
_NOT_THIS_NEEDLES = (
    "needed", "required", "warranted", "should be", "future", "further", "previous", "prior",
    "earlier", "recommend", "lack of", "no randomi", "no controlled",
)


def _not_this_study(text: str) -> bool:
    """Whether ``text`` speaks of other studies or of studies to come (``_NOT_THIS_STUDY``)."""
    if text.isascii() and not any(map(text.lower().__contains__, _NOT_THIS_NEEDLES)):
        return False  # outside ASCII, re.I matches more than lower() does: search then
    return _NOT_THIS_STUDY.search(text) is not None


def from_indexing(article: Article) -> list[DesignFeature]:
    """Design features NLM's indexing states (publication types, study-design MeSH)."""
    found: list[DesignFeature] = []
    for pt in article.publication_types:
        for term in _PUBLICATION_TYPES.get(pt.name.lower(), ()):
            found.append(DesignFeature(term=term, found_by="nlm:publication-type", mesh=pt.ui))
    names = {v: k for k, v in _MESH_NAMES.items()}
    for h in article.mesh_headings:
        ui = h.descriptor_ui or names.get(h.descriptor_name)
        if ui is not None and ui in _MESH:
            found.append(DesignFeature(term=_MESH[ui], found_by="nlm:mesh", mesh=ui))
    return found


def from_text(sentences: list[Sentence], *, title: str | None = None) -> list[DesignFeature]:
    """Design words in the title and in the sentences that describe this study's methods."""
    found: list[DesignFeature] = []
    if title and not _not_this_study(title):
        for title_term, _, _ in _terms(title):
            found.append(DesignFeature(term=title_term, found_by="rule:design-title"))
    for s in sentences:
        if s.role in (BACKGROUND, CONCLUSIONS) or _not_this_study(s.quote):
            continue
        for term, start, end in _terms(s.quote):
            span = Span(
                start=s.start + start,
                end=s.start + end,
                quote=s.quote[start:end],
                section=s.span.section,
            )
            found.append(DesignFeature(term=term, found_by="rule:design-text", span=span))
    return found


_ANY = re.compile("|".join(p.pattern for p, _ in _TEXT) + "|" + _PHASE_TEXT.pattern, re.I)


# Strings in lower case one of which a sentence must hold for _ANY to match it: a test of
# plain substrings spares most sentences the one long case-insensitive scan.
_NEEDLES = (
    "random", "placebo", "sham", "controlled", "double", "single", "open", "cross", "prospective",
    "retrospective", "cohort", "case", "we ", "mono", "at our", "at a single", "at one", "multi",
    "systematic", "meta", "post", "pilot", "phase",
)


def _terms(text: str) -> list[tuple[str, int, int]]:
    low = text.lower()
    if not any(map(low.__contains__, _NEEDLES)) or not _ANY.search(text):
        return []  # most sentences name no design: one scan instead of twenty
    out = []
    for pattern, term in _TEXT:
        m = pattern.search(text)
        if m:
            out.append((term, m.start(), m.end()))
    for m in _PHASE_TEXT.finditer(text):
        out.append((f"phase {_PHASE[m.group(1).lower()]}", m.start(), m.end()))
    return out


def merge(features: list[DesignFeature]) -> tuple[DesignFeature, ...]:
    """One feature per term (NLM indexing first, then text), in the controlled list's order."""
    rank = {"nlm:publication-type": 0, "nlm:mesh": 1, "rule:design-text": 2, "rule:design-title": 3}
    best: dict[str, DesignFeature] = {}
    for f in features:
        old = best.get(f.term)
        if old is None or rank[f.found_by] < rank[old.found_by]:
            best[f.term] = f
    order = {t: i for i, t in enumerate(TERMS)}
    return tuple(sorted(best.values(), key=lambda f: order.get(f.term, len(order))))


def _s(text: str) -> Sentence:
    """A methods sentence at offset 0 (for the examples above)."""
    return Sentence(span=Span(start=0, end=len(text), quote=text, section=0), role="methods")

"""Tokens and CRF features of an abstract: the one definition both training and tagging use.

A document is the title and the abstract's sentences; each sentence is one sequence for the
tagger. A token's features are its word, shape and affixes, its neighbours (±3 words, bigrams),
whether it is inside parentheses, and where it stands: the title or the role of its sentence
(objective, methods, results…), how far into the abstract, and which cues the sentence holds
(a comparison, randomisation, treatment verbs, a p-value, a percentage, people). Tried and
left out, measured on the tune part of the train side: MeSH-dictionary categories and
distributional word clusters (no gain on any label). Everything here is plain strings, cheap enough for ≥ 200 abstracts/s.

>>> [t.text for t in tokenize("Twenty-two patients (12.5%) had IVIg.")]
['Twenty', '-', 'two', 'patients', '(', '12.5', '%', ')', 'had', 'IVIg', '.']
>>> shape("IVIg"), shape("12.5"), shape("patients"), shape("Twenty")
('Xx', 'd.d', 'x', 'Xx')
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from kg.extract.text import Sentence, sentences
from kg.models import AbstractSection

#: Version of the feature definition; a model records the version it was trained with.
FEATURES_VERSION = "2"

TITLE = "title"
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+|\S")
_SHAPE_RUNS = re.compile(r"(.)\1+")
_TRANS = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    "XXXXXXXXXXXXXXXXXXXXXXXXXXxxxxxxxxxxxxxxxxxxxxxxxxxxdddddddddd",
)


class Token(NamedTuple):
    """A token and its offsets (a tuple: an abstract has hundreds, made fast)."""

    text: str
    start: int  # offset in the text the token was found in (title or abstract_text)
    end: int


@dataclass(frozen=True, slots=True)
class Sequence_:
    """One sentence (or the title) to tag: its tokens, where it stands, and its features."""

    where: str  # "title" or "abstract"
    role: str  # TITLE, or the sentence's role ("methods", "results", … or "")
    tokens: tuple[Token, ...]
    features: list[list[str]]


_new_tuple = tuple.__new__  # Token(...) runs a Python-level __new__; this is the same tuple, faster


def tokenize(text: str, *, offset: int = 0) -> list[Token]:
    return [
        _new_tuple(Token, (m.group(), offset + m.start(), offset + m.end()))
        for m in _TOKEN.finditer(text)
    ]


def shape(word: str) -> str:
    """Word shape with runs collapsed: "IVIg" → "Xx", "12.5" → "d.d"."""
    return _SHAPE_RUNS.sub(r"\1", word.translate(_TRANS))


_WORD_CACHE: dict[str, tuple[str, ...]] = {}
_CACHE_LIMIT = 200_000


def _word(w: str) -> tuple[str, ...]:
    """A word's own features, as a neighbour, and its lower case (cached: words repeat a lot).

    0–4 own (w, s3, s2, p3, sh), 5–8 as the word 1–2 before/after, 9 lower case,
    10 "cap" or "", 11 s4, 12–13 as the word 3 before/after.
    """
    got = _WORD_CACHE.get(w)
    if got is None:
        lw = w.lower()
        got = (
            "w=" + lw, "s3=" + lw[-3:], "s2=" + lw[-2:], "p3=" + lw[:3], "sh=" + shape(w),
            "w-1=" + lw, "w-2=" + lw, "w+1=" + lw, "w+2=" + lw, lw, "cap" if w[:1].isupper() else "",
            "s4=" + lw[-4:], "w-3=" + lw, "w+3=" + lw,
        )
        if len(_WORD_CACHE) >= _CACHE_LIMIT:
            _WORD_CACHE.clear()
        _WORD_CACHE[w] = got
    return got


_START = ("", "", "", "", "", "w-1=<s>", "w-2=<s>", "", "", "<s>", "", "", "w-3=<s>", "")
_STOP = ("", "", "", "", "", "", "", "w+1=</s>", "w+2=</s>", "</s>", "", "", "", "w+3=</s>")


# (cue, words one of which the lower-cased sentence must hold before the pattern is tried —
# a cheap test that changes nothing the pattern finds, pattern)
_CUES = (
    ("cmp", ("vs", "versus", "compar", "than"), re.compile(r"\b(?:versus|vs|compared|comparing|comparison|than)\b", re.I)),
    ("rand", ("randomi",), re.compile(r"\brandomi[sz]", re.I)),
    ("treat", ("treated", "receiv", "given", "administered", "underwent", "allocated", "assigned"),
     re.compile(r"\b(?:treated|received|receiving|given|administered|underwent|allocated|assigned)\b", re.I)),
    ("pval", ("p",), re.compile(r"\b[Pp]\s*[<=>≤≥]")),
    ("pct", ("%",), re.compile(r"%")),
    ("ppl", ("patients", "participants", "subjects", "men", "children", "adults", "volunteers", "infants"),
     re.compile(r"\b(?:patients|participants|subjects|women|men|children|adults|volunteers|infants)\b", re.I)),
)


def token_features(tokens: Sequence[Token], *, role: str, position: int) -> list[list[str]]:
    """The features of each token of one sentence (``position``: 0–4, how far into the abstract)."""
    texts = [t.text for t in tokens]
    get = _WORD_CACHE.get
    cached = [get(w) or _word(w) for w in texts]
    n = len(cached)
    ctx = [f"r={role}", f"pos={position}", f"rp={role}{position}"]
    if n:
        sentence = " ".join(texts)
        low = sentence.lower()
        ctx.extend(
            "c=" + name
            for name, words, pattern in _CUES
            if any(w in low for w in words) and pattern.search(sentence)
        )
    rw = "r|w=" + role + "|"
    depth = [0] * n
    if "(" in texts:
        level = 0
        for i, w in enumerate(texts):
            if w == ")" and level:
                level -= 1
            depth[i] = level
            if w == "(":
                level += 1
    padded = [_START, _START, _START, *cached, _STOP, _STOP, _STOP]
    out: list[list[str]] = []
    for i, c in enumerate(cached):
        j = i + 3
        lw = c[9]
        p1, n1 = padded[j - 1], padded[j + 1]
        f = [
            c[0], c[1], c[2], c[3], c[4],
            p1[5], padded[j - 2][6], n1[7], padded[j + 2][8],
            "b-1=" + p1[9] + "|" + lw,
            "b+1=" + lw + "|" + n1[9],
            rw + lw,
            *ctx,
        ]
        if i == 0:
            f.append("first")
        if c[10]:
            f.append("cap")
        f.append(padded[j - 3][12])
        f.append(padded[j + 3][13])
        f.append(c[11])
        if depth[i]:
            f.append("paren")
        out.append(f)
    return out


def sequences(
    title: str | None,
    sections: tuple[AbstractSection, ...],
    *,
    found: list[Sentence] | None = None,
) -> list[Sequence_]:
    """The title and every sentence of the abstract, tokenized, with their features.

    ``found`` passes the abstract's sentences when the caller already split them.
    """
    out: list[Sequence_] = []
    if title:
        toks = tokenize(title)
        if toks:
            feats = token_features(toks, role=TITLE, position=0)
            out.append(Sequence_(TITLE, TITLE, tuple(toks), feats))
    if found is None:
        found = sentences(sections)
    total = max(1, len(found))
    for i, s in enumerate(found):
        toks = tokenize(s.quote, offset=s.start)
        if not toks:
            continue
        position = min(4, i * 5 // total)
        role = s.role or "none"
        feats = token_features(toks, role=role, position=position)
        out.append(Sequence_("abstract", role, tuple(toks), feats))
    return out


def bio(tokens: Sequence[Token], spans: Sequence[tuple[int, int, str]]) -> list[str]:
    """BIO labels of ``tokens`` for character ``spans`` (start, end, label); first label wins."""
    labels = ["O"] * len(tokens)
    for start, end, label in spans:
        inside = False
        for i, t in enumerate(tokens):
            if t.end <= start or t.start >= end:
                inside = False if t.start >= end else inside
                continue
            if labels[i] != "O":
                continue
            labels[i] = ("I-" if inside else "B-") + label
            inside = True
    return labels


def spans_of(tokens: Sequence[Token], labels: Sequence[str]) -> list[tuple[int, int, str]]:
    """Character spans (start, end, label) of the BIO runs in ``labels``."""
    out: list[tuple[int, int, str]] = []
    open_kind = ""  # the label of the run the previous token is in ("" after an O)
    for t, lab in zip(tokens, labels, strict=True):
        if lab == "O":
            open_kind = ""
            continue
        kind = lab[2:]
        if lab.startswith("I-") and open_kind == kind:
            start, _end, _ = out[-1]
            out[-1] = (start, t.end, kind)
        else:
            out.append((t.start, t.end, kind))
        open_kind = kind
    return out

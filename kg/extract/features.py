"""Tokens and CRF features of an abstract: the one definition both training and tagging use.

A document is the title and the abstract's sentences; each sentence is one sequence for the
tagger. A token's features are its word, shape and affixes, its neighbours (±3 words, bigrams),
whether it is inside parentheses, and where it stands: the title or the role of its sentence
(objective, methods, results…), how far into the abstract, and which cues the sentence holds
(a comparison, randomisation, treatment verbs, a p-value, a percentage, people). Tried and
left out, measured on the tune part of the train side: MeSH-dictionary categories and
distributional word clusters (no gain on any label); MeSH tree D/E dictionary matches as BIO
attributes, a word repeated in the abstract, a word of its randomisation/treatment/comparison
sentences, and dropping bigrams, ±3 words, role-word or position attributes (every one of these
templates carries F1: see the model card). Attributes are UTF-8 bytes, built from per-word
pieces cached across calls: CRFsuite takes bytes as they are, where it would encode a ``str``
again for every token.

>>> [t.text for t in tokenize("Twenty-two patients (12.5%) had IVIg.")]
['Twenty', '-', 'two', 'patients', '(', '12.5', '%', ')', 'had', 'IVIg', '.']
>>> shape("IVIg"), shape("12.5"), shape("patients"), shape("Twenty")
('Xx', 'd.d', 'x', 'Xx')
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

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


#: A token's features, as CRFsuite takes them: UTF-8 bytes (a ``str`` would be encoded again for
#: every token of every sentence; bytes go to CRFsuite as they are, and the model is the same).
Attrs = list[bytes]


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
    features: list[Attrs]


_new_tuple = tuple.__new__  # Token(...) runs a Python-level __new__; this is the same tuple, faster


def tokenize(text: str, *, offset: int = 0) -> list[Token]:
    return [
        _new_tuple(Token, (m.group(), offset + m.start(), offset + m.end()))
        for m in _TOKEN.finditer(text)
    ]


def shape(word: str) -> str:
    """Word shape with runs collapsed: "IVIg" → "Xx", "12.5" → "d.d"."""
    return _SHAPE_RUNS.sub(r"\1", word.translate(_TRANS))


_FIRST, _CAP, _PAREN = b"first", b"cap", (b"paren",)
_WORD_CACHE: dict[str, tuple[Any, ...]] = {}
_CACHE_LIMIT = 200_000


def _word(w: str) -> tuple[Any, ...]:
    """A word's own features, as a neighbour, and its lower case (cached: words repeat a lot).

    0–4 own (w, s3, s2, p3, sh), 5–8 as the word 1–2 before/after, 9 lower case,
    10 (b"cap",) or (), 11 s4, 12–13 as the word 3 before/after, 14 "b-1=<w>|" (the left half of
    the next word's bigram), 15 "b+1=<w>|" (the left half of its own bigram with the next).
    """
    got = _WORD_CACHE.get(w)
    if got is None:
        lw = w.lower()
        own = [
            "w=" + lw, "s3=" + lw[-3:], "s2=" + lw[-2:], "p3=" + lw[:3], "sh=" + shape(w),
            "w-1=" + lw, "w-2=" + lw, "w+1=" + lw, "w+2=" + lw, lw,
        ]
        more = ["s4=" + lw[-4:], "w-3=" + lw, "w+3=" + lw, "b-1=" + lw + "|", "b+1=" + lw + "|"]
        got = (
            *(x.encode() for x in own), (_CAP,) if w[:1].isupper() else (), *(x.encode() for x in more)
        )
        if len(_WORD_CACHE) >= _CACHE_LIMIT:
            _WORD_CACHE.clear()
        _WORD_CACHE[w] = got
    return got


_START = (b"", b"", b"", b"", b"", b"w-1=<s>", b"w-2=<s>", b"", b"", b"<s>", (), b"", b"w-3=<s>", b"", b"b-1=<s>|", b"")
_STOP = (b"", b"", b"", b"", b"", b"", b"", b"w+1=</s>", b"w+2=</s>", b"</s>", (), b"", b"", b"w+3=</s>", b"", b"")


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


def _sentence(texts: list[str], role: str, position: int) -> tuple[list[bytes], bytes, list[int]]:
    """What every token of a sentence shares: its context attributes (role, position, cues), the
    role prefix of the role-word attribute, and each token's depth inside parentheses."""
    ctx = [f"r={role}".encode(), f"pos={position}".encode(), f"rp={role}{position}".encode()]
    if texts:
        sentence = " ".join(texts)
        low = sentence.lower()
        ctx.extend(
            b"c=" + name.encode()
            for name, words, pattern in _CUES
            if any(w in low for w in words) and pattern.search(sentence)
        )
    depth = [0] * len(texts)
    if "(" in texts:
        level = 0
        for i, w in enumerate(texts):
            if w == ")" and level:
                level -= 1
            depth[i] = level
            if w == "(":
                level += 1
    return ctx, ("r|w=" + role + "|").encode(), depth


def token_features(tokens: Sequence[Token], *, role: str, position: int) -> list[Attrs]:
    """The features of each token of one sentence (``position``: 0–4, how far into the abstract)."""
    texts = [t.text for t in tokens]
    get = _WORD_CACHE.get
    cached = [get(w) or _word(w) for w in texts]
    n = len(cached)
    ctx, rw, depth = _sentence(texts, role, position)
    padded = [_START, _START, _START, *cached, _STOP, _STOP, _STOP]
    # the order of a token's attributes is the one the models were trained with (CRFsuite adds
    # their weights in that order: another order could move a score in its last bit)
    out: list[Attrs] = [
        [
            c[0], c[1], c[2], c[3], c[4], p1[5], p2[6], n1[7], n2[8],
            p1[14] + c[9], c[15] + n1[9], rw + c[9], *ctx, *c[10], p3[12], n3[13], c[11],
            *(_PAREN if d else ()),
        ]
        for c, p1, p2, n1, n2, p3, n3, d in zip(
            cached, padded[2 : n + 2], padded[1 : n + 1], padded[4 : n + 4], padded[5 : n + 5],
            padded[:n], padded[6 : n + 6], depth, strict=True,
        )
    ]
    if out:
        out[0].insert(12 + len(ctx), _FIRST)
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

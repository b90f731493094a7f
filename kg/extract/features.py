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


@dataclass(frozen=True, slots=True)
class Token:
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


def tokenize(text: str, *, offset: int = 0) -> list[Token]:
    return [Token(m.group(), offset + m.start(), offset + m.end()) for m in _TOKEN.finditer(text)]


def shape(word: str) -> str:
    """Word shape with runs collapsed: "IVIg" → "Xx", "12.5" → "d.d"."""
    return _SHAPE_RUNS.sub(r"\1", word.translate(_TRANS))


_WORD_CACHE: dict[str, tuple[str, ...]] = {}
_CACHE_LIMIT = 200_000
_BOS = ("w-1=<s>", "w-2=<s>")
_EOS = ("w+1=</s>", "w+2=</s>")


def _word(w: str) -> tuple[str, ...]:
    """A word's own features and its features as a neighbour (cached: words repeat a lot)."""
    got = _WORD_CACHE.get(w)
    if got is None:
        lw = w.lower()
        got = (
            "w=" + lw, "s3=" + lw[-3:], "s2=" + lw[-2:], "p3=" + lw[:3], "sh=" + shape(w),
            "w-1=" + lw, "w-2=" + lw, "w+1=" + lw, "w+2=" + lw, lw, "cap" if w[:1].isupper() else "",
        )
        if len(_WORD_CACHE) >= _CACHE_LIMIT:
            _WORD_CACHE.clear()
        _WORD_CACHE[w] = got
    return got



_CUES = (
    ("cmp", re.compile(r"\b(?:versus|vs|compared|comparing|comparison|than)\b", re.I)),
    ("rand", re.compile(r"\brandomi[sz]", re.I)),
    ("treat", re.compile(r"\b(?:treated|received|receiving|given|administered|underwent|allocated|assigned)\b", re.I)),
    ("pval", re.compile(r"\b[Pp]\s*[<=>≤≥]")),
    ("pct", re.compile(r"%")),
    ("ppl", re.compile(r"\b(?:patients|participants|subjects|women|men|children|adults|volunteers|infants)\b", re.I)),
)


def token_features(tokens: Sequence[Token], *, role: str, position: int) -> list[list[str]]:
    """The features of each token of one sentence (``position``: 0–4, how far into the abstract)."""
    cached = [_word(t.text) for t in tokens]
    n = len(cached)
    ctx = [f"r={role}", f"pos={position}", f"rp={role}{position}"]
    if n:
        sentence = " ".join(t.text for t in tokens)
        ctx.extend("c=" + name for name, pattern in _CUES if pattern.search(sentence))
    rw = "r|w=" + role + "|"
    depth = [0] * n
    level = 0
    for i, t in enumerate(tokens):
        if t.text == ")" and level:
            level -= 1
        depth[i] = level
        if t.text == "(":
            level += 1
    out: list[list[str]] = []
    for i, c in enumerate(cached):
        lw = c[9]
        prev = cached[i - 1] if i > 0 else None
        nxt = cached[i + 1] if i + 1 < n else None
        f = [
            *c[:5],
            prev[5] if prev else _BOS[0],
            cached[i - 2][6] if i > 1 else _BOS[1],
            nxt[7] if nxt else _EOS[0],
            cached[i + 2][8] if i + 2 < n else _EOS[1],
            "b-1=" + (prev[9] if prev else "<s>") + "|" + lw,
            "b+1=" + lw + "|" + (nxt[9] if nxt else "</s>"),
            rw + lw,
            *ctx,
        ]
        if i == 0:
            f.append("first")
        if c[10]:
            f.append("cap")
        f.append("w-3=" + (cached[i - 3][9] if i > 2 else "<s>"))
        f.append("w+3=" + (cached[i + 3][9] if i + 3 < n else "</s>"))
        f.append("s4=" + lw[-4:])
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

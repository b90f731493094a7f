"""The MeSH table shipped with kg: UI ↔ label, tree numbers, and label matching in free text.

``kg/data/mesh.tsv.gz`` (built by ``scripts/build_mesh_table.py``) holds one line per descriptor
and qualifier: ``ui<TAB>label<TAB>tree|tree…``. :class:`MeshTable` answers questions about UIs
(label, tree numbers, narrower descriptors, categories) and finds descriptor labels in text.

Matching compares *normalised* words: lower case, accents and possessives off, plurals folded
("headaches" ≈ "headache", "studies" ≈ "study"), hyphen ≈ space, and inverted headings read
both ways ("Immunoglobulins, Intravenous" ≈ "intravenous immunoglobulin"). The index for it is
built on first use, so that code that only asks about UIs never pays for it.
"""

from __future__ import annotations

import functools
import gzip
import logging
import os
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from itertools import accumulate
from pathlib import Path

from kg.errors import InputError

log = logging.getLogger(__name__)

#: Labels never matched in free text by :meth:`MeshTable.find` (``get``, ``label`` and
#: ``lookup`` still know them): words so common in abstracts that a bare mention says nothing
#: about what a study is on, or that mostly mean something else in running text.
GENERIC_LABELS = frozenset(
    {
        # study boilerplate: every abstract has them
        "Patients", "Persons", "Humans", "Methods", "Research", "Time", "Role", "Disease",
        "Syndrome", "Therapeutics", "Diagnosis", "Control Groups", "Population", "Incidence",
        "Prevalence", "Risk", "Health", "Life", "Work", "Goals", "Attention", "Observation",
        "Association", "Literature", "Publications", "Paper", "History", "Cells", "Tissues",
        # demographics: check tags, not topics ("Male" and "Female" are missing from the 2026
        # source but are MeSH check tags all the same)
        "Male", "Female", "Adult", "Child", "Aged", "Infant", "Adolescent", "Men", "Women",
        "Mothers", "Fathers", "Parents", "Family", "Minors", "White",
        # another sense wins in running text: "face a challenge", "on the other hand", "back
        # to", "lead to", "arms of the trial", "the rest", "in light of", "nature of", "will",
        # "affects", "cell culture", "elements of", "radio-frequency", "with respect to",
        # "pilot study", "adoption of", "drive", "accounting for"
        "Face", "Hand", "Back", "Head", "Arm", "Lead", "Rest", "Light", "Nature", "Wills",
        "Affect", "Culture", "Elements", "Radio", "Respect", "Pilots", "Adoption", "Drive",
        "Accounting",
    }
)

# one word, as the matcher sees it: letters/digits with inner apostrophes; a hyphen separates words
_PHRASE_WORD = re.compile(r"\w+(?:['’]\w+)*")
_WORD = re.compile(f"({_PHRASE_WORD.pattern})")  # split() keeps the words, between the gaps
_INWORD = frozenset("-‐‑")  # a gap of just this joins two parts of one hyphenated word
_JOINERS = frozenset(" \t\u00a0,-‐‑")  # what may stand between the words of one label in text
_PAIR = re.compile(r"(D\d+)(Q\d+)")
_IRREGULAR = {  # plurals the suffix rules get wrong, folded to their singular
    "children": "child", "women": "woman", "men": "man", "feet": "foot", "teeth": "tooth",
    "mice": "mouse", "lice": "louse", "geese": "goose", "viruses": "virus", "fetuses": "fetus",
    "foci": "focus", "nuclei": "nucleus", "fungi": "fungus", "bacteria": "bacterium",
    "vertebrae": "vertebra", "larvae": "larva", "criteria": "criterion",
    "metastases": "metastasis", "stenoses": "stenosis", "thromboses": "thrombosis",
    "anastomoses": "anastomosis", "prostheses": "prosthesis", "psychoses": "psychosis",
}
_GREEK = str.maketrans(
    {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "κ": "kappa", "ε": "epsilon"}
)
# not plurals: "illness", "intravenous", "psoriasis"; and "genetics" is not "genetic"s
_KEEP = ("ss", "us", "is", "ics")
# "-es" after these is a plural ending ("crutches", "boxes"), and a final "e" after them is
# dropped too, so that "headache" and "headaches" agree
_SIBILANT = ("ch", "sh", "x", "ss", "z")
_CACHE_LIMIT = 500_000
_ACRONYM_MAX = 5  # an all-caps word this short is taken for an acronym ("ART" is not Art)


@dataclass(frozen=True, slots=True)
class MeshTerm:
    """A descriptor (``D…``) or qualifier (``Q…``): UI, preferred label, tree numbers (or none)."""

    ui: str
    label: str
    trees: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MeshMatch:
    """A descriptor label found in text: ``text[start:end] == match.text``."""

    start: int
    end: int
    text: str
    ui: str
    label: str


def fold_word(word: str) -> str:
    """One word as matching compares it: lower case, no accents or possessive, plural folded.

    The result is a stem, not always a word; what matters is that singular and plural agree.

    >>> [fold_word(w) for w in ("Headaches", "headache", "studies", "Crohn's", "intravenous")]
    ['headach', 'headach', 'study', 'crohn', 'intravenous']
    """
    w = word.lower().replace("’", "'")
    if not w.isascii():
        w = unicodedata.normalize("NFKD", w.translate(_GREEK))
        w = "".join(c for c in w if not unicodedata.combining(c))
    if w.endswith("'s"):
        w = w[:-2]
    w = _IRREGULAR.get(w, w)
    if len(w) <= 3 or not w.isalpha():
        return w
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith("s") and not w.endswith(_KEEP):
        w = w[:-1]
    if w.endswith("e") and w[:-1].endswith(_SIBILANT):
        w = w[:-1]
    return w


def normalize(phrase: str) -> str:
    """A phrase as matching compares it: folded words joined by single spaces.

    >>> normalize("Carcinoma, Non-Small-Cell Lung")
    'carcinoma non small cell lung'
    >>> normalize("non small cell lung carcinomas")
    'non small cell lung carcinoma'
    """
    return " ".join(fold_word(w) for w in _PHRASE_WORD.findall(phrase))


def label_variants(label: str) -> list[str]:
    """Normalised forms of a heading: as written, then inverted ("A, B, C" → "B C A", "C B A").

    >>> label_variants("Immunoglobulins, Intravenous")
    ['immunoglobulin intravenous', 'intravenous immunoglobulin']
    """
    return _variants(label, fold_word)


def _variants(label: str, fold: Callable[[str], str]) -> list[str]:
    parts = [" ".join(fold(w) for w in _PHRASE_WORD.findall(p)) for p in label.split(", ")]
    parts = [p for p in parts if p]
    variants = [" ".join(parts)]
    if len(parts) > 1:
        variants.append(" ".join([*parts[1:], parts[0]]))
        variants.append(" ".join(reversed(parts)))
    return [v for i, v in enumerate(variants) if v and v not in variants[:i]]


@dataclass(frozen=True, slots=True)
class _Index:
    """What matching needs: every variant → UI (lookup), and the findable ones with prefixes."""

    lookup: dict[str, str]
    find: dict[str, str]  # normalised words → UI, or "" for a proper prefix of a findable label


class MeshTable:
    """MeSH descriptors and qualifiers by UI, with tree numbers and label matching."""

    __slots__ = ("_cache", "_exclude", "_index", "_terms", "_tree_keys", "_tree_uis")

    def __init__(self, terms: Iterable[MeshTerm], *, exclude: frozenset[str] = GENERIC_LABELS):
        """A table of ``terms``; labels in ``exclude`` are never matched by :meth:`find`."""
        self._terms: dict[str, MeshTerm] = {}
        for term in terms:
            if term.ui in self._terms:
                raise ValueError(f"duplicate MeSH UI {term.ui}")
            self._terms[term.ui] = term
        self._tree_keys: list[str] = []  # sorted tree numbers, built on first use
        self._tree_uis: list[str] = []  # the descriptor of each
        self._exclude = exclude
        self._index: _Index | None = None
        self._cache: dict[str, str] = {}

    @classmethod
    def default(cls) -> MeshTable:
        """The table shipped with kg, loaded once per process."""
        return _default_table()

    @classmethod
    def from_path(cls, path: str | os.PathLike[str]) -> MeshTable:
        """A table read from a ``ui<TAB>label<TAB>trees`` file, gzipped or not."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read MeSH table: {exc.strerror}", source=str(path)) from exc
        return cls(_parse(data, source=str(path)))

    def __len__(self) -> int:
        return len(self._terms)

    def __iter__(self) -> Iterator[MeshTerm]:
        return iter(self._terms.values())

    def get(self, ui: str) -> MeshTerm | None:
        """The descriptor or qualifier ``ui``, or None."""
        return self._terms.get(ui)

    def label(self, ui: str) -> str | None:
        """The preferred label of ``ui``, or None when unknown."""
        term = self._terms.get(ui)
        return term.label if term else None

    def is_known(self, ui: str) -> bool:
        """Whether ``ui`` is a known descriptor or qualifier, or a pair of both (``D…Q…``)."""
        if ui in self._terms:
            return True
        pair = _PAIR.fullmatch(ui)
        return pair is not None and pair[1] in self._terms and pair[2] in self._terms

    def trees(self, ui: str) -> tuple[str, ...]:
        """Tree numbers of ``ui`` (empty when unknown or when the tree file has none)."""
        term = self._terms.get(ui)
        return term.trees if term else ()

    def narrower(self, ui: str) -> frozenset[str]:
        """``ui`` and every descriptor with a tree number under one of ``ui``'s."""
        if ui not in self._terms:
            return frozenset()
        found = {ui}
        if not self._tree_keys:
            pairs = sorted((tree, t.ui) for t in self._terms.values() for tree in t.trees)
            self._tree_keys = [tree for tree, _ in pairs]
            self._tree_uis = [ui for _, ui in pairs]
        keys = self._tree_keys
        for tree in self._terms[ui].trees:
            lo = bisect_left(keys, tree + ".")
            hi = bisect_left(keys, tree + "/", lo)  # "/" sorts right after "."
            found.update(self._tree_uis[lo:hi])
        return frozenset(found)

    def in_categories(self, ui: str, prefixes: tuple[str, ...]) -> bool:
        """Whether a tree number of ``ui`` starts with one of ``prefixes`` (``("C", "F03")``…)."""
        term = self._terms.get(ui)
        return term is not None and any(tree.startswith(prefixes) for tree in term.trees)

    def lookup(self, phrase: str) -> str | None:
        """The descriptor UI whose label, normalised, equals ``phrase`` normalised; or None."""
        return self._matcher().lookup.get(normalize(phrase))

    def find(self, text: str, *, categories: tuple[str, ...] | None = None) -> list[MeshMatch]:
        """Descriptor labels in ``text``, left to right, longest first, not overlapping.

        A match starts at the start of a word (never inside a hyphenated one: "non-small-cell"
        does not yield "small cell") and ends at the end of a word or at a hyphen
        ("dermatomyositis-associated" yields dermatomyositis). Between its words only spaces,
        commas and hyphens may stand. ``categories`` keeps matches with a tree number under one
        of these prefixes; it filters what was found, it does not change what is found.
        """
        index = self._matcher().find
        parts = _WORD.split(text)  # gap, word, gap, word, …, gap
        words = parts[1::2]
        keys = self._fold_all(words)
        starts = [i for i, key in enumerate(keys) if key in index]
        if not starts:
            return []
        gaps = parts[0::2]  # gaps[i] comes before words[i]
        offsets = list(accumulate(map(len, parts)))  # word i spans offsets[2i]:offsets[2i + 1]
        n = len(words)
        out: list[MeshMatch] = []
        free = 0  # first word not yet inside a match
        for i in starts:
            if i < free or (i and gaps[i] in _INWORD):
                continue  # inside a match, or inside a hyphenated word
            key = keys[i]
            best, last = index[key], i
            j = i + 1
            while j < n:
                gap = gaps[j]
                if gap != " " and not _JOINERS.issuperset(gap):
                    break
                key = f"{key} {keys[j]}"
                ui = index.get(key)
                if ui is None:
                    break
                if ui:
                    best, last = ui, j
                j += 1
            if not best:
                continue
            start, end = offsets[2 * i], offsets[2 * last + 1]
            found = text[start:end]
            label = self._terms[best].label
            if last == i and len(found) <= _ACRONYM_MAX and found.isupper() and not label.isupper():
                continue  # an acronym that spells a common word ("ART", "CAT")
            free = last + 1
            if categories is None or self.in_categories(best, categories):
                out.append(MeshMatch(start, end, found, best, label))
        return out

    def _fold_all(self, words: list[str]) -> list[str]:
        """``fold_word`` of each word, remembered across calls (up to a bound)."""
        if len(self._cache) > _CACHE_LIMIT:
            self._cache.clear()
        get = self._cache.get
        return [get(word) or self._fold_new(word) for word in words]

    def _fold_new(self, word: str) -> str:
        folded = self._cache[word] = fold_word(word)
        return folded

    def _matcher(self) -> _Index:
        if self._index is None:
            self._index = _build_index(self._terms.values(), exclude=self._exclude)
        return self._index


def _build_index(terms: Iterable[MeshTerm], *, exclude: frozenset[str]) -> _Index:
    """Variants of every descriptor label; as-written beats inverted, then the lower UI wins."""
    ranked: dict[str, tuple[int, str]] = {}
    findable: dict[str, tuple[int, str]] = {}
    fold = functools.cache(fold_word)  # labels share most of their words
    for term in terms:
        if not term.ui.startswith("D"):
            continue
        usable = term.label not in exclude and len(term.label) > 2
        for rank, key in enumerate(_variants(term.label, fold)):
            candidate = (min(rank, 1), term.ui)
            old = ranked.get(key)
            if old is None or candidate < old:
                ranked[key] = candidate
            if usable:
                old = findable.get(key)
                if old is None or candidate < old:
                    findable[key] = candidate
    find = {key: ui for key, (_, ui) in findable.items()}
    for key in list(find):
        cut = key.rfind(" ")
        while cut > 0 and key[:cut] not in find:  # else its own prefixes are there or will be
            find[key[:cut]] = ""
            cut = key.rfind(" ", 0, cut)
    return _Index(lookup={key: ui for key, (_, ui) in ranked.items()}, find=find)


def _parse(data: bytes, *, source: str) -> Iterator[MeshTerm]:
    """MeshTerms from the bytes of a table file (gzip detected by its magic bytes)."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InputError(f"cannot decompress MeSH table: {exc}", source=source) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"MeSH table is not UTF-8: {exc}", source=source) from exc
    for number, line in enumerate(text.splitlines(), start=1):
        if not line:
            continue
        parts = line.split("\t")
        if len(parts) != 3 or not parts[0] or not parts[1]:
            raise InputError(f"line {number}: expected 'ui<TAB>label<TAB>trees'", source=source)
        ui, label, trees = parts
        yield MeshTerm(ui, label, tuple(trees.split("|")) if trees else ())


@functools.cache
def _default_table() -> MeshTable:
    resource = resources.files("kg") / "data" / "mesh.tsv.gz"
    try:
        data = resource.read_bytes()
    except OSError as exc:
        message = f"cannot read the shipped MeSH table: {exc}"
        raise InputError(message, source=str(resource)) from exc
    table = MeshTable(_parse(data, source=str(resource)))
    log.debug("loaded %d MeSH terms from %s", len(table), resource)
    return table

"""The MeSH table shipped with kg: UI ↔ label, tree numbers, and term matching in free text.

``kg/data/mesh.tsv.gz`` (built by ``scripts/build_mesh_table.py``) holds one line per descriptor
and qualifier: ``ui<TAB>label<TAB>tree|tree…``; ``mesh-terms.tsv.gz`` the entry terms (synonyms,
``ui<TAB>term``: "Breast Cancer" → D001943) and ``mesh-scr.tsv.gz`` the supplementary concepts
of drugs and protocols (``C…<TAB>name<TAB>mapped descriptors``). :class:`MeshTable` answers
questions about UIs (label, tree numbers, narrower descriptors, categories) and finds labels
and entry terms in text, naming the descriptor (or supplementary concept) each stands for.

Matching compares *normalised* words: lower case, accents and possessives off, plurals folded
("headaches" ≈ "headache", "studies" ≈ "study"), hyphen ≈ space, and inverted headings read
both ways ("Immunoglobulins, Intravenous" ≈ "intravenous immunoglobulin"). The index for it is
built on first use, so that code that only asks about UIs never pays for it. A term written in
capitals ("IVIG", "AIDS", "CHOP") is an abbreviation: it matches only where the text writes it
with capitals too, so "aids" and "chop" stay words.
"""

from __future__ import annotations

import functools
import gzip
import logging
import os
import re
import unicodedata
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from itertools import accumulate, compress, count
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
# British spellings folded to MeSH's American ones: tumour, haemorrhage, oedema, randomised
_BRITISH = re.compile(r"(?<=[a-z])ae(?=[a-qs-z])|^ae(?=t)|(?<=[a-z])oe(?=[a-z])|^oe(?=[dst])|"
                      r"(?<=[a-z]{3})our(?=s?$)|(?<=[a-z])is(?=ation|ing$|ed$)")
_AMERICAN = {"ae": "e", "oe": "e", "our": "or", "is": "iz"}
_CACHE_LIMIT = 500_000
_RECENT_LIMIT = 256  # texts whose matches are remembered
_LOOKUP_LIMIT = 50_000  # phrases whose look-up is remembered
_ACRONYM_MAX = 5  # an all-caps word this short is taken for an acronym ("ART" is not Art)
_TERMS_FILE, _CONCEPTS_FILE = "mesh-terms.tsv.gz", "mesh-scr.tsv.gz"
# ranks of what a key can come from: the label as written beats its inversion, an entry term,
# then a supplementary concept's name; within a rank the lower UI wins
_LABEL, _INVERTED, _ENTRY, _CONCEPT = range(4)

#: Entry terms never matched in free text: words whose everyday sense wins in abstracts
#: ("the control group", "a study", "the growth of") over the descriptor they name in MeSH.
GENERIC_TERMS = frozenset(
    {
        "control", "controls", "study", "studies", "group", "groups", "trial", "trials",
        "treatment", "therapy", "effect", "effects", "outcome", "result", "results", "case",
        "cases", "use", "care", "test", "tests", "method", "model", "models", "agent", "agents",
        "drug", "drugs", "medicine", "growth", "change", "changes", "level", "levels", "rate",
        "rates", "response", "condition", "conditions", "disorder", "disorders", "illness",
        "sickness", "problem", "problems", "procedure", "procedures", "intervention",
        "interventions", "period", "periods", "factor", "factors", "process", "need", "needs",
        "support", "score", "scores", "measure", "measures", "value", "values", "data", "age",
        "ages", "sex", "gender", "weight", "size", "dose", "doses", "day", "days", "week", "weeks",
        "month", "months", "year", "years", "hour", "hours", "base", "bases", "form", "forms",
        "type", "types", "pattern", "patterns", "system", "systems", "unit", "units", "volume",
        "volumes", "program", "programs", "strain", "strains", "stress", "load", "activity",
        "activities", "function", "functions", "power", "cell", "line", "lines", "mass", "status",
        "quality", "state", "states", "level of", "area", "areas", "plan", "plans", "report",
        "reports", "series", "record", "records", "sign", "signs", "lesion", "lesions", "injury",
        "injuries", "abnormality", "abnormalities", "finding", "findings",
    }
)


@dataclass(frozen=True, slots=True)
class MeshTerm:
    """A descriptor (``D…``) or qualifier (``Q…``): UI, preferred label, tree numbers (or none)."""

    ui: str
    label: str
    trees: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MeshConcept:
    """A supplementary concept (``C…``): a drug, chemical or protocol NLM maps to descriptors."""

    ui: str
    label: str
    mapped: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MeshMatch:
    """A label or entry term found in text: ``text[start:end] == match.text``; ``ui`` is the
    descriptor's (``D…``) or the supplementary concept's (``C…``), ``label`` its preferred label."""

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
    >>> [fold_word(w) for w in ("tumours", "haemorrhage", "oedema", "randomised", "aerosol")]
    ['tumor', 'hemorrhage', 'edema', 'randomized', 'aerosol']
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
    if len(w) >= 6:
        w = _BRITISH.sub(lambda m: _AMERICAN[m[0]], w)
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith("s") and not w.endswith(_KEEP):
        w = w[:-1]
    if w.endswith("e") and w[:-1].endswith(_SIBILANT):
        w = w[:-1]
    return w


#: Least similarity (rapidfuzz's normalised Levenshtein ratio, 0–100) of a suggested term.
SUGGEST_CUTOFF = 70
#: Suggestions stop this far below the closest one.
SUGGEST_SPREAD = 12


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


class _Folded(dict[str, str]):
    """Words → ``fold_word`` of them, folded on first look-up."""

    __slots__ = ()

    def __missing__(self, word: str) -> str:
        folded = self[word] = fold_word(word)
        return folded


@dataclass(frozen=True, slots=True)
class _Index:
    """What matching needs: every variant → UI (lookup), and the findable ones with prefixes."""

    lookup: dict[str, str]
    find: dict[str, str]  # normalised words → UI, or "" for a proper prefix of a findable term
    caps: dict[str, str]  # the same for terms written in capitals (matched only so written)
    lookup_caps: dict[str, str]
    upper: frozenset[str]  # keys of ``find`` whose term is itself in capitals ("HIV", "DNA")


def _is_caps(term: str) -> bool:
    """A term written as an abbreviation: two capitals or more, and no lower-case word.

    >>> [_is_caps(t) for t in ("IVIG", "HIV-1", "IVIg", "mRNA", "Breast Cancer", "Ca")]
    [True, True, True, True, False, False]
    """
    upper = sum(map(str.isupper, term))
    return upper >= 2 and upper * 2 >= sum(map(str.isalpha, term))


def _written_in_caps(found: str) -> bool:
    """Whether text found for an abbreviation is written as one (two capitals or more)."""
    return sum(map(str.isupper, found)) >= 2


_Extras = tuple[list[tuple[str, str]], list[MeshConcept]]


class MeshTable:
    """MeSH descriptors and qualifiers by UI, with tree numbers, entry terms, supplementary
    concepts and term matching."""

    __slots__ = (
        "_cache",
        "_concepts",
        "_entries",
        "_exclude",
        "_extras",
        "_in_categories",
        "_index",
        "_looked_up",
        "_recent",
        "_synonyms",
        "_terms",
        "_tree_keys",
        "_tree_uis",
    )

    def __init__(
        self,
        terms: Iterable[MeshTerm],
        *,
        exclude: frozenset[str] = GENERIC_LABELS,
        synonyms: Iterable[tuple[str, str]] = (),
        concepts: Iterable[MeshConcept] = (),
        extras: Callable[[], _Extras] | None = None,
    ):
        """A table of ``terms``, with entry terms (``synonyms``: (UI, term)) and supplementary
        ``concepts``; descriptors labelled in ``exclude`` are never matched by :meth:`find`.
        ``extras`` supplies synonyms and concepts on first need instead (the shipped table's)."""
        self._terms: dict[str, MeshTerm] = {}
        for term in terms:
            if term.ui in self._terms:
                raise ValueError(f"duplicate MeSH UI {term.ui}")
            self._terms[term.ui] = term
        self._tree_keys: list[str] = []  # sorted tree numbers, built on first use
        self._tree_uis: list[str] = []  # the descriptor of each
        self._exclude = exclude
        self._index: _Index | None = None
        self._cache = _Folded()
        self._recent: dict[str, tuple[MeshMatch, ...]] = {}
        self._looked_up: dict[str, str | None] = {}
        # prefixes → UI → whether it is in those categories (extraction asks the same few)
        self._in_categories: dict[tuple[str, ...], dict[str, bool]] = {}
        self._synonyms = list(synonyms)
        self._entries: dict[str, tuple[str, ...]] | None = None
        self._concepts: dict[str, MeshConcept] | None = None
        self._extras = extras
        if extras is None:
            self._concepts = {}
            for concept in concepts:
                if concept.ui in self._concepts or concept.ui in self._terms:
                    raise ValueError(f"duplicate MeSH UI {concept.ui}")
                self._concepts[concept.ui] = concept

    @classmethod
    def default(cls) -> MeshTable:
        """The table shipped with kg, loaded once per process (its terms when first needed)."""
        return _default_table()

    @classmethod
    def from_path(
        cls,
        path: str | os.PathLike[str],
        *,
        synonyms: str | os.PathLike[str] | None = None,
        concepts: str | os.PathLike[str] | None = None,
    ) -> MeshTable:
        """A table read from a ``ui<TAB>label<TAB>trees`` file, gzipped or not, with entry terms
        from a ``ui<TAB>term`` file and supplementary concepts from a
        ``ui<TAB>name<TAB>mapped|…`` file when given."""
        rows = _parse(_read(path, what="MeSH table"), source=str(path))
        found: list[tuple[str, str]] = []
        if synonyms is not None:
            data = _read(synonyms, what="MeSH terms")
            found = [(ui, term) for ui, term in _parse_rows(data, source=str(synonyms), columns=2)]
        extra: list[MeshConcept] = []
        if concepts is not None:
            data = _read(concepts, what="MeSH concepts")
            extra = list(_parse_concepts(data, source=str(concepts)))
        return cls(_terms(rows), synonyms=found, concepts=extra)

    def __len__(self) -> int:
        return len(self._terms)

    def __iter__(self) -> Iterator[MeshTerm]:
        return iter(self._terms.values())

    def get(self, ui: str) -> MeshTerm | None:
        """The descriptor or qualifier ``ui``, or None (see :meth:`concept` for ``C…``)."""
        return self._terms.get(ui)

    def concept(self, ui: str) -> MeshConcept | None:
        """The supplementary concept ``ui`` (``C…``) when the table ships it, or None."""
        return self._all_concepts().get(ui) if ui.startswith("C") else None

    def mapped(self, ui: str) -> tuple[str, ...]:
        """The descriptors a supplementary concept maps to; empty for anything else."""
        concept = self.concept(ui)
        return concept.mapped if concept else ()

    def label(self, ui: str) -> str | None:
        """The preferred label of ``ui`` (descriptor, qualifier or concept), or None."""
        term = self._terms.get(ui)
        if term is not None:
            return term.label
        concept = self.concept(ui)
        return concept.label if concept else None

    def entry_terms(self, ui: str) -> tuple[str, ...]:
        """The entry terms (synonyms) of a descriptor or supplementary concept, as NLM writes
        them (``D016756`` → ``("Alphaglobin", …, "IVIG", …)``); empty when it has none."""
        if self._entries is None:
            self._all_concepts()  # the shipped synonyms come with the concepts
            entries: dict[str, list[str]] = defaultdict(list)
            for term_ui, term in self._synonyms:
                entries[term_ui].append(term)
            self._entries = {k: tuple(v) for k, v in entries.items()}
        return self._entries.get(ui, ())

    def is_known(self, ui: str) -> bool:
        """Whether ``ui`` is a known descriptor, qualifier or supplementary concept, or a pair of
        a descriptor and a qualifier (``D…Q…``)."""
        if ui in self._terms or self.concept(ui) is not None:
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
        """Whether a tree number of ``ui`` starts with one of ``prefixes`` (``("C", "F03")``…);
        for a supplementary concept, a tree number of a descriptor it maps to."""
        memo = self._category_memo(prefixes)
        inside = memo.get(ui)
        if inside is None:
            inside = memo[ui] = self._in_categories_of(ui, prefixes)
        return inside

    def _category_memo(self, prefixes: tuple[str, ...]) -> dict[str, bool]:
        memo = self._in_categories.get(prefixes)
        if memo is None or len(memo) > _CACHE_LIMIT:
            memo = self._in_categories[prefixes] = {}
        return memo

    def _in_categories_of(self, ui: str, prefixes: tuple[str, ...]) -> bool:
        term = self._terms.get(ui)
        if term is None and ui.startswith("C"):
            return any(self.in_categories(d, prefixes) for d in self.mapped(ui))
        return term is not None and any(tree.startswith(prefixes) for tree in term.trees)

    def suggest(
        self, phrase: str, *, limit: int = 5, descriptors_only: bool = False
    ) -> list[tuple[str, str]]:
        """(UI, preferred label) of the terms whose label or entry term is closest to
        ``phrase`` (normalised Levenshtein similarity ≥ :data:`SUGGEST_CUTOFF`, and within
        :data:`SUGGEST_SPREAD` of the closest), best first, one per UI: the "did you mean" of a
        label kg does not know ("aspirn" → Aspirin).

        >>> MeshTable.default().suggest("dermatomiositis", limit=1)
        [('D003882', 'Dermatomyositis')]
        """
        from rapidfuzz import fuzz, process

        key = normalize(phrase)
        if not key:
            return []
        keys, uis = self._suggestion_keys()
        found: list[tuple[str, str]] = []
        best = None
        for _, score, i in process.extract(key, keys, scorer=fuzz.ratio, limit=limit * 8,
                                           score_cutoff=SUGGEST_CUTOFF):
            best = score if best is None else best
            if score < best - SUGGEST_SPREAD:
                break  # far behind the closest: noise ("hart attack" → Ixodidae)
            ui = uis[i]
            if (descriptors_only and not ui.startswith("D")) or any(ui == u for u, _ in found):
                continue
            found.append((ui, self.label(ui) or ui))
            if len(found) == limit:
                break
        return found

    @functools.cache  # noqa: B019 - one table per process (MeshTable.default), kept for its life
    def _suggestion_keys(self) -> tuple[list[str], list[str]]:
        index = self._matcher()
        pairs = {**index.lookup, **index.lookup_caps}
        return list(pairs), list(pairs.values())

    def lookup(self, phrase: str) -> str | None:
        """The UI whose label or entry term, normalised, equals ``phrase`` normalised; or None.

        Labels win over entry terms, descriptors over supplementary concepts; a term written in
        capitals ("AIDS") answers only a phrase written with capitals.
        """
        try:  # a record's headings are looked up by several steps of extraction
            return self._looked_up[phrase]
        except KeyError:
            pass
        index = self._matcher()
        key = normalize(phrase)
        ui: str | None
        if _written_in_caps(phrase) and key in index.lookup_caps:
            ui = index.lookup_caps[key]
        else:
            ui = index.lookup.get(key)
        if len(self._looked_up) >= _LOOKUP_LIMIT:
            self._looked_up.clear()
        self._looked_up[phrase] = ui
        return ui

    def find(self, text: str, *, categories: tuple[str, ...] | None = None) -> list[MeshMatch]:
        """Labels and entry terms in ``text``, left to right, longest first, not overlapping.

        A match starts at the start of a word (never inside a hyphenated one: "non-small-cell"
        does not yield "small cell") and ends at the end of a word or at a hyphen
        ("dermatomyositis-associated" yields dermatomyositis). Between its words only spaces,
        commas and hyphens may stand. ``categories`` keeps matches with a tree number under one
        of these prefixes; it filters what was found, it does not change what is found.
        ``ui`` is the descriptor's, or a supplementary concept's (``C…``) for a drug name.
        """
        found = self._recent.get(text)
        if found is None:  # extraction asks about one sentence for several trees in a row
            if len(self._recent) >= _RECENT_LIMIT:
                self._recent.clear()
            found = self._recent[text] = tuple(self._find(text))
        if categories is None:
            return list(found)
        memo = self._category_memo(categories)
        out = []
        for m in found:
            inside = memo.get(m.ui)
            if inside is None:
                inside = self.in_categories(m.ui, categories)
            if inside:
                out.append(m)
        return out

    def _find(self, text: str) -> Iterator[MeshMatch]:
        matcher = self._matcher()
        index, caps = matcher.find, matcher.caps
        parts = _WORD.split(text)  # gap, word, gap, word, …, gap
        words = parts[1::2]
        keys = self._fold_all(words)
        starts = list(compress(count(), map(index.__contains__, keys)))  # words a term can start
        if not starts:
            return
        gaps = parts[0::2]  # gaps[i] comes before words[i]
        offsets = list(accumulate(map(len, parts)))  # word i spans offsets[2i]:offsets[2i + 1]
        n = len(words)
        free = 0  # first word not yet inside a match
        for i in starts:
            if i < free or (i and gaps[i] in _INWORD):
                continue  # inside a match, or inside a hyphenated word
            key = keys[i]
            best, last, abbreviation = index[key], i, False
            if key in caps and _written_in_caps(words[i]):
                best, abbreviation = caps[key], True
            j = i + 1
            while j < n:
                gap = gaps[j]
                if gap != " " and not _JOINERS.issuperset(gap):
                    break
                key = f"{key} {keys[j]}"
                ui = index.get(key)
                if ui is None:
                    break
                if key in caps and _written_in_caps(text[offsets[2 * i] : offsets[2 * j + 1]]):
                    best, last, abbreviation = caps[key], j, True
                    j += 1
                    continue
                if ui:
                    best, last, abbreviation = ui, j, False
                j += 1
            if not best:
                continue
            start, end = offsets[2 * i], offsets[2 * last + 1]
            found = text[start:end]
            if (
                not abbreviation
                and last == i
                and len(found) <= _ACRONYM_MAX
                and found.isupper()
                and keys[i] not in matcher.upper
            ):
                continue  # an acronym that spells a common word ("ART", "CAT")
            free = last + 1
            yield MeshMatch(start, end, found, best, self.label(best) or "")

    def _fold_all(self, words: list[str]) -> list[str]:
        """``fold_word`` of each word, remembered across calls (up to a bound)."""
        if len(self._cache) > _CACHE_LIMIT:
            self._cache.clear()
        return list(map(self._cache.__getitem__, words))  # a miss folds (_Folded.__missing__)

    def _all_concepts(self) -> dict[str, MeshConcept]:
        if self._concepts is None:
            self._load_extras()
        assert self._concepts is not None
        return self._concepts

    def _load_extras(self) -> None:
        if self._extras is not None:
            synonyms, concepts = self._extras()
            self._synonyms.extend(synonyms)
            self._concepts = {c.ui: c for c in concepts}
            self._extras = None

    def _matcher(self) -> _Index:
        if self._index is None:
            concepts = self._all_concepts()
            self._index = _build_index(
                self._terms.values(),
                synonyms=self._synonyms,
                concepts=concepts.values(),
                exclude=self._exclude,
            )
        return self._index


def _build_index(
    terms: Iterable[MeshTerm],
    *,
    synonyms: Iterable[tuple[str, str]],
    concepts: Iterable[MeshConcept],
    exclude: frozenset[str],
) -> _Index:
    """Variants of every label and entry term, ranked (see ``_LABEL``…), lower UI next."""
    ranked: dict[str, tuple[int, str]] = {}
    findable: dict[str, tuple[int, str]] = {}
    ranked_caps: dict[str, tuple[int, str]] = {}
    findable_caps: dict[str, tuple[int, str]] = {}
    upper: set[str] = set()
    fold = functools.cache(fold_word)  # labels share most of their words
    excluded: set[str] = set()
    generic = {normalize(term) for term in GENERIC_TERMS}

    def add(ui: str, term: str, base: int, usable: bool) -> None:
        caps = base >= _ENTRY and _is_caps(term)
        into, found = (ranked_caps, findable_caps) if caps else (ranked, findable)
        for rank, key in enumerate(_variants(term, fold) if not caps else [normalize(term)]):
            candidate = (base + min(rank, 1) if base == _LABEL else base, ui)
            old = into.get(key)
            if old is None or candidate < old:
                into[key] = candidate
            if usable and key not in generic:
                old = found.get(key)
                if old is None or candidate < old:
                    found[key] = candidate
                    if term.isupper() and not caps:
                        upper.add(key)

    for term in terms:
        if not term.ui.startswith("D"):
            continue
        usable = term.label not in exclude and len(term.label) > 2
        if not usable:
            excluded.add(term.ui)
        add(term.ui, term.label, _LABEL, usable)
    for ui, text in synonyms:
        base = _CONCEPT if ui.startswith("C") else _ENTRY
        add(ui, text, base, ui not in excluded and len(text) > 2)
    for concept in concepts:
        add(concept.ui, concept.label, _CONCEPT, len(concept.label) > 2)
    # a label beats an abbreviation that folds to the same words ("AIDS" stays with its label)
    labelled = {key for key, (rank, _) in ranked.items() if rank <= _INVERTED}
    caps = {key: ui for key, (_, ui) in findable_caps.items() if key not in labelled}
    find = {key: ui for key, (_, ui) in findable.items()}
    for key in [*find, *caps]:
        if key not in find:
            find[key] = ""
        cut = key.rfind(" ")
        while cut > 0 and key[:cut] not in find:  # else its own prefixes are there or will be
            find[key[:cut]] = ""
            cut = key.rfind(" ", 0, cut)
    return _Index(
        lookup={key: ui for key, (_, ui) in ranked.items()},
        find=find,
        caps=caps,
        lookup_caps={key: ui for key, (_, ui) in ranked_caps.items() if key not in labelled},
        upper=frozenset(upper & find.keys()),
    )


def _read(path: str | os.PathLike[str], *, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc.strerror}", source=str(path)) from exc


def _parse_rows(data: bytes, *, source: str, columns: int) -> Iterator[list[str]]:
    """The tab-separated fields of each line (gzip detected by its magic bytes)."""
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
        if len(parts) != columns or not parts[0] or not parts[1]:
            shape = "<TAB>".join(("ui", "label", "trees", "mapped")[:columns])
            raise InputError(f"line {number}: expected '{shape}'", source=source)
        yield parts


def _parse(data: bytes, *, source: str, columns: int = 3) -> Iterator[list[str]]:
    """The fields of a table file: ``ui<TAB>label<TAB>trees``."""
    return _parse_rows(data, source=source, columns=columns)


def _terms(rows: Iterable[list[str]]) -> Iterator[MeshTerm]:
    for ui, label, trees in rows:
        yield MeshTerm(ui, label, tuple(trees.split("|")) if trees else ())


def _parse_concepts(data: bytes, *, source: str) -> Iterator[MeshConcept]:
    for ui, label, mapped in _parse_rows(data, source=source, columns=3):
        yield MeshConcept(ui, label, tuple(mapped.split("|")) if mapped else ())


def _resource(name: str) -> bytes:
    resource = resources.files("kg") / "data" / name
    try:
        return resource.read_bytes()
    except OSError as exc:
        message = f"cannot read the shipped MeSH table: {exc}"
        raise InputError(message, source=str(resource)) from exc


def _shipped_extras() -> _Extras:
    """The shipped entry terms and supplementary concepts (read when matching first needs them)."""
    synonyms = [
        (ui, term)
        for ui, term in _parse_rows(_resource(_TERMS_FILE), source=_TERMS_FILE, columns=2)
    ]
    concepts = list(_parse_concepts(_resource(_CONCEPTS_FILE), source=_CONCEPTS_FILE))
    return synonyms, concepts


@functools.cache
def _default_table() -> MeshTable:
    table = MeshTable(
        _terms(_parse(_resource("mesh.tsv.gz"), source="mesh.tsv.gz")), extras=_shipped_extras
    )
    log.debug("loaded %d MeSH terms", len(table))
    return table

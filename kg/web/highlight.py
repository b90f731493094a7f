"""Cut an abstract into runs of text, each marked with the extracted spans that cover it.

The spans' offsets index the abstract as stored (``dcterms:abstract``, sections joined by one
newline); spans may overlap or nest, so the text is cut at every span boundary and each run
carries the spans over it. The template escapes each run; nothing here builds HTML.

>>> text = "Nineteen patients (70%) responded. Ten relapsed."
>>> spans = [Span(0, 34, "outcome"), Span(0, 17, "population")]
>>> for run in segments(text, spans):
...     print(repr(run.text), [s.kind for s in run.spans])
'Nineteen patients' ['outcome', 'population']
' (70%) responded.' ['outcome']
' Ten relapsed.' []
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Span:
    """An extracted stretch of the abstract: ``[start, end)`` and what it is evidence of."""

    start: int
    end: int
    kind: str  # outcome, condition, intervention, design, population, conclusion, …
    label: str = ""

    @property
    def anchor(self) -> str:
        return f"span-{self.start}-{self.end}"


@dataclass(frozen=True, slots=True)
class Run:
    text: str
    start: int
    spans: list[Span] = field(default_factory=list)

    @property
    def kinds(self) -> str:
        """Space-separated span kinds (CSS classes), most specific span last."""
        return " ".join(dict.fromkeys(s.kind for s in self.spans))

    @property
    def title(self) -> str:
        return "; ".join(
            dict.fromkeys(f"{s.kind}: {s.label}" if s.label else s.kind for s in self.spans)
        )

    @property
    def anchor(self) -> str | None:
        """The anchor of the span that starts here (the evidence table links to it)."""
        starting = [s for s in self.spans if s.start == self.start]
        return starting[0].anchor if starting else None


@dataclass(frozen=True, slots=True)
class Section:
    label: str | None
    runs: list[Run]


def segments(
    text: str, spans: Iterable[Span], *, start: int = 0, end: int | None = None
) -> list[Run]:
    """Runs of ``text[start:end]``, cut at every boundary of the spans that fall inside it."""
    end = len(text) if end is None else end
    inside = [
        s for s in spans if 0 <= s.start < s.end <= len(text) and s.start < end and s.end > start
    ]
    cuts = sorted(
        {start, end} | {min(max(p, start), end) for s in inside for p in (s.start, s.end)}
    )
    runs: list[Run] = []
    for a, b in itertools.pairwise(cuts):
        if a == b:
            continue
        covering = sorted(
            (s for s in inside if s.start <= a and s.end >= b), key=lambda s: (s.start, -s.end)
        )
        runs.append(Run(text[a:b], a, covering))
    return runs


def sections(
    text: str, spans: Iterable[Span], bounds: Iterable[tuple[str | None, int, int]]
) -> list[Section]:
    """The abstract cut into its sections (``(label, start, end)``), each cut into runs.

    With no section bounds the whole text is one section without a label.
    """
    spans = list(spans)
    parts = sorted(bounds, key=lambda b: b[1]) or [(None, 0, len(text))]
    return [Section(label, segments(text, spans, start=s, end=e)) for label, s, e in parts]

"""The tagger's spans as evidence: PICO mentions, and outcome mentions as outcomes.

Participants, intervention and outcome phrases (EBM-NLP's convention, the whole abstract) are
kept as :class:`~kg.models.Mention`\\ s. An outcome mention of the results or conclusions
(EvidenceOutcomes' convention) becomes an :class:`~kg.models.Outcome` unless a rule already
found an outcome on those words; it carries no number of its own: numbers are tied to outcomes
only by the exact rules, where the sentence ties them.
"""

from __future__ import annotations

from collections.abc import Sequence

from kg.extract import pico
from kg.extract.tagger import OUTCOME_MENTION, Tagger
from kg.extract.tagger import Mention as Tagged
from kg.mesh import MeshTable
from kg.models import Abbreviation, Measurement, Mention, Outcome, Span

_MIN_LETTERS = 3  # "pain" yes, "%" or "it" no


def mentions(tagged: Sequence[Tagged], *, tagger: Tagger) -> tuple[Mention, ...]:
    """The abstract's participants / intervention / outcome phrases (title ones have no span)."""
    out = []
    for m in tagged:
        span = m.span()
        if span is None or m.label == OUTCOME_MENTION or not _wordy(span.quote):
            continue
        out.append(Mention(label=m.label, span=span, found_by=tagger.found_by))
    return tuple(out)


def outcome_spans(tagged: Sequence[Tagged]) -> list[Span]:
    """Spans of the outcome mentions in the results and conclusions."""
    return [s for m in tagged if m.label == OUTCOME_MENTION and (s := m.span()) and _wordy(s.quote)]


def with_mention_outcomes(
    outcomes: tuple[Outcome, ...],
    spans: Sequence[Span],
    *,
    tagger: Tagger,
    mesh: MeshTable,
    abbreviations: list[Abbreviation],
) -> tuple[Outcome, ...]:
    """``outcomes`` and, after them, an outcome for each mention no rule outcome overlaps."""
    taken = [(o.span.start, o.span.end) for o in outcomes]
    seen: set[tuple[int, int]] = set()
    added = []
    for span in spans:
        key = (span.start, span.end)
        if key in seen or any(a < span.end and span.start < b for a, b in taken):
            continue
        seen.add(key)
        words = pico.clean_label(span.quote)
        if words is None:
            continue  # "is safe", "are in remission …": the tagger took the predicate, not its subject
        ui = None
        for match in mesh.find(pico.expand_abbreviations(words, abbreviations), categories=pico.CONDITION_TREES):
            ui = match.ui
            break
        added.append(
            Outcome(
                text=words,
                kind=pico.outcome_kind(words),
                measurement=Measurement(),
                span=span,
                found_by=(tagger.found_by,),
                mesh=ui,
            )
        )
    return (*outcomes, *added)


def _wordy(text: str) -> bool:
    return sum(map(str.isalpha, text)) >= _MIN_LETTERS


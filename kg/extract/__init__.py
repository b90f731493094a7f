"""Article → Evidence: the study an abstract reports, each fact with where it came from.

Extraction knows nothing of RDF; :func:`extract` is a plain function over models.
"""

from __future__ import annotations

from kg.extract import design, findings, mentions, pico
from kg.extract.tagger import Tagger
from kg.extract.text import CONCLUSIONS, abbreviations, sentences
from kg.mesh import MeshTable
from kg.models import Article, Evidence


def extract(article: Article, *, mesh: MeshTable | None = None) -> Evidence:
    """The evidence of one article (empty parts where the abstract does not say)."""
    mesh = mesh or MeshTable.default()
    found = sentences(article.abstract)
    abbrevs = abbreviations(article.abstract)
    features = design.merge(
        design.from_indexing(article) + design.from_text(found, title=article.title)
    )
    population = pico.population(article, found, abbrevs, mesh)
    arms = pico.interventions(article, found, abbrevs, mesh)
    terms = {f.term for f in features}
    single_arm = (
        sum(1 for a in arms if a.role == "intervention") <= 1
        and not any(a.role == "comparator" for a in arms)
        and not terms
        & {
            "randomized",
            "controlled",
            "placebo-controlled",
            "case-control",
            "crossover",
            "systematic review",
            "meta-analysis",
        }
    )
    tagger = Tagger.default()
    tagged = tagger.tag(article.title, article.abstract, found=found)
    spans = mentions.outcome_spans(tagged)
    outcomes = pico.outcomes(
        article,
        found,
        sample=population.sample_size,
        arms=arms,
        single_arm=single_arm,
        abbreviations=abbrevs,
        mesh=mesh,
    )
    outcomes = mentions.with_mention_outcomes(
        outcomes, spans, tagger=tagger, mesh=mesh, abbreviations=abbrevs
    )
    return Evidence(
        pmid=article.pmid,
        design=features,
        population=population,
        interventions=arms,
        outcomes=outcomes,
        conclusion=tuple(s.span for s in found if s.role == CONCLUSIONS),
        abbreviations=tuple(abbrevs),
        # one finding per sentence, its outcome words read by rule: the tagger's outcome mentions
        # split multi-outcome sentences well when they are right, but one wrong mention ("the
        # GBS-negative cohort") then makes a wrong finding (findings.find takes them when given)
        findings=findings.find(found, interventions=arms),
        mentions=mentions.mentions(tagged, tagger=tagger),
    )


__all__ = ["extract"]

"""Evidence reports for a question (``kg report``): intervention × condition, optionally one
outcome kind, read from the store and written as a standalone HTML page or Markdown.

The report lists the studies (design, n), each outcome with its numbers, the sentence it came
from and a PubMed link, a forest plot of the outcomes given as count/denominator, and, for an
outcome kind (not "other") that at least two studies report as proportions, a random-effects pooled
proportion: logit proportions combined by DerSimonian–Laird (statsmodels'
``combine_effects``, ``method_re="chi2"``), with its 95% interval, τ², I² and Cochran's Q.
The report says plainly what that pooling is worth: the numbers were read from abstracts by
rules and a model, one outcome per study, of whatever definition the study used.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jinja2
from markupsafe import Markup
from pyoxigraph import Store

from kg import __version__
from kg.mesh import MeshTable
from kg.queries import named_query, parse_header
from kg.query import prepare, resolve_mesh, rows, run_query
from kg.store import KgStore
from kg.web.plots import Proportion, plottable, proportions_svg

PUBMED = "https://pubmed.ncbi.nlm.nih.gov/"

#: The studies of the question: the named question ``studies`` with the condition of
#: ``outcomes`` (both shipped in kg/queries).
_STUDIES = """# Studies of an intervention in a condition, with design and n.
# @param intervention  mesh-tree  required  The intervention
# @param condition     mesh-tree  optional  The condition
SELECT ?pmid ?year (MIN(?t) AS ?title) (GROUP_CONCAT(DISTINCT ?term; separator=", ") AS ?design)
       (MAX(?n) AS ?sample_size)
WHERE {
  VALUES ?intervention { UNDEF }
  GRAPH ?g {
    ?i kg:mesh ?intervention .
    ?study kg:intervention ?i ; kg:describedIn ?article .
    ?article fabio:hasPubMedId ?pmid .
  }
  #? condition: { SELECT DISTINCT ?study WHERE {
  #? condition:     VALUES ?condition { UNDEF }
  #? condition:     ?c kg:mesh ?condition . ?population kg:condition ?c .
  #? condition:     ?study kg:population ?population
  #? condition: } }
  OPTIONAL {
    GRAPH ?g { ?study kg:population ?population } OPTIONAL { ?population kg:sampleSize ?n }
  }
  OPTIONAL { GRAPH ?g { ?study kg:designFeature ?d } OPTIONAL { ?d kg:designTerm ?term } }
  OPTIONAL { ?article dcterms:title ?t }
  OPTIONAL { ?article fabio:hasPublicationYear ?year }
}
GROUP BY ?pmid ?year
ORDER BY DESC(?sample_size) ?pmid
"""

WARNINGS = (
    "Every number here was read from an abstract by kg's rules and model, not by a reviewer: "
    "check each one against its quote and the full text before using it.",
    "A pooled proportion combines one outcome per study of the same kind (the first the "
    "abstract states with a count and a denominator). Studies define and time their outcomes "
    "differently; the kind is a broad class (a response, a relapse), not the same measure.",
    "Abstracts report selectively. Pooling what abstracts chose to state is not a systematic "
    "review or a meta-analysis of the trials: no risk-of-bias assessment, no search beyond "
    "this store, no comparison with a control arm.",
    "With few studies the random-effects interval and the heterogeneity statistics are "
    "imprecise; a large I² means the studies disagree more than chance explains.",
)


@dataclass(frozen=True, slots=True)
class Study:
    pmid: str
    year: int | None
    title: str
    design: str
    sample_size: int | None

    @property
    def url(self) -> str:
        return f"{PUBMED}{self.pmid}/"


@dataclass(frozen=True, slots=True)
class Outcome:
    pmid: str
    text: str
    kind: str
    count: int | None
    denominator: int | None
    percentage: Any
    p_value: str | None
    quote: str
    start: int | None

    @property
    def numbers(self) -> str:
        """"19/27 (70%)": the numbers as the abstract gives them."""
        parts = []
        if self.count is not None and self.denominator is not None:
            parts.append(f"{self.count}/{self.denominator}")
        elif self.count is not None:
            parts.append(str(self.count))
        if self.percentage is not None:
            parts.append(f"({self.percentage}%)" if parts else f"{self.percentage}%")
        if self.p_value:
            parts.append(f"p {self.p_value}")
        return " ".join(parts)

    @property
    def proportion(self) -> bool:
        return plottable(self.count, self.denominator)


@dataclass(frozen=True, slots=True)
class Pooled:
    """A random-effects pooled proportion of one outcome kind across ``k`` studies."""

    kind: str
    outcomes: tuple[Outcome, ...]  # one per study
    estimate: float
    low: float
    high: float
    tau2: float
    i2: float
    q: float
    q_p: float

    @property
    def k(self) -> int:
        return len(self.outcomes)


@dataclass(frozen=True)
class Review:
    intervention: tuple[str, str]  # (UI, label)
    condition: tuple[str, str] | None
    kind: str | None
    studies: list[Study]
    outcomes: list[Outcome]
    pooled: list[Pooled] = field(default_factory=list)
    made: str = ""

    @property
    def question(self) -> str:
        q = self.intervention[1]
        if self.condition:
            q += f" in {self.condition[1]}"
        if self.kind:
            q += f": {self.kind} outcomes"
        return q

    def forest(self) -> str:
        """The outcomes with a count and a denominator, as the pages plot them (SVG)."""
        rows_ = [
            Proportion(f"{o.pmid}: {o.text}", o.count or 0, o.denominator or 1,
                       href=f"{PUBMED}{o.pmid}/", note=o.quote)
            for o in self.outcomes
            if o.proportion
        ]
        return str(proportions_svg(rows_, title="Outcomes as proportions, by study", sized=True))


def review(
    store: KgStore | Store,
    *,
    intervention: str,
    condition: str | None = None,
    kind: str | None = None,
    mesh: MeshTable | None = None,
) -> Review:
    """The evidence the store holds for the question (labels or UIs; the descriptors under
    them count too, as in kg's named questions)."""
    table = mesh or MeshTable.default()
    iv = resolve_mesh(intervention, param="intervention", mesh=table)
    cond = resolve_mesh(condition, param="condition", mesh=table) if condition else None
    params: dict[str, object] = {"intervention": iv}
    if cond:
        params["condition"] = cond
    studies = [
        Study(str(r["pmid"]), r["year"] if isinstance(r["year"], int) else None,
              r["title"] or "", r["design"] or "", r["sample_size"])
        for r in rows(run_query(store, prepare(parse_header(_STUDIES, name="report-studies"),
                                               params)))
    ]
    asked = dict(params, **({"kind": kind} if kind else {}))
    seen: set[tuple[str, str, int | None]] = set()
    outcomes: list[Outcome] = []
    for r in rows(run_query(store, prepare(named_query("outcomes"), asked))):
        key = (str(r["pmid"]), r["outcome"], r["start"])
        if key in seen:  # one row per intervention the study names under the descriptor
            continue
        seen.add(key)
        outcomes.append(Outcome(
            str(r["pmid"]), r["outcome"], r["kind"], r["count"], r["denominator"],
            r["percentage"], r["p_value"], r["quote"] or "", r["start"],
        ))
    return Review(
        intervention=(iv, table.label(iv) or iv),
        condition=(cond, table.label(cond) or cond) if cond else None,
        kind=kind,
        studies=studies,
        outcomes=outcomes,
        pooled=pool_by_kind(outcomes),
        made=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


#: The kind of the outcomes kg could not class: they have nothing in common to pool.
UNPOOLED_KIND = "other"


def pool_by_kind(outcomes: Sequence[Outcome]) -> list[Pooled]:
    """For each outcome kind at least two studies give as a proportion (but "other"): the
    pooled estimate of one outcome per study (the first it states)."""
    first: dict[str, dict[str, Outcome]] = {}
    for o in outcomes:
        if o.proportion and o.kind != UNPOOLED_KIND:
            first.setdefault(o.kind, {}).setdefault(o.pmid, o)
    return [
        pooled
        for kind, by_study in sorted(first.items())
        if len(by_study) >= 2 and (pooled := pool(kind, list(by_study.values()))) is not None
    ]


def pool(kind: str, outcomes: Sequence[Outcome]) -> Pooled | None:
    """The DerSimonian–Laird random-effects pooled proportion (on the logit scale, back-
    transformed) of ``outcomes``; a study with 0 or n events gets 0.5 added to both cells."""
    import numpy as np
    from statsmodels.stats.meta_analysis import combine_effects

    events = np.array([o.count for o in outcomes], dtype=float)
    totals = np.array([o.denominator for o in outcomes], dtype=float)
    edge = (events == 0) | (events == totals)
    events = np.where(edge, events + 0.5, events)
    others = np.where(edge, totals - events + 1.0, totals - events)  # n − x, corrected alike
    effect = np.log(events / others)
    variance = 1.0 / events + 1.0 / others
    result = combine_effects(effect, variance, method_re="chi2", use_t=False)
    frame = result.summary_frame(alpha=0.05)
    row = frame.loc["random effect"]
    _, q_p = result.test_homogeneity()
    return Pooled(
        kind=kind,
        outcomes=tuple(outcomes),
        estimate=_expit(float(row["eff"])),
        low=_expit(float(row["ci_low"])),
        high=_expit(float(row["ci_upp"])),
        tau2=float(result.tau2),
        i2=float(result.i2),
        q=float(result.q),
        q_p=float(q_p),
    )


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("kg", "templates"),  # a file of its own, not a served page
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def to_html(r: Review) -> str:
    """A standalone HTML page (styles inline, no script): the report to open or share."""
    return _ENV.get_template("report.html").render(
        r=r, warnings=WARNINGS, version=__version__, forest=Markup(r.forest())
    )


def to_markdown(r: Review) -> str:
    """The same report as Markdown (tables; no plot)."""
    out = [f"# Evidence report: {r.question}", "",
           f"kg {__version__}, {r.made}. Intervention MeSH {r.intervention[0]}"
           + (f", condition MeSH {r.condition[0]}" if r.condition else "") + ".", ""]
    out += ["## Studies", ""]
    if r.studies:
        out += ["| PMID | Year | Design | n | Title |", "|---|---|---|---|---|"]
        out += [f"| [{s.pmid}]({s.url}) | {s.year or ''} | {_md(s.design)} | "
                f"{s.sample_size if s.sample_size is not None else ''} | {_md(s.title)} |"
                for s in r.studies]
    else:
        out.append("No study in the store answers this question.")
    out += ["", "## Outcomes", ""]
    if r.outcomes:
        out += ["| PMID | Outcome | Kind | Numbers | Quote |", "|---|---|---|---|---|"]
        out += [f"| [{o.pmid}]({PUBMED}{o.pmid}/) | {_md(o.text)} | {o.kind} | {_md(o.numbers)} "
                f"| “{_md(o.quote)}” |" for o in r.outcomes]
    else:
        out.append("No outcome with numbers was found for these studies.")
    out += ["", "## Pooled proportions", ""]
    if r.pooled:
        for p in r.pooled:
            out.append(
                f"- **{p.kind}**, {p.k} studies: {100 * p.estimate:.1f}% "
                f"(95% CI {100 * p.low:.1f}–{100 * p.high:.1f}%), τ² {p.tau2:.3f}, "
                f"I² {100 * p.i2:.0f}%, Q {p.q:.2f} (p {p.q_p:.3f}); from "
                + ", ".join(f"{o.pmid} {o.text} {o.count}/{o.denominator}" for o in p.outcomes)
            )
    else:
        out.append("No outcome kind is given as a proportion by two studies or more.")
    out += ["", "## Read this before using the numbers", ""]
    out += [f"- {w}" for w in WARNINGS]
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    """Text inside a Markdown table cell: pipes escaped, one line."""
    return " ".join(str(text).split()).replace("|", "\\|")

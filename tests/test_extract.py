"""Evidence extraction: text units, numbers, the seed's gold facts through the graph, the gold set."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyoxigraph import Literal, NamedNode, Store

from kg.cli import main
from kg.config import DEFAULT_BASE_IRI
from kg.extract import extract
from kg.extract.evaluate import Evaluation, evaluate_one, load_gold
from kg.extract.text import find_abbreviations, sentences, split_sentences
from kg.mesh import MeshTable
from kg.models import AbstractSection, Article, Evidence
from kg.rdf.evidence import evidence_quads
from kg.rdf.iris import Iris
from kg.sources.files import expand, read_file

DATA = Path(__file__).parent / "data"
SEED = next((DATA / "seed").iterdir())
GOLD = DATA / "gold"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "pubmed"


def _article(text: str, *, label: str | None = None, **kw: object) -> Article:
    return Article(pmid="1", abstract=(AbstractSection(text=text, label=label),), **kw)  # type: ignore[arg-type]


def _seed() -> Article:
    return next(r for r in read_file(SEED) if isinstance(r, Article))


# --- text units ------------------------------------------------------------------------------


def test_sentences_survive_abbreviations_decimals_and_p_values() -> None:
    text = ("Rates were 4.8 vs. 3.1 (P<.05), e.g. in adults. Smith et al. agreed; i.e. no change. "
            "Ten patients (53%) relapsed.")
    quotes = [s.quote for s in split_sentences(text)]
    assert quotes == [
        "Rates were 4.8 vs. 3.1 (P<.05), e.g. in adults.",
        "Smith et al. agreed; i.e. no change.",
        "Ten patients (53%) relapsed.",
    ]


def test_an_acronym_ends_a_sentence_where_the_abbreviation_would_not() -> None:
    # PubMed 25055938 / 26702201: "HR" (hazard ratio, heart rate) is no "hr." (hours)
    text = ("Ten patients had a better HR. The 5-year OS was 79.7 %. Blood was drawn 2 hr. later, "
            "at noon.")
    assert [s.quote for s in split_sentences(text)] == [
        "Ten patients had a better HR.", "The 5-year OS was 79.7 %.", "Blood was drawn 2 hr. later, at noon.",
    ]


def test_sentence_offsets_index_the_joined_abstract() -> None:
    a = _seed()
    text = a.abstract_text
    found = sentences(a.abstract)
    assert [s.role for s in found][:2] == ["background", "background"]
    assert {s.role for s in found} == {"background", "methods", "results", "conclusions"}
    for s in found:
        assert text[s.span.start:s.span.end] == s.quote


def test_inline_labels_give_roles() -> None:
    a = _article("CONTEXT: Infection matters. DESIGN: Randomized trial. RESULTS: Ten patients (20%) died.")
    assert [s.role for s in sentences(a.abstract)] == ["background", "methods", "results"]


@pytest.mark.parametrize(
    ("text", "short", "long"),
    [
        ("Treating dermatomyositis (DM) is hard.", "DM", "dermatomyositis"),
        ("Intravenous immunoglobulins (IVIg) are used.", "IVIg", "Intravenous immunoglobulins"),
        ("We gave IVIg (intravenous immunoglobulins) to all.", "IVIg", "intravenous immunoglobulins"),
        ("an odds ratio (OR) of 2", "OR", "odds ratio"),
    ],
)
def test_abbreviation_definitions_both_orders(text: str, short: str, long: str) -> None:
    (a,) = find_abbreviations(text)
    assert (a.short, a.long) == (short, long)
    assert text[a.span.start:a.span.end] == a.span.quote


def test_parenthesised_numbers_are_not_abbreviations() -> None:
    assert find_abbreviations("Nineteen patients (70%) responded (n = 27).") == []


# --- numbers and denominators -------------------------------------------------------------------


def _results(text: str, *, n: str = "27 patients") -> Evidence:
    return extract(Article(pmid="1", abstract=(
        AbstractSection(text=f"We studied {n} with psoriasis.", label="Methods"),
        AbstractSection(text=text, label="Results"),
    )))


def test_percentage_determines_the_denominator_only_when_unique() -> None:
    ev = _results("Nineteen patients (70%) exhibited a major response. Ten patients (53%) relapsed.")
    major, relapse = ev.outcomes
    assert (major.measurement.count, major.measurement.denominator) == (19, 27)
    assert (relapse.measurement.count, relapse.measurement.denominator) == (10, 19)
    assert relapse.measurement.denominator_basis == "percentage"
    # 1 (5%) fits 18, 19, 20, 21 and 22: no denominator is stated
    ev = _results("One patient (5%) died.", n="40 patients")
    assert ev.outcomes[0].measurement.denominator is None


def test_stated_numbers_that_disagree_are_recorded_never_fixed() -> None:
    ev = _results("Forty-five of 3509 cardiac surgical patients (1.25%) required dialysis.", n="3509 patients")
    m = ev.outcomes[0].measurement
    assert (m.count, m.denominator, m.percentage) == (45, 3509, Decimal("1.25"))
    assert m.conflict and "45/3509" in m.conflict


def test_subgroup_of_these_and_statistics() -> None:
    ev = _results(
        "Ten patients (37%) relapsed, with a median time of 6.2 months. "
        "Six of these patients were successfully retreated. "
        "Febrile neutropenia occurred in 16.2% of DC patients versus 8.8% of VC patients (P = .03). "
        "Mean VAS was 27.6 ± 3.1 at entry."
    )
    by_text = {o.text: o.measurement for o in ev.outcomes}
    assert by_text["relapsed"].time == Decimal("6.2") and by_text["relapsed"].time_unit == "month"
    assert by_text["successfully retreated"].denominator == 10
    febrile = [o.measurement for o in ev.outcomes if o.text == "Febrile neutropenia"]
    assert [m.percentage for m in febrile] == [Decimal("16.2"), Decimal("8.8"), None]
    assert febrile[2].p_value == Decimal("0.03") and febrile[2].p_operator == "="
    assert any(o.measurement.mean == Decimal("27.6") and o.measurement.sd == Decimal("3.1") for o in ev.outcomes)


def test_no_numbers_where_the_text_has_none() -> None:
    ev = _results("Most patients improved and none died of the disease.")
    assert all(o.measurement.count is None for o in ev.outcomes)


# --- the seed, through the graph ----------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_evidence(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    store = tmp_path_factory.mktemp("seed") / "store"
    runner = CliRunner()
    assert runner.invoke(main, ["build", str(SEED), "--store", str(store)]).exit_code == 0
    result = runner.invoke(main, ["evidence", "23906502", "--store", str(store), "--format", "json"])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.output)
    return data


def test_seed_evidence_holds_every_gold_fact(seed_evidence: dict) -> None:  # type: ignore[type-arg]
    gold = json.loads((GOLD / "23906502.json").read_text())
    ev = seed_evidence
    assert ev["pmid"] == gold["pmid"] and ev["doi"] == gold["doi"] and ev["title"] == gold["title"]
    assert set(gold["design"]) <= set(ev["design"])
    assert [c["mesh"] for c in ev["population"]["conditions"]] == gold["population"]["condition_mesh"]
    assert ev["population"]["sample_size"] == 27
    (ivig,) = ev["interventions"]
    assert (ivig["mesh"], ivig["abbreviation"]) == ("D016756", "IVIg")
    assert ivig["text"].lower() == "intravenous immunoglobulins"
    assert ivig["courses"] == {"mean": 4.8, "min": 1, "max": 15}
    outcomes = ev["outcomes"]

    def one(words: str) -> dict:  # type: ignore[type-arg]
        (o,) = [o for o in outcomes if words in o["text"].lower()]
        return o

    assert (one("major response")["count"], one("major response")["denominator"], one("major response")["percentage"]) == (19, 27, 70)
    assert (one("partial response")["count"], one("partial response")["denominator"]) == (4, 27)
    assert (one("no response")["count"], one("no response")["denominator"]) == (4, 27)
    ae = one("side effects")
    assert (ae["count"], ae["grade"], ae["kind"], ae["mesh"]) == (2, 3, "adverse event", "D006261")
    relapse = one("relapse")
    assert (relapse["count"], relapse["percentage"], relapse["kind"]) == (10, 53, "relapse")
    assert relapse["denominator"] in (19, None) and relapse["denominator"] != 27
    assert relapse["median_time"] == {"value": 6.2, "unit": "month"}
    assert (one("new ivig course")["count"], one("new ivig course")["denominator"]) == (6, 10)
    assert (one("muscle disease")["count"], one("muscle disease")["denominator"]) == (6, 27)
    assert ev["conclusion"] == gold["conclusion"]
    assert ev["similar_articles"] == sorted(gold["similar_articles"], key=int)
    assert ev["cited_by"] == sorted(gold["cited_by"], key=int)
    text = _seed().abstract_text
    for o in outcomes:
        assert text[o["start"]:o["end"]] == o["quote"]


def test_evidence_table_and_errors(tmp_path: Path, seed_evidence: dict) -> None:  # type: ignore[type-arg]
    runner = CliRunner()
    missing = runner.invoke(main, ["evidence", "23906502", "--store", str(tmp_path / "none")])
    assert missing.exit_code == 3 and "kg build" in missing.output
    bad = runner.invoke(main, ["evidence", "abc", "--store", str(tmp_path)])
    assert bad.exit_code == 2


def test_evidence_rdf_types_and_vocabulary() -> None:
    quads = evidence_quads(extract(_seed()), iris=Iris(DEFAULT_BASE_IRI))
    store = Store()
    store.extend(quads)
    kg = "https://w3id.org/kg/ontology#"
    counts = [q.object for q in quads if q.predicate == NamedNode(kg + "count")]
    assert counts and all(isinstance(c, Literal) and c.datatype.value.endswith("#integer") for c in counts)
    pcts = [q.object for q in quads if q.predicate == NamedNode(kg + "percentage")]
    assert pcts and all(isinstance(p, Literal) and p.datatype.value.endswith("#decimal") for p in pcts)
    ontology = (Path(__file__).parents[1] / "ontologies" / "kg.ttl").read_text()
    used = {t.value for q in quads for t in (q.predicate, q.object) if isinstance(t, NamedNode) and t.value.startswith(kg)}
    undeclared = sorted(u for u in used if f"kg:{u.removeprefix(kg)} a owl:" not in ontology)
    assert not undeclared


# --- the gold set and the corpus ----------------------------------------------------------------


def _gold_article(gold: dict) -> Article:  # type: ignore[type-arg]
    path = GOLD / gold["record"] if "record" in gold else SEED
    return next(r for r in read_file(path) if isinstance(r, Article))


def test_gold_set_every_stated_number_is_right() -> None:
    mesh = MeshTable.default()
    ev = Evaluation()
    golds = load_gold(GOLD)
    assert len(golds) >= 13
    for gold in golds:
        article = _gold_article(gold)
        evaluate_one(ev, article, extract(article, mesh=mesh), gold)
    assert ev.wrong_numbers == []
    assert ev.scores["numbers"].precision == 1.0
    assert ev.scores["outcomes"].f1 >= 0.7, ev.table()
    assert ev.scores["design"].f1 >= 0.9, ev.table()
    assert ev.scores["sample_size"].f1 >= 0.9, ev.table()
    assert ev.scores["conclusion"].f1 >= 0.9, ev.table()


def _spans(ev: Evidence) -> list:  # type: ignore[type-arg]
    return [
        *(o.span for o in ev.outcomes), *ev.conclusion, *(a.span for a in ev.abbreviations),
        *(f.span for f in ev.design if f.span), *(i.span for i in ev.interventions if i.span),
        *(c.span for c in ev.population.conditions if c.span),
        *(s for s in (ev.population.sample_size_span, ev.population.inclusion) if s),
    ]


def _check_corpus(paths: list[Path]) -> int:
    mesh = MeshTable.default()
    n = 0
    for path in expand(paths, recursive=True):
        for record in read_file(path):
            if isinstance(record, Article) and record.abstract:
                text = record.abstract_text
                for span in _spans(extract(record, mesh=mesh)):
                    assert text[span.start:span.end] == span.quote, (record.pmid, span)
                n += 1
    return n


def test_every_span_matches_its_offsets_on_test_records() -> None:
    assert _check_corpus([DATA / "xml", DATA / "medline", DATA / "seed", GOLD / "records"]) > 20


@pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared/data/pubmed")
def test_every_span_matches_its_offsets_on_the_shared_corpus() -> None:
    assert _check_corpus([SHARED]) > 3700


# --- MeSH grounding from the text alone (no NLM indexing) -------------------------------------

BREAST_NEOPLASMS, LETROZOLE, PLACEBO = "D001943", "D000077289", "D010919"
VOMITING, NAUSEA, HYPERTENSION = "D014839", "D009325", "D006973"


def _unindexed() -> Article:
    return Article(
        pmid="1",
        title="Letrozole for postmenopausal women with breast cancer: a randomised trial",
        abstract=(
            AbstractSection(
                text="Women with early breast cancer were randomised to letrozole or placebo for "
                "five years. Nausea and vomiting were reported as side effects in 12 patients. "
                "Letrozole reduced recurrence."
            ),
        ),
    )


def _pico_args(article: Article) -> tuple[Article, list, list, MeshTable]:  # type: ignore[type-arg]
    """What kg.extract hands the pico functions."""
    from kg.extract.text import abbreviations

    return article, sentences(article.abstract), abbreviations(article.abstract), MeshTable.default()


def test_text_alone_condition_is_the_one_studied_not_every_disease_named() -> None:
    from kg.extract import pico

    args = _pico_args(_unindexed())
    found = pico.conditions(*args)
    uis = [c.mesh for c in found]
    assert uis[0] == BREAST_NEOPLASMS  # "breast cancer", an entry term of Breast Neoplasms
    assert VOMITING not in uis and NAUSEA not in uis  # side effects are outcomes
    assert found[0].text == "breast cancer" and found[0].found_by == ("rule:mesh-title",)


def test_text_alone_placebo_is_the_comparator() -> None:
    from kg.extract import pico

    args = _pico_args(_unindexed())
    arms = {i.mesh: i.role for i in pico.interventions(*args)}
    assert arms == {LETROZOLE: "intervention", PLACEBO: "comparator"}


def test_tagged_spans_are_accepted_and_rank_first() -> None:
    from kg.extract import pico

    article = Article(
        pmid="2",
        title="Outcomes after a heart attack",
        abstract=(AbstractSection(text="We studied 100 hypertensive patients given IVIG."),),
    )
    args = _pico_args(article)
    whole = args[1][0].span
    plain = [c.mesh for c in pico.conditions(*args)]
    tagged = [c.mesh for c in pico.conditions(*args, participants=(whole,))]
    assert set(plain) == set(tagged) and HYPERTENSION in tagged  # "hypertensive patients"
    assert tagged[0] == HYPERTENSION  # inside the participants phrase: first
    arms = pico.interventions(*args, interventions_spans=(whole,))
    assert [i.mesh for i in arms] == ["D016756"]  # IVIG, in capitals


def test_grounding_rules_carry_a_card_and_a_checksum_the_loader_checks() -> None:
    from kg.extract import grounding

    shipped = json.loads((Path(__file__).parents[1] / "kg" / "data" / grounding.RULES_FILE).read_text())
    assert shipped["sha256"] == grounding.digest(shipped["rules"])
    assert {"data", "threshold", "min_support"} <= set(shipped["card"])
    assert grounding.load_rules()["D002289|strong"][:2] == ("D002289", "D008175")  # NSCLC, + lung
    assert grounding.digest({"a|strong": ["D1"]}) != grounding.digest({"a|strong": ["D2"]})


def test_eval_mesh_scores_text_alone_against_the_real_headings() -> None:
    from kg.extract.train.corpora import Doc
    from kg.extract.train.eval_mesh import article_of, evaluate_conditions, evaluate_interventions

    title = "Letrozole for postmenopausal women with breast cancer"
    text = f"{title}\n\nWomen with breast cancer were randomised to letrozole or placebo."
    doc = Doc(
        pmid="1",
        source="test",
        text=text,
        title_end=len(title),
        spans=(),
        extras={"mesh_headings": ["Breast Neoplasms/*drug therapy", "Vomiting/chemically induced",
                                  "Letrozole/*therapeutic use", "Placebos", "Female", "Humans"]},
    )
    article = article_of(doc)
    assert article.title == title and not article.mesh_headings  # NLM's indexing withheld
    mesh = MeshTable.default()
    conditions = evaluate_conditions([doc], mesh=mesh)
    assert conditions["conditions"]["precision"] == conditions["conditions"]["recall"] == 1.0
    assert conditions["conditions_strict"]["recall"] == 0.5  # Vomiting counts there
    interventions = evaluate_interventions([doc], mesh=mesh)
    assert interventions["interventions"]["tp"] == 1 and interventions["interventions"]["fn"] == 0
    assert interventions["docs"] == 1 and interventions["abstracts_per_s"]

"""Findings: comparisons an abstract states, their direction, in the graph, `kg evidence` and the
named question ``findings``; the shipped model, its checksum, training and evaluation.

The real abstract is tests/data/gold/records/9307346.xml (antibiotics against placebo after
preterm rupture of the membranes): "In the GBS-negative cohort, the antibiotic group had less
frequent primary outcome (44.5% vs 54.5%; P=.03), …".
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyoxigraph import NamedNode

from kg.cli import main
from kg.config import DEFAULT_BASE_IRI
from kg.extract import extract
from kg.extract import findings as fx
from kg.extract.text import RESULTS, Sentence
from kg.extract.train import corpora
from kg.extract.train import findings as train_findings
from kg.extract.train.eval_findings import evaluate
from kg.models import Article, Intervention, Span
from kg.queries import named_query
from kg.query import prepare, rows, run_query
from kg.rdf.evidence import evidence_quads
from kg.rdf.iris import Iris
from kg.sources.files import read_file
from kg.store import KgStore
from kg.validate import GraphChecker

DATA = Path(__file__).parent / "data"
RECORD = DATA / "gold" / "records" / "9307346.xml"
SAMPLE = DATA / "findings"


def _article() -> Article:
    return next(r for r in read_file(RECORD) if isinstance(r, Article))


def _sentence(text: str) -> Sentence:
    return Sentence(span=Span(start=0, end=len(text), quote=text, section=0), role=RESULTS)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("findings") / "store"
    result = CliRunner().invoke(main, ["build", str(RECORD), "--store", str(path)])
    assert result.exit_code == 0, result.output
    return path


# --- extraction on the real abstract ------------------------------------------------------------


def test_findings_of_a_real_abstract() -> None:
    evidence = extract(_article())
    arms = evidence.interventions
    by_quote = {f.span.quote: f for f in evidence.findings}
    gbs = next(f for q, f in by_quote.items() if q.startswith("In the GBS-negative cohort"))
    assert gbs.direction == fx.DECREASED
    assert gbs.outcome == "primary outcome"
    assert gbs.intervention is not None and arms[gbs.intervention].role == "intervention"
    assert gbs.comparator is not None and arms[gbs.comparator].text == "placebo"
    assert str(gbs.measurement.p_value) == "0.03" and gbs.measurement.p_operator == "="
    assert gbs.found_by == "model:findings-" + fx.model().version
    assert gbs.probability is not None and gbs.probability >= fx.model().threshold
    prolonged = next(f for q, f in by_quote.items() if "pregnancy prolongation" in q)
    assert prolonged.direction == fx.INCREASED
    # every finding's sentence is the abstract's text at its offsets
    text = _article().abstract_text
    assert all(text[f.span.start : f.span.end] == f.span.quote for f in evidence.findings)


def test_direction_is_of_the_intervention_against_the_comparator() -> None:
    arms = (
        Intervention(text="ondansetron", found_by=("rule:mesh-text",)),
        Intervention(text="placebo", found_by=("rule:mesh-text",), role="comparator"),
    )
    shipped = fx.model()
    every = fx.Model(tagger=shipped.tagger, version=shipped.version, threshold=0.0)  # state them all
    straight = fx.find(
        [_sentence("Vomiting was significantly lower with ondansetron than with placebo (P < 0.01).")],
        interventions=arms,
        model_=every,
    )
    flipped = fx.find(
        [_sentence("Vomiting was significantly higher with placebo than with ondansetron (P < 0.01).")],
        interventions=arms,
        model_=every,
    )
    for (f,) in (straight, flipped):
        assert (f.intervention, f.comparator) == (0, 1)
        assert (f.intervention_text, f.comparator_text) == ("ondansetron", "placebo")
        assert f.outcome == "Vomiting"
        assert f.direction == fx.DECREASED


def test_exact_rule_for_stated_p_values() -> None:
    (f,) = fx.find([_sentence("Pain scores did not differ between groups (P = 0.43).")], interventions=())
    assert (f.direction, f.probability, f.found_by) == (fx.NO_DIFFERENCE, 1.0, "rule:findings-p-value")
    assert fx.stated_no_difference("A vs B (p > 0.05)")
    assert not fx.stated_no_difference("A vs B (p = 0.43) and C vs D (p < 0.01)")
    assert not fx.states_comparison("Patients were enrolled between 2001 and 2004.")


# --- the shipped model --------------------------------------------------------------------------


def test_shipped_model_and_its_card(tmp_path: Path) -> None:
    card = json.loads((Path(fx.__file__).parents[1] / "data" / fx.CARD_NAME).read_text())
    assert card["sha256"] == fx.sha256((Path(fx.__file__).parents[1] / "data" / fx.MODEL_NAME).read_bytes())
    assert 0.34 <= card["threshold"] < 1 and card["labels"] == list(fx.LABELS)
    assert fx.model() is fx.model()  # loaded once per process
    for name in (fx.MODEL_NAME, fx.CARD_NAME):
        shutil.copy(Path(fx.__file__).parents[1] / "data" / name, tmp_path / name)
    with (tmp_path / fx.MODEL_NAME).open("ab") as f:
        f.write(b"\0")
    with pytest.raises(fx.ModelError, match="SHA-256"):
        fx.load(tmp_path)
    with pytest.raises(fx.ModelError, match="not installed"):
        fx.load(tmp_path / "nowhere")


def test_training_is_reproducible_and_never_reads_dev(tmp_path: Path) -> None:
    first = train_findings.train(SAMPLE, tmp_path / "a", seed=0)
    second = train_findings.train(SAMPLE, tmp_path / "b", seed=0)
    assert (tmp_path / "a" / fx.MODEL_NAME).read_bytes() == (tmp_path / "b" / fx.MODEL_NAME).read_bytes()
    assert (tmp_path / "a" / fx.CARD_NAME).read_bytes() == (tmp_path / "b" / fx.CARD_NAME).read_bytes()
    docs = corpora.load(corpora.EVIDENCE_INFERENCE, directory=SAMPLE)
    train_docs, dev_docs = corpora.split(docs)
    assert dev_docs and first == second
    assert first["train_documents"] == len(train_docs)
    assert first["train_prompts"] == sum(len(d.extras["prompts"]) for d in train_docs)
    model = fx.load(tmp_path / "a")
    assert model.version == train_findings.VERSION


def test_evaluation_reports_accuracy_coverage_and_speed() -> None:
    docs = corpora.load(corpora.EVIDENCE_INFERENCE, directory=SAMPLE)
    report = evaluate(docs)
    assert report["prompts"] == sum(len(d.extras["prompts"]) for d in docs)
    assert 0 <= report["coverage"] <= 1 and report["abstracts_per_second"] > 0
    assert report["stated"] and report["direction_accuracy_where_stated"] >= 0.5


# --- the graph, its shapes, `kg evidence` and the named question ----------------------------------


def test_findings_in_the_graph_conform() -> None:
    quads = evidence_quads(extract(_article()), iris=Iris(DEFAULT_BASE_IRI))
    kg = "https://w3id.org/kg/ontology#"
    directions = {q.object for q in quads if q.predicate == NamedNode(kg + "direction")}
    names = ("SignificantlyIncreased", "SignificantlyDecreased", "NoSignificantDifference")
    assert directions <= {NamedNode(kg + n) for n in names}
    assert NamedNode(kg + "SignificantlyDecreased") in directions
    findings = {str(q.subject) for q in quads if q.object == NamedNode(kg + "Finding")}
    assert findings and all("/finding/" in f for f in findings)


def test_built_graph_validates(store: Path) -> None:
    kgstore = KgStore(store)
    graph = Iris(DEFAULT_BASE_IRI).graph("9307346")
    quads = list(kgstore.store.quads_for_pattern(None, None, None, graph))
    assert GraphChecker()("9307346", quads) == []


def test_kg_evidence_json_and_table_hold_the_findings(store: Path) -> None:
    out = CliRunner().invoke(main, ["evidence", "9307346", "--store", str(store), "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    gbs = next(f for f in data["findings"] if f["quote"].startswith("In the GBS-negative cohort"))
    assert gbs["direction"] == "significantly decreased"
    assert gbs["comparator"] == "placebo" and gbs["intervention"]
    assert gbs["outcome"] == "primary outcome"
    assert gbs["p_value"] == {"operator": "=", "value": 0.03}
    assert gbs["found_by"].startswith("model:findings-") and 0 < gbs["probability"] <= 1
    table = CliRunner().invoke(main, ["evidence", "9307346", "--store", str(store), "--format", "table"])
    assert "significantly decreased" in table.output and "vs placebo" in table.output


def test_named_question_findings(store: Path) -> None:
    kgstore = KgStore(store)
    every = rows(run_query(kgstore, prepare(named_query("findings"), {})))
    assert every and {r["pmid"] for r in every} == {"9307346"}
    gbs = next(r for r in every if str(r["quote"]).startswith("In the GBS-negative cohort"))
    assert gbs["direction"] == "significantly decreased"
    assert gbs["comparator_text"] == "placebo" and gbs["outcome"] == "primary outcome"
    assert str(gbs["p_value"]) == "0.03" and gbs["p_operator"] == "="
    about_placebo = rows(run_query(kgstore, prepare(named_query("findings"), {"intervention": "Placebos"})))
    assert about_placebo == []  # placebo is every finding's comparator, never its intervention
    in_condition = rows(
        run_query(kgstore, prepare(named_query("findings"), {"condition": "Fetal Membranes, Premature Rupture"}))
    )
    assert len(in_condition) == len(every)


def test_one_finding_per_outcome_mention_with_its_own_numbers() -> None:
    text = "Nausea (P = 0.01) and vomiting (P = 0.03) were significantly lower with ondansetron than with placebo."
    arms = (
        Intervention(text="ondansetron", found_by=("rule:mesh-text",)),
        Intervention(text="placebo", found_by=("rule:mesh-text",), role="comparator"),
    )
    spans = [Span(start=text.index(w), end=text.index(w) + len(w), quote=w, section=0) for w in ("Nausea", "vomiting")]
    shipped = fx.model()
    every = fx.Model(tagger=shipped.tagger, version=shipped.version, threshold=0.0)
    nausea, vomiting = fx.find([_sentence(text)], interventions=arms, outcome_spans=spans, model_=every)
    assert (nausea.outcome, vomiting.outcome) == ("Nausea", "vomiting")
    assert nausea.outcome_span == spans[0]
    assert (str(nausea.measurement.p_value), str(vomiting.measurement.p_value)) == ("0.01", "0.03")
    assert nausea.direction == vomiting.direction == fx.DECREASED
    assert nausea.span == vomiting.span

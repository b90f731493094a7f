"""The learned MeSH condition indexer: the shipped model, its checks, and its training."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from kg.errors import InputError
from kg.extract import indexing, pico
from kg.extract.grounding import TITLE, Candidate, Mention
from kg.extract.text import abbreviations, sentences
from kg.extract.train import corpora
from kg.extract.train.eval_mesh import article_of
from kg.mesh import MeshTable
from kg.models import Condition

DATA = Path(__file__).parent / "data" / "indexing"
SHIPPED = Path(__file__).parents[1] / "kg" / "data"
NSCLC, LUNG_NEOPLASMS, RECURRENCE_LOCAL = "D002289", "D008175", "D009364"


def _doc(pmid: str) -> corpora.Doc:
    return next(d for d in corpora.iter_docs("picodata_train.jsonl", directory=DATA) if d.pmid == pmid)


def test_the_shipped_model_matches_its_card() -> None:
    card = json.loads((SHIPPED / indexing.CARD_FILE).read_text())
    raw = (SHIPPED / indexing.MODEL_FILE).read_bytes()
    assert hashlib.sha256(raw).hexdigest() == card["sha256"]
    assert {"data", "threshold", "tune", "dev", "known_failures"} <= set(card)
    model = indexing.load()
    assert model.threshold == card["threshold"] and model.found_by == card["found_by"]
    assert indexing.dump(model) == raw  # what the loader reads is what the trainer wrote


def test_a_model_failing_its_checksum_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    indexing.load.cache_clear()
    monkeypatch.setattr(indexing, "card", lambda: {"sha256": "0" * 64})
    try:
        with pytest.raises(InputError, match="checksum"):
            indexing.load()
    finally:
        monkeypatch.undo()
        indexing.load.cache_clear()
    assert indexing.load().version


def _conditions(pmid: str) -> list[Condition]:
    article = article_of(_doc(pmid))
    found = sentences(article.abstract)
    return list(pico.conditions(article, found, abbreviations(article.abstract), MeshTable.default()))


def test_a_real_abstract_gets_the_headings_nlm_gave_it() -> None:
    # PMID 1849786 (train side): "Symptomatic treatment versus combination chemotherapy for
    # patients with extensive non-small cell lung cancer."; NLM indexed NSCLC and Lung Neoplasms
    conditions = _conditions("1849786")
    assert [c.mesh for c in conditions] == [NSCLC, LUNG_NEOPLASMS]
    assert conditions[0].found_by == ("rule:mesh-title",)  # named in the title
    assert conditions[0].text == "non-small cell lung cancer"
    # NLM's heading for such a tumour, not named as such: the model's
    assert conditions[1].found_by == (indexing.load().found_by,)
    assert conditions[1].text == "Lung Neoplasms"


def test_a_heading_the_abstract_does_not_name() -> None:
    # PMID 18288059 (train side): "How to treat the relapse of NSCLC after surgery and
    # chemotherapy?"; NLM indexed Neoplasm Recurrence, Local, which the text calls "relapse"
    conditions = _conditions("18288059")
    assert RECURRENCE_LOCAL in [c.mesh for c in conditions]


def _candidate(ui: str, *, title: bool) -> Candidate:
    m = Mention(ui, "words", None, TITLE if title else "methods", -1 if title else 0, True, False)
    return Candidate(ui, m, 1, frozenset({m.role}), True, False, False)


def test_a_prior_proposes_the_heading_nlm_gives_a_term() -> None:
    """A tiny hand-made model: naming NSCLC proposes Lung Neoplasms; the decider takes
    candidates named in the title or proposed strongly."""
    mesh = MeshTable.default()
    model = indexing.Model(
        labels=(indexing.NONE_LABEL,),
        topic={},
        decider={"bias": -2.0, "named=title": 4.0, "via=9": 4.0},
        priors={NSCLC: ((NSCLC, 0.9, 20), (LUNG_NEOPLASMS, 0.85, 20))},
        frequent=frozenset(),
        threshold=0.5,
        version="0",
    )
    observed = indexing.Observed((_candidate(NSCLC, title=True),), ())
    found = indexing.index(observed, mesh=mesh, model=model)
    assert [(f.ui, f.named) for f in found] == [(NSCLC, True), (LUNG_NEOPLASMS, False)]
    assert found[1].mention is not None and found[1].mention.ui == NSCLC  # its span stands for it
    body = indexing.Observed((_candidate(NSCLC, title=False),), ())
    assert [f.ui for f in indexing.index(body, mesh=mesh, model=model)] == [LUNG_NEOPLASMS]


def test_the_model_file_round_trips() -> None:
    model = indexing.load()
    again = indexing.from_json(json.loads(json.dumps(indexing.to_json(model))))
    assert again == model and indexing.dump(again) == indexing.dump(model)


@pytest.mark.skipif(
    not (corpora.DEFAULT_DIR / corpora.PICODATA).exists(), reason="needs ../shared/data/corpora"
)
def test_training_is_reproducible(tmp_path: Path) -> None:
    from kg.extract.train import indexing as train

    first = train.train(tmp_path / "a", xml_dir=None, limit=80)
    second = train.train(tmp_path / "b", xml_dir=None, limit=80)
    raw = (tmp_path / "a" / indexing.MODEL_FILE).read_bytes()
    assert raw == (tmp_path / "b" / indexing.MODEL_FILE).read_bytes()
    assert first == second and first["sha256"] == hashlib.sha256(raw).hexdigest()
    assert first["data"]["records"] == 80 and first["dev"]["gold"] > 0

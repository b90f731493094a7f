"""The value gate on outcome numbers: the shipped model, real sentences it keeps and turns down,
the hook in the outcome rules, and a small training run (same bytes twice, dev never read)."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest

import kg
from kg.extract import extract, valuegate
from kg.extract.text import sentences
from kg.extract.train import corpora
from kg.extract.train import valuegate as train_valuegate
from kg.models import AbstractSection, Article, Intervention, Span

ARMS = (Intervention(text="docetaxel", found_by=("rule:test",)),
        Intervention(text="observation", found_by=("rule:test",), role="comparator"))
DESIGN = "Women with operable breast cancer were randomly assigned to docetaxel or observation. "


def _gate(text: str, quote: str, *, count: int | None = None, percentage: Decimal | None = None,
          comparative: bool = True) -> tuple[int | None, Decimal | None, bool]:
    """The gate's verdict on the outcome at ``quote`` (a part of one sentence of ``text``)."""
    found = sentences((AbstractSection(text=text),))
    index = next(i for i, s in enumerate(found) if quote in s.quote)
    s = found[index]
    at = s.start + s.quote.index(quote)
    span = Span(start=at, end=at + len(quote), quote=quote, section=s.span.section)
    return valuegate.gate(span, found, index, count=count, percentage=percentage, arms=ARMS,
                          comparative=comparative)


def test_the_model_ships_in_the_package_and_matches_its_card() -> None:
    package = Path(kg.__file__).resolve().parent
    assert valuegate.MODEL.resolve().is_relative_to(package / "data")
    assert "shared" not in valuegate.MODEL.resolve().relative_to(package).parts
    card = json.loads(valuegate.CARD.read_text(encoding="utf-8"))
    assert hashlib.sha256(valuegate.MODEL.read_bytes()).hexdigest() == card["sha256"]
    assert valuegate.MODEL.stat().st_size < 1_000_000
    assert 0 < valuegate.threshold() < 1
    assert valuegate.found_by() == f"model:valuegate-{card['version']}"


def test_keeps_the_arms_result_values() -> None:
    text = DESIGN + "The pCR rate was 31.8% with docetaxel versus 17.6% with observation (P = 0.01)."
    assert _gate(text, "pCR rate was 31.8%", percentage=Decimal("31.8")) == (None, Decimal("31.8"), True)
    text = DESIGN + ("Relapse occurred in 12 of 60 patients (20%) in the docetaxel arm and 20 of 60 "
                     "patients (33%) in the observation arm.")
    assert _gate(text, "12 of 60 patients (20%)", count=12, percentage=Decimal(20)) == (12, Decimal(20), True)


def test_turns_down_who_the_patients_were_and_a_completion_rate() -> None:
    text = DESIGN + "At baseline, 64 patients (53%) were postmenopausal."
    assert _gate(text, "64 patients (53%) were postmenopausal", count=64, percentage=Decimal(53)) == (None, None, True)
    text = DESIGN + "Overall, 95% of patients completed the questionnaire at 12 months."
    assert _gate(text, "95% of patients completed", percentage=Decimal(95)) == (None, None, True)


def test_a_value_not_printed_in_its_span_is_not_stated() -> None:
    text = DESIGN + "The pCR rate was 31.8% with docetaxel versus 17.6% with observation."
    assert _gate(text, "pCR rate was 31.8%", percentage=Decimal("42.0")) == (None, None, True)


def test_judges_only_studies_that_compare_arms() -> None:
    text = "Sixty women received docetaxel. At baseline, 64 patients (53%) were postmenopausal."
    quote = "64 patients (53%) were postmenopausal"
    assert _gate(text, quote, count=64, percentage=Decimal(53), comparative=False) == (64, Decimal(53), False)


def test_recording_keeps_every_number_and_reads_it_as_inference_does() -> None:
    text = DESIGN + "At baseline, 64 patients (53%) were postmenopausal."
    with valuegate.recording() as seen:
        assert _gate(text, "64 patients (53%)", count=64, percentage=Decimal(53)) == (64, Decimal(53), False)
    assert [(j.kind, j.value) for j in seen] == [("count", 64), ("percent", Decimal(53))]
    assert all(j.features and "b" in j.features for j in seen)
    place = seen[1].place
    assert place is not None and text[place[0] : place[1]] == "53"


def test_extract_records_the_gate_in_found_by() -> None:
    article = Article(pmid="1", title="Docetaxel versus observation in breast cancer: a randomized trial",
                      abstract=(AbstractSection(text=DESIGN + (
                          "The pCR rate was 31.8% with docetaxel versus 17.6% with observation (P = 0.01).")),))
    numbered = [o for o in extract(article).outcomes if o.measurement.percentage is not None]
    assert numbered and all(valuegate.found_by() in o.found_by for o in numbered)
    assert all(o.found_by[0].startswith("rule:") for o in numbered)


def _doc(pmid: str, k: int) -> dict[str, object]:
    """A small sociocom-like trial abstract with its gold result values."""
    a, b = 10 + k, 20 + k
    title = f"Drug {k} versus placebo in breast cancer."
    body = (f" Patients were randomized to drug {k} or placebo. At baseline, {30 + k}% were "
            f"postmenopausal. Response occurred in {a} of 60 patients ({a * 5 / 3:.1f}%) with drug {k} "
            f"and {b} of 60 ({b * 5 / 3:.1f}%) with placebo.")
    text = title + body
    spans = []
    for value in (str(a), f"{a * 5 / 3:.1f}", str(b), f"{b * 5 / 3:.1f}"):
        start = text.index(value, text.index("Response"))
        label = "iv" if value in (str(a), f"{a * 5 / 3:.1f}") else "cv"
        kind = "bin-percent" if "." in value else "bin-abs"
        spans.append({"start": start, "end": start + len(value), "label": f"{label}-{kind}", "text": value})
    return {"pmid": pmid, "text": text, "title_end": len(title), "spans": spans}


def test_training_is_reproducible_and_never_reads_dev(tmp_path: Path) -> None:
    pmids = [str(n) for n in range(1000, 1100)]
    train_ids = [p for p in pmids if not corpora.is_dev(p)][:12]
    dev_ids = [p for p in pmids if corpora.is_dev(p)][:2]
    lines = [json.dumps(_doc(p, k)) for k, p in enumerate(train_ids)]
    # a dev document whose text would break training if it were read
    lines += [json.dumps({"pmid": p, "text": "", "title_end": 0, "spans": [{"start": 0}]}) for p in dev_ids]
    (tmp_path / corpora.SOCIOCOM).write_text("\n".join(lines) + "\n", encoding="utf-8")
    first = train_valuegate.train(tmp_path, tmp_path / "a" / "valuegate.crfsuite")
    second = train_valuegate.train(tmp_path, tmp_path / "b" / "valuegate.crfsuite")
    assert (tmp_path / "a" / "valuegate.crfsuite").read_bytes() == (tmp_path / "b" / "valuegate.crfsuite").read_bytes()
    assert first == second
    assert first["documents"] == len(train_ids) and first["values"] >= 2 * len(train_ids)
    assert first["threshold"] in train_valuegate.THRESHOLDS
    digest = hashlib.sha256((tmp_path / "a" / "valuegate.crfsuite").read_bytes()).hexdigest()
    assert first["sha256"] == digest
    assert json.loads((tmp_path / "a" / "valuegate.json").read_text(encoding="utf-8")) == first


@pytest.mark.parametrize("text, expected", [
    ("Response: 36.3 vs 22.2% (P = 0.01)", [("percent", "36.3"), ("percent", "22.2")]),
    ("12 of 40 (30%) patients", [("count", "12"), ("count", "40"), ("percent", "30")]),
    ("treated with 60 mg for 6 months", []),
])
def test_candidates_are_counts_and_percentages(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(c.kind, text[c.start : c.end]) for c in valuegate.candidates(text)] == expected

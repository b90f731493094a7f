"""kg report: evidence reports for a question, on the seed and on shared records, with the
pooled estimates recomputed here with statsmodels and the HTML page drawn in Chromium."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.proportion import proportion_confint

from kg.cli import main
from kg.review import Outcome, pool, pool_by_kind, review
from kg.store import KgStore

DATA = Path(__file__).parent / "data"
SEED = DATA / "seed" / "000_e84263704ca7bb66.txt"
SHARED_FILE = (Path(__file__).resolve().parents[2] / "shared" / "data" / "pubmed" / "xml"
               / "pubmed_result" / "p1m-ortho-stmz__pubmed_result_v3.xml.gz")


def kg(*args: str, expect: int = 0) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == expect, (result.output, result.exception)
    assert "Traceback" not in result.output
    return result.output


@pytest.fixture(scope="module")
def seed_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("review") / "store"
    kg("build", str(SEED), "--store", str(store))
    return store


def test_report_on_the_seed_holds_its_outcomes(seed_store: Path, tmp_path: Path) -> None:
    page = tmp_path / "ivig.html"
    said = kg("report", "--intervention", "D016756", "--condition", "D003882", "--store",
              str(seed_store), "-o", str(page))
    assert "1 studies, 8 outcomes, 0 pooled" in said
    html = page.read_text(encoding="utf-8")
    assert "Immunoglobulins, Intravenous in Dermatomyositis" in html
    for fact in ("19/27 (70%)", "10/19 (53%)", "“Nineteen patients (70%) exhibited a major response”",
                 'href="https://pubmed.ncbi.nlm.nih.gov/23906502/"', "retrospective, single-centre",
                 "<svg", "19/27 · 70% (51.5–84.1)", "Read this before using the numbers",
                 "nothing is pooled"):
        assert fact in html, fact
    low, high = proportion_confint(19, 27, alpha=0.05, method="wilson")
    assert f"({100 * low:.1f}–{100 * high:.1f})" in html
    markdown = kg("report", "-i", "IVIG", "-c", "dermatomyositis", "--store", str(seed_store))
    assert markdown.startswith("# Evidence report: Immunoglobulins, Intravenous in Dermatomyositis")
    assert "| 19/27 (70%) |" in markdown and "[23906502](https://pubmed.ncbi.nlm.nih.gov/23906502/)" in markdown
    relapse = kg("report", "-i", "D016756", "-k", "relapse", "--store", str(seed_store))
    assert "10/19 (53%)" in relapse and "19/27" not in relapse
    (tmp_path / "r.md").write_text("old", encoding="utf-8")
    kg("report", "-i", "D016756", "--store", str(seed_store), "-o", str(tmp_path / "r.md"))
    assert (tmp_path / "r.md").read_text(encoding="utf-8").startswith("# Evidence report")


def test_report_usage_errors(seed_store: Path, tmp_path: Path) -> None:
    bad = kg("report", "-i", "D016756", "--store", str(seed_store), "-o", str(tmp_path / "r.pdf"),
             expect=2)
    assert ".html or .md" in bad and not (tmp_path / "r.pdf").exists()
    unknown = kg("report", "-i", "aspirn", "--store", str(seed_store), expect=2)
    assert "did you mean Aspirin (D001241)" in unknown
    nothing = kg("report", "-i", "Aspirin", "--store", str(seed_store))
    assert "No study in the store answers this question." in nothing


def _recomputed(pairs: list[tuple[int, int]]) -> tuple[float, float, float, float]:
    """The DerSimonian–Laird pooled proportion of (events, n) pairs, logit scale, with the
    library (estimate, low, high, I²)."""
    x = np.array([e for e, _ in pairs], dtype=float)
    n = np.array([t for _, t in pairs], dtype=float)
    eff, var = np.log(x / (n - x)), 1 / x + 1 / (n - x)
    res = combine_effects(eff, var, method_re="chi2", use_t=False)
    row = res.summary_frame(alpha=0.05).loc["random effect"]

    def expit(v: float) -> float:
        return 1 / (1 + math.exp(-v))

    return expit(row["eff"]), expit(row["ci_low"]), expit(row["ci_upp"]), float(res.i2)


def test_pool_matches_the_library_and_leaves_out_what_cannot_pool() -> None:
    def o(pmid: str, kind: str, count: int, n: int) -> Outcome:
        return Outcome(pmid, f"outcome {pmid}", kind, count, n, None, None, "", 0)

    outcomes = [o("1", "response", 19, 27), o("2", "response", 12, 40), o("2", "response", 1, 40),
                o("3", "response", 30, 50), o("4", "other", 5, 9), o("5", "other", 6, 9),
                o("6", "relapse", 3, 10)]
    (pooled,) = pool_by_kind(outcomes)  # "other" is no kind to pool; relapse has one study
    assert pooled.kind == "response" and [x.pmid for x in pooled.outcomes] == ["1", "2", "3"]
    assert pooled.outcomes[1].count == 12  # the first a study states
    est, low, high, i2 = _recomputed([(19, 27), (12, 40), (30, 50)])
    assert (pooled.estimate, pooled.low, pooled.high, pooled.i2) == pytest.approx((est, low, high, i2))
    edge = pool("response", [o("1", "response", 0, 20), o("2", "response", 5, 5)])
    assert edge is not None and 0 < edge.low < edge.estimate < edge.high < 1  # 0.5 added to both cells


@pytest.mark.shared
@pytest.mark.skipif(not SHARED_FILE.exists(), reason="needs ../shared/data/pubmed")
def test_a_pooled_estimate_on_shared_records_is_the_librarys(tmp_path: Path) -> None:
    store = tmp_path / "store"
    kg("build", str(SHARED_FILE), "--store", str(store))
    found = review(KgStore(store), intervention="Osteotomy")  # D010027
    assert len({s.pmid for s in found.studies}) >= 2
    (adverse,) = [p for p in found.pooled if p.kind == "adverse event"]
    assert adverse.k >= 2
    pairs = [(o.count or 0, o.denominator or 0) for o in adverse.outcomes]
    est, low, high, i2 = _recomputed(pairs)
    assert (adverse.estimate, adverse.low, adverse.high, adverse.i2) == pytest.approx((est, low, high, i2))
    page = tmp_path / "osteotomy.md"
    kg("report", "-i", "D010027", "--store", str(store), "-o", str(page))
    text = page.read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("- **adverse event**"))
    assert f"{100 * est:.1f}% (95% CI {100 * low:.1f}–{100 * high:.1f}%)" in line
    assert re.search(r"I² \d+%", line)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium")
def test_report_page_in_chromium(seed_store: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    kg("report", "-i", "D016756", "-c", "D003882", "--store", str(seed_store), "-o", str(page))
    shot = tmp_path / "report.png"
    common = ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
              f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*common, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert "<svg" in dom and "19/27 (70%)" in dom
    subprocess.run([*common, "--hide-scrollbars", "--window-size=1280,1500",
                    f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120,
                   check=True)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000

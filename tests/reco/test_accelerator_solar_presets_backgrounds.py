"""Published backgrounds of the accelerator and solar presets (issue #14, item 4).

PandaX-4T 8B (PRL 133, 191001 (2024), arXiv:2407.10892, abstract): the expected backgrounds are 2.8 +- 0.5 events in
the paired sample and 251 +- 32 in the US2 sample. The presets carry each total as one steady-state component with
the 8B recoil shape [ASSUMED: the paper's per-component table could not be read], normalised to the count in the
preset's analysis region (0-3 keVee, S2 triggered) through this package's pandax4t model. A quick ``run_chain``
must give the paper's count there, a finite significance, and, the backgrounds sitting where the signal sits, the
significance of a count (profile likelihood of s on b +- sigma_b), not more.

ccm, ess_10kg and csns: no background rate of their cited sources could be read (CCM120/CCM200 papers, Baxter et
al. arXiv:1911.00762, CLOVERS arXiv:2303.13423: only their first parts are stored), so they still refuse to quote
a significance, in one line.
"""

from __future__ import annotations

import math

import pytest

from generator.config import load_config
from reco.config import reco_from_dict
from reco.run import detector_for_run, run_chain

SMALL = ["generator.n_events=2000", "generator.chunk_size=2000", "reco.template_events=4000", "reco.plots=false",
         "reco.data=asimov"]
# (preset, paper's expected background, its 1-sigma, template oversampling that keeps the test quick)
PANDAX = [("pandax4t_b8_2024", 2.8, 0.5, 300), ("pandax4t_b8_2024_us2", 251.0, 32.0, 1)]
REFUSING = ("ccm", "ess_10kg", "csns")


def counting_significance(s: float, b: float, sigma_b: float) -> float:
    """Asimov significance of s events on a background b +- sigma_b (profile likelihood, Cowan et al., EPJC 71,
    1554 (2011), eq. 97 as extended to an uncertain background)."""
    v = sigma_b * sigma_b
    return math.sqrt(2.0 * ((s + b) * math.log((s + b) * (b + v) / (b * b + (s + b) * v))
                            - b * b / v * math.log(1.0 + v * s / (b * (b + v)))))


def test_counting_significance_limits():
    # sigma_b -> 0: sqrt(2((s+b) ln(1+s/b) - s)); s << b: s / sqrt(b + sigma_b^2)
    s, b = 3.5, 2.8
    assert counting_significance(s, b, 1e-4) == pytest.approx(math.sqrt(2 * ((s + b) * math.log(1 + s / b) - s)),
                                                              rel=1e-4)
    assert counting_significance(1.0, 1e4, 30.0) == pytest.approx(1.0 / math.sqrt(1e4 + 900.0), rel=1e-3)


@pytest.mark.parametrize("name,count,sigma,_", PANDAX)
def test_pandax_presets_carry_the_papers_background_and_its_uncertainty(name, count, sigma, _):
    cfg = load_config(preset=name)
    det = detector_for_run(cfg)
    assert [(bg.kind, bg.recoil_type) for bg in det.backgrounds] == [("steady_state", "nr")]
    rc = reco_from_dict(cfg.reco)
    assert rc.backgrounds_published is True
    assert rc.prior_ssb == pytest.approx(sigma / count, abs=1e-3)  # [paper, abstract] 0.5/2.8 and 32/251


@pytest.mark.parametrize("name,count,sigma,oversample", PANDAX)
def test_pandax_run_gives_the_papers_background_and_a_finite_significance(tmp_path, name, count, sigma, oversample):
    cfg = load_config(preset=name, overrides=SMALL + [f"reco.template_oversample={oversample}"])
    s = run_chain(cfg, tmp_path / "run", threads=1, progress=False)
    # the paper's expected background in its analysis region; tolerance: the normalisation was measured to ~2 %,
    # the test's template sample holds ~840 (paired) and ~250 (US2) background events
    assert s["expected_on"]["ssb"] == pytest.approx(count, rel=0.15 if count < 10 else 0.2)
    z = s["significance_no_cevns"]
    assert z is not None and math.isfinite(z) and z >= 0.0
    text = (tmp_path / "run" / "summary.txt").read_text(encoding="utf-8")
    assert "not quoted" not in text


def test_pandax_paired_significance_is_that_of_a_count_at_the_papers_signal(tmp_path):
    """With the 8B flux raised so that the paired selection sees about the paper's best-fit 3.5 events, the Asimov
    fit must give the significance of a count on 2.8 +- 0.5 (1.69 sigma), as the background has the signal's shape
    in the observable; a background separated from the signal in energy gave 3.1 sigma."""
    cfg = load_config(preset="pandax4t_b8_2024", overrides=[
        "generator.n_events=2000", "generator.chunk_size=2000", "reco.template_oversample=300", "reco.plots=false",
        "reco.data=asimov", "source.b8_flux_cm2_s=7.47e7"])
    s = run_chain(cfg, tmp_path / "run", threads=1, progress=False)
    n_sig, n_bg = s["expected_on"]["cevns"], s["expected_on"]["ssb"]
    assert n_sig == pytest.approx(3.5, rel=0.15)
    z_count = counting_significance(n_sig, n_bg, 0.179 * n_bg)
    assert s["significance_no_cevns"] == pytest.approx(z_count, rel=0.2)


@pytest.mark.parametrize("name", REFUSING)
def test_presets_without_readable_backgrounds_still_refuse(name):
    cfg = load_config(preset=name)
    assert detector_for_run(cfg).backgrounds in ((), [])
    assert reco_from_dict(cfg.reco).backgrounds_published is False


def test_refusal_is_one_line_in_the_summary(tmp_path):
    cfg = load_config(preset="csns", overrides=SMALL + ["reco.n_time_bins=4"])
    s = run_chain(cfg, tmp_path / "run", threads=1, progress=False)
    assert s["significance_no_cevns"] is None
    lines = [ln for ln in (tmp_path / "run" / "summary.txt").read_text(encoding="utf-8").splitlines()
             if "significance against no CEvNS" in ln]
    assert len(lines) == 1 and "not quoted: this experiment's backgrounds are not published" in lines[0]

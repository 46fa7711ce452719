"""cevns-generate: normalisation, reproducibility across threads and job splits, both formats, errors."""

import subprocess
import sys

import numba
import numpy as np
import pytest

from generator.config import load_config
from generator.eventfile import EventReader
from generator.generate import generate, plan_run, pseudo_experiment_count
from generator.sampler import EVENT_COLUMNS_TRUTH
from tests.helpers import jsroot_dir, jsroot_summary

SMALL = ["generator.chunk_size=20000"]


def cfg(preset="sns_csi", *extra):
    return load_config(preset=preset, overrides=SMALL + list(extra))


def read(path):
    return EventReader(path, stage="generator").read()[0]


def test_weights_sum_to_expected_and_metadata(tmp_path):
    out = tmp_path / "ev.h5"
    meta = generate(cfg(), out, n_events=50_000, progress=False)
    ev = read(out)
    assert len(ev["event_id"]) == 50_000
    assert ev["weight"].sum() == pytest.approx(meta["expected_events"], rel=1e-12)
    for key in ("format", "format_version", "stage", "package_version", "config", "seed", "chunk_range",
                "expected_events", "n_generated"):
        assert key in meta
    assert meta["n_generated"] == 50_000 and meta["chunk_range"] == [0, 3]
    np.testing.assert_array_equal(ev["event_id"], np.arange(50_000))
    assert set(EVENT_COLUMNS_TRUTH) <= set(EventReader(out).columns)


def test_identical_for_one_and_two_threads(tmp_path):
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs 2 threads")
    a = generate(cfg(), tmp_path / "a.h5", n_events=60_000, threads=1, progress=False)
    b = generate(cfg(), tmp_path / "b.h5", n_events=60_000, threads=2, progress=False)
    ea, eb = read(tmp_path / "a.h5"), read(tmp_path / "b.h5")
    for k in ea:
        np.testing.assert_array_equal(ea[k], eb[k])
    assert a["provenance_hash"] == b["provenance_hash"]
    # byte for byte: one HDF5 write per chunk whatever the thread count, and no object timestamps
    assert (tmp_path / "a.h5").read_bytes() == (tmp_path / "b.h5").read_bytes()


@pytest.mark.parametrize("splits", [[(0, 5)], [(0, 2), (2, 5)], [(0, 1), (1, 3), (3, 4), (4, 5)]])
def test_job_splits_concatenate_to_the_same_events(tmp_path, splits):
    reference = read_or_make(tmp_path, (0, 5))
    parts = [read_or_make(tmp_path, s) for s in splits]
    for k in reference:
        np.testing.assert_array_equal(np.concatenate([p[k] for p in parts]), reference[k])


def read_or_make(tmp_path, chunks):
    out = tmp_path / f"part_{chunks[0]}_{chunks[1]}.root"
    if not out.exists():
        generate(cfg(), out, n_events=90_000, chunks=chunks, progress=False)
    return read(out)


def test_partial_files_carry_their_share_of_the_exposure(tmp_path):
    m1 = generate(cfg(), tmp_path / "a.h5", n_events=90_000, chunks=(0, 2), progress=False)
    m2 = generate(cfg(), tmp_path / "b.h5", n_events=90_000, chunks=(2, None), progress=False)
    assert m1["n_generated"] + m2["n_generated"] == 90_000
    assert m1["expected_events"] + m2["expected_events"] == pytest.approx(m1["expected_events_total"])


def test_pseudo_experiment_count_and_weights(tmp_path):
    c = cfg("reactor_ge", "target.mass_kg=0.01", "generator.chunk_size=50")
    plan = plan_run(c, mode="pseudo_experiment", seed=3)
    mu = plan.tables.expected_events
    counts = np.array([pseudo_experiment_count(s, mu) for s in range(400)])
    assert abs(counts.mean() - mu) < 4 * np.sqrt(mu / len(counts))
    assert abs(counts.var(ddof=1) / mu - 1) < 0.3  # Poisson: variance = mean
    assert plan.n_events_total == pseudo_experiment_count(3, mu)
    # The same seed gives the same N for every chunk split.
    assert plan_run(c, mode="pseudo_experiment", seed=3, chunks=(1, 2)).n_events_total == plan.n_events_total
    meta = generate(c, tmp_path / "p.h5", mode="pseudo_experiment", seed=3, progress=False)
    ev = read(tmp_path / "p.h5")
    assert len(ev["weight"]) == plan.n_events_total and np.all(ev["weight"] == 1.0)
    assert meta["mode"] == "pseudo_experiment"


@pytest.mark.skipif(jsroot_dir() is None, reason="node + jsroot not installed (see .ci/run)")
def test_generated_root_file_read_by_jsroot(tmp_path):
    out = tmp_path / "ev.root"
    generate(cfg(), out, n_events=30_000, progress=False)
    s = jsroot_summary(out)
    ev = read(out)
    assert s["entries"] == 30_000
    for k, v in ev.items():
        assert s["sums"][k] == pytest.approx(float(np.sum(v, dtype=np.float64)), rel=1e-9, abs=1e-6), k


def run_cli(*args):
    code = "import sys; from generator.cli import generate_main; sys.exit(generate_main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("preset", ["sns_csi", "reactor_ge", "solar_xe", "mono_recoil_xe", "mono_recoil_ge",
                                    "mono_recoil_csi", "flat_recoil_xe"])
def test_cli_every_preset(tmp_path, preset):
    out = tmp_path / f"{preset}.h5"
    r = run_cli("--preset", preset, "-o", str(out), "--n-events", "2000", "--quiet", "--set",
                "generator.chunk_size=1000")
    assert r.returncode == 0, r.stderr
    assert EventReader(out).n_events == 2000


def test_cli_recoil_energy_override(tmp_path):
    out = tmp_path / "m.root"
    r = run_cli("--preset", "mono_recoil_xe", "--set", "source.recoil_kevnr=3.5", "-o", str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    assert np.all(read(out)["t_nr_kev"] == 3.5)


@pytest.mark.parametrize("args, fragment", [
    (["--preset", "sns_csi", "-o", "X.h5", "--chunks", "7:9"], "allowed ranges lie within 0:1"),
    (["--preset", "sns_csi", "-o", "X.h5", "--chunks", "x"], "expected START:STOP"),
    (["--preset", "sns_csi", "-o", "X.txt"], "unknown extension"),
    (["--preset", "reactor_ge", "-o", "X.h5", "--set", "recoil.threshold_kevnr=60"], "above the largest"),
    (["--preset", "sns_csi", "-o", "X.h5", "--n-events", "0"], "must be > 0"),
    (["--preset", "sns_csi", "-o", "X.h5", "--set", "generator.chunk_size=0"], "generator.chunk_size = 0"),
    (["--preset", "sns_csi"], "an output file is required"),
])
def test_cli_errors_leave_nothing(tmp_path, args, fragment):
    args = [a.replace("X.", str(tmp_path / "X.")) for a in args]
    r = run_cli(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert fragment in r.stderr and "Traceback" not in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_reused_output_buffers_give_the_same_events():
    from generator.experiment import Experiment
    from generator.sampler import SamplerTables, empty_truth, sample_chunks
    tab = SamplerTables.build(Experiment.from_config(cfg()))
    fresh = sample_chunks(tab, 9, [3, 4], [1000, 700], 1000, 0.5)
    buf = empty_truth(5000)
    for k in buf:  # stale content must be overwritten everywhere
        buf[k][:] = 7
    sample_chunks(tab, 9, [0], [1000], 1000, 0.5, out=buf)
    again = sample_chunks(tab, 9, [3, 4], [1000, 700], 1000, 0.5, out=buf)
    for k in fresh:
        np.testing.assert_array_equal(again[k], fresh[k])
    np.testing.assert_array_equal(fresh["event_id"], np.concatenate([3000 + np.arange(1000), 4000 + np.arange(700)]))
    with pytest.raises(ValueError, match="at least 1700 rows"):
        sample_chunks(tab, 9, [3, 4], [1000, 700], 1000, 0.5, out=empty_truth(100))

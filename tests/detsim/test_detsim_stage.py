"""The detsim stage end to end: formats, provenance, timing windows, reproducibility, errors."""

import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from detsim.config import load_detector
from detsim.simulate import simulate_detector
from generator.config import load_config
from generator.constants import TAU_MUON_NS, TAU_PION_NS
from generator.eventfile import EventFileError, EventReader
from generator.generate import generate

SNS_GE = ["target.material=Ge", "target.mass_kg=10", "generator.chunk_size=20000"]


@pytest.fixture(scope="module")
def sns_ge(tmp_path_factory):
    d = tmp_path_factory.mktemp("sns")
    gen = d / "gen.h5"
    generate(load_config(preset="sns_csi", overrides=SNS_GE), gen, n_events=60_000, progress=False)
    return gen


@pytest.mark.parametrize("fin, fout", [(".h5", ".root"), (".root", ".h5")])
def test_formats_and_provenance(tmp_path, fin, fout):
    gen = tmp_path / f"gen{fin}"
    gm = generate(load_config(preset="reactor_ge", overrides=["generator.chunk_size=20000"]), gen,
                  n_events=30_000, progress=False)
    out = tmp_path / f"det{fout}"
    meta = simulate_detector(gen, out, load_detector("conus_plus"), progress=False)
    r = EventReader(out, stage="detsim", require=["e_det_kevee", "triggered", "psd_pass", "origin"])
    cols, _ = r.read()
    truth, _ = EventReader(gen).read()
    for k in truth:
        np.testing.assert_array_equal(cols[k], truth[k])  # truth carried over unchanged
    assert np.all(cols["origin"] == 0)
    assert meta["parent_provenance_hash"] == gm["provenance_hash"]
    assert meta["expected_events"] == pytest.approx(gm["expected_events"])
    assert meta["psd"]["bulk_acceptance"] == 0.9


def test_reproducible_over_job_splits(tmp_path):
    cfg = load_config(preset="reactor_ge", overrides=["generator.chunk_size=10000"])
    det = load_detector("conus_plus")
    generate(cfg, tmp_path / "all.h5", n_events=30_000, progress=False)
    simulate_detector(tmp_path / "all.h5", tmp_path / "all_d.h5", det, progress=False, threads=1)
    parts = []
    for a, b in ((0, 1), (1, 3)):
        generate(cfg, tmp_path / f"g{a}.h5", n_events=30_000, chunks=(a, b), progress=False)
        simulate_detector(tmp_path / f"g{a}.h5", tmp_path / f"d{a}.h5", det, progress=False, threads=2)
        parts.append(EventReader(tmp_path / f"d{a}.h5").read()[0])
    whole = EventReader(tmp_path / "all_d.h5").read()[0]
    for k in whole:
        np.testing.assert_array_equal(np.concatenate([p[k] for p in parts]), whole[k])


def test_beam_windows_and_duty_factor(tmp_path, sns_ge):
    det = load_detector("coherent_ge_mini")
    meta = simulate_detector(sns_ge, tmp_path / "d.h5", det, progress=False)
    c, _ = EventReader(tmp_path / "d.h5").read()
    t = det.timing
    on = (c["time_ns"] >= t.on_start_ns) & (c["time_ns"] < t.on_start_ns + t.on_length_ns)
    off = (c["time_ns"] >= t.off_start_ns) & (c["time_ns"] < t.off_start_ns + t.off_length_ns)
    np.testing.assert_array_equal(c["on_beam"], on)
    np.testing.assert_array_equal(c["off_beam"], off)
    assert not c["off_beam"].any()  # beam neutrinos never arrive before the pulse
    assert meta["beam_windows"]["duty_factor"] == pytest.approx(60 * 6e-6)
    np.testing.assert_allclose(c["abs_time_s"], c["pulse_index"] / 60.0 + c["time_ns"] * 1e-9)


def test_prompt_and_delayed_keep_their_time_shapes(tmp_path, sns_ge):
    simulate_detector(sns_ge, tmp_path / "d.root", load_detector("coherent_ge_mini"), progress=False)
    r = EventReader(tmp_path / "d.root")
    c, _ = r.read()
    comps = r.metadata["components"]
    sel = c["triggered"]
    prompt = c["time_ns"][sel & (c["component"] == comps.index("prompt_nu_mu"))]
    delayed = c["time_ns"][sel & (c["component"] == comps.index("delayed_nu_e"))]
    sigma = 150.0
    assert stats.kstest(prompt, stats.exponnorm(TAU_PION_NS / sigma, scale=sigma).cdf).pvalue > 1e-3
    assert np.mean(delayed) == pytest.approx(TAU_PION_NS + TAU_MUON_NS, rel=0.05)
    assert np.median(prompt) < 200 < np.median(delayed)


def run_cli(*args):
    code = "import sys; from detsim.cli import detsim_main; sys.exit(detsim_main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300)


def test_cli_and_errors(tmp_path, sns_ge):
    out = tmp_path / "d.h5"
    r = run_cli(str(sns_ge), "-o", str(out), "--detector", "coherent_ge_mini", "--quiet", "--set",
                "hpge.fano=0.12")
    assert r.returncode == 0, r.stderr
    assert EventReader(out).metadata["detector"]["hpge"]["fano"] == 0.12
    r = run_cli(str(out), "-o", str(tmp_path / "again.h5"), "--detector", "conus_plus")
    assert r.returncode == 2 and "expected a 'generator' file" in r.stderr
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n garbage")
    r = run_cli(str(bad), "-o", str(tmp_path / "x.h5"), "--detector", "conus_plus")
    assert r.returncode == 2 and "not a readable HDF5 file" in r.stderr and "Traceback" not in r.stderr
    r = run_cli(str(sns_ge), "-o", str(tmp_path / "x.h5"), "--detector", "nope")
    assert r.returncode == 2 and "unknown detector 'nope'" in r.stderr
    r = run_cli(str(sns_ge), "-o", str(tmp_path / "x.h5"), "--detector", "conus_plus", "--set", "hpge.fano=2")
    assert r.returncode == 2 and "hpge.fano = 2" in r.stderr
    assert not (tmp_path / "x.h5").exists()
    r = run_cli("--list-detectors")
    assert "conus_plus" in r.stdout and "coherent_ge_mini" in r.stdout


def test_missing_input_file(tmp_path):
    with pytest.raises(EventFileError, match="no such file"):
        simulate_detector(tmp_path / "none.h5", tmp_path / "o.h5", load_detector("conus_plus"))


def test_extra_input_columns_are_carried_through(tmp_path):
    # A reweighted generator file keeps its weight_<name> columns through detsim (backgrounds get their weight).
    from generator.eventfile import EventWriter

    gen = tmp_path / "gen.h5"
    generate(load_config(preset="reactor_ge", overrides=["generator.chunk_size=5000"]), gen, n_events=5000,
             progress=False)
    r = EventReader(gen)
    cols, _ = r.read()
    cols["weight_alt"] = cols["weight"] * 2.0
    columns = {k: (v.dtype, r.units.get(k, "")) for k, v in cols.items()}
    rw = tmp_path / "rw.h5"
    with EventWriter(rw, stage="generator", columns=columns) as w:
        w.write(cols)
        w.close({k: v for k, v in r.metadata.items() if k not in ("columns", "jagged", "n_events", "format",
                                                                  "format_version", "stage", "provenance_hash")})
    from detsim.config import detector_from_dict, to_dict

    raw = to_dict(load_detector("conus_plus"))
    raw["backgrounds"] = [{"kind": "steady_state", "recoil_type": "er", "e_min_kev": 0.1, "e_max_kev": 1.0,
                           "rate_per_kev_kg_day": 5.0}]
    simulate_detector(rw, tmp_path / "d.h5", detector_from_dict(raw), progress=False)
    d, _ = EventReader(tmp_path / "d.h5").read()
    cev = d["origin"] == 0
    np.testing.assert_allclose(d["weight_alt"][cev], 2 * d["weight"][cev])
    np.testing.assert_array_equal(d["weight_alt"][~cev], d["weight"][~cev])
    assert (~cev).sum() > 0


def test_chunk_ranges_of_one_file_merge_to_the_whole(tmp_path):
    from generator.merge import merge_files

    gen = tmp_path / "gen.h5"
    generate(load_config(preset="reactor_ge", overrides=["generator.chunk_size=4000"]), gen, n_events=12_000,
             progress=False)
    det = load_detector("conus_plus")
    simulate_detector(gen, tmp_path / "all.h5", det, progress=False)
    parts = tmp_path / "parts"
    for a, b in ((0, 1), (1, 3)):
        simulate_detector(gen, parts / f"d{a}.h5", det, progress=False, chunks=(a, b))
    merged = merge_files(parts, tmp_path / "merged.h5", progress=False)
    whole, _ = EventReader(tmp_path / "all.h5").read()
    got, _ = EventReader(tmp_path / "merged.h5").read()
    for k in whole:
        np.testing.assert_array_equal(got[k], whole[k])
    assert merged["expected_events"] == pytest.approx(EventReader(tmp_path / "all.h5").metadata["expected_events"])
    with pytest.raises(Exception, match="holds chunks 0:3"):
        simulate_detector(gen, tmp_path / "x.h5", det, chunks=(2, 5))


def test_a_detector_refuses_recoils_on_another_target(tmp_path, capsys):
    from detsim.cli import detsim_main
    from generator.config import load_config
    from generator.generate import generate

    generate(load_config(preset="sns_csi"), tmp_path / "csi.h5", n_events=2000, progress=False)
    assert detsim_main([str(tmp_path / "csi.h5"), "--detector", "conus_plus", "-o", str(tmp_path / "d.h5")]) == 2
    err = capsys.readouterr().err
    assert "is made of Ge but" in err and "holds recoils on CsI" in err and err.count("\n") == 1
    assert not (tmp_path / "d.h5").exists()
    assert detsim_main([str(tmp_path / "csi.h5"), "--detector", "conus_plus", "-o", str(tmp_path / "d.h5"),
                        "--allow-target-mismatch", "--quiet"]) == 0


def test_beam_windows_inside_a_long_pulse_are_refused(tmp_path, capsys):
    # ESS: 2.86 ms pulses (arXiv:2206.01208); 6 us on/off windows both sit inside the pulse and see the same flux
    from detsim.cli import detsim_main
    from generator.config import load_config
    from generator.generate import generate

    cfg = load_config(preset="sns_csi", overrides=["source.facility=ess", "source.nu_per_proton_per_flavour=0.3",
                                                   "source.beam_power_mw=5.0", "source.proton_energy_gev=2.0"])
    generate(cfg, tmp_path / "ess.h5", n_events=2000, progress=False)
    out = str(tmp_path / "d.h5")
    assert detsim_main([str(tmp_path / "ess.h5"), "--detector", "cryocsi", "-o", out, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "cannot separate the beam" in err and "ESS pulse is 2.86e+06 ns long" in err and err.count("\n") == 1
    wide = ["--set", "timing.on_start_ns=-1500000", "--set", "timing.on_length_ns=3000000",
            "--set", "timing.off_start_ns=-9000000", "--set", "timing.off_length_ns=3000000"]
    assert detsim_main([str(tmp_path / "ess.h5"), "--detector", "cryocsi", "-o", out, "--quiet", *wide]) == 0


def test_missing_detector_file_is_reported_as_a_missing_file():
    from detsim.config import load_detector
    from generator._validate import ConfigError

    with pytest.raises(ConfigError, match="detector file 'missing.toml' does not exist"):
        load_detector("missing.toml")
    with pytest.raises(ConfigError, match="unknown detector 'nosuch'"):
        load_detector("nosuch")


def test_detsim_hdf5_is_byte_identical_for_one_and_two_threads(tmp_path):
    from detsim.config import load_detector
    from detsim.simulate import simulate_detector
    from generator.config import load_config
    from generator.generate import generate

    cfg = load_config(preset="sns_csi", overrides=["generator.chunk_size=10000"])
    generate(cfg, tmp_path / "g.h5", n_events=40_000, progress=False)
    for t in (1, 2):
        simulate_detector(tmp_path / "g.h5", tmp_path / f"d{t}.h5", load_detector("cryocsi"), threads=t, progress=False)
    assert (tmp_path / "d1.h5").read_bytes() == (tmp_path / "d2.h5").read_bytes()


def test_hdf5_to_hdf5_copies_stored_chunks_and_equals_the_decoding_path(tmp_path, monkeypatch):
    # Generator chunks of 20000 rows fall on stored chunks of 20000: the input columns are copied as stored chunks,
    # only what the chain reads is decoded (in the workers). Same columns as decoding and compressing everything,
    # byte-identical files for 1 and 2 threads, the copied chunks' bytes those of the input.
    import h5py

    import detsim.simulate as sim
    from generator.eventfile import RawBlock  # noqa: F401  (public: the stage's reader API)

    gen = tmp_path / "g.h5"
    generate(load_config(preset="reactor_ge", overrides=["generator.chunk_size=20000"]), gen, n_events=50_000,
             progress=False)
    det = load_detector("conus_plus")
    for t in (1, 2):
        simulate_detector(gen, tmp_path / f"d{t}.h5", det, threads=t, progress=False)
    assert (tmp_path / "d1.h5").read_bytes() == (tmp_path / "d2.h5").read_bytes()
    with h5py.File(gen) as fin, h5py.File(tmp_path / "d1.h5") as fout:
        for c in ("enu_mev", "event_id", "t_nr_kev", "weight"):
            src, dst = fin["events"][c], fout["events"][c]
            assert dst.chunks == src.chunks == (20000,)
            for r in range(0, 50_000, 20_000):
                assert dst.id.read_direct_chunk((r,)) == src.id.read_direct_chunk((r,))
    monkeypatch.setattr(sim, "stored_plan", lambda *a, **k: None)
    simulate_detector(gen, tmp_path / "ref.h5", det, threads=2, progress=False)
    got, _ = EventReader(tmp_path / "d1.h5").read()
    want, _ = EventReader(tmp_path / "ref.h5").read()
    assert set(got) == set(want)
    for k in want:
        np.testing.assert_array_equal(got[k], want[k])
    # a chunk range of the same file: the stored path from an offset
    monkeypatch.undo()
    simulate_detector(gen, tmp_path / "part.h5", det, threads=2, progress=False, chunks=(1, 3))
    part, _ = EventReader(tmp_path / "part.h5").read()
    for k in want:
        np.testing.assert_array_equal(part[k], want[k][20_000:])


@pytest.mark.parametrize("with_background, out_ext", [(True, ".h5"), (False, ".root")])
def test_stored_blocks_decoded_in_workers_equal_the_main_thread_reader(tmp_path, monkeypatch, with_background,
                                                                       out_ext):
    # Backgrounds interleave with the events, ROOT has no stored chunks: nothing is copied, every column is decoded
    # from the stored chunks in the workers; the same events as h5py's reader in the main thread.
    import detsim.simulate as sim
    from detsim.config import detector_from_dict, to_dict

    gen = tmp_path / "g.h5"
    generate(load_config(preset="reactor_ge", overrides=["generator.chunk_size=20000"]), gen, n_events=30_000,
             progress=False)
    raw = to_dict(load_detector("conus_plus"))
    if with_background:
        raw["backgrounds"] = [{"kind": "steady_state", "recoil_type": "er", "e_min_kev": 0.1, "e_max_kev": 1.0,
                               "rate_per_kev_kg_day": 5.0}]
    det = detector_from_dict(raw)
    plans = []
    monkeypatch.setattr(sim, "stored_plan", lambda *a, _f=sim.stored_plan: plans.append(_f(*a)) or plans[-1])
    simulate_detector(gen, tmp_path / f"d{out_ext}", det, threads=2, progress=False)
    assert plans[0] is not None and plans[0]["copy"] == []
    monkeypatch.setattr(sim, "stored_plan", lambda *a, **k: None)
    simulate_detector(gen, tmp_path / f"ref{out_ext}", det, threads=2, progress=False)
    got, _ = EventReader(tmp_path / f"d{out_ext}").read()
    want, _ = EventReader(tmp_path / f"ref{out_ext}").read()
    assert (want["origin"] != 0).any() == with_background
    for k in want:
        np.testing.assert_array_equal(got[k], want[k])


def test_stored_blocks_decode_to_the_columns(tmp_path):
    gen = tmp_path / "g.h5"
    generate(load_config(preset="sns_csi", overrides=["generator.chunk_size=100000"]), gen, n_events=170_000,
             progress=False)
    r = EventReader(gen)
    assert r.stored_chunk_rows(r.columns) == 50000  # two stored chunks per generator chunk, the last one partial
    whole, _ = r.read()
    blocks = list(r.iter_stored_blocks(100_000, r.columns))
    assert [b.n for b in blocks] == [100_000, 70_000]
    for k in r.columns:
        np.testing.assert_array_equal(np.concatenate([b.decode([k])[k] for b in blocks]), whole[k])
    with pytest.raises(EventFileError, match="do not fall on stored chunks"):
        next(r.iter_stored_blocks(30_000, r.columns))

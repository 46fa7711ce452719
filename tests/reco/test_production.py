"""Production at scale: job splits, Dask, merging with its refusals, resuming after SIGKILL."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from generator.config import load_config
from generator.eventfile import EventReader
from generator.generate import generate
from generator.merge import EventFileSet, MergeError, merge_files
from reco.production import produce, resolve_job

OVERRIDES = ["generator.chunk_size=5000"]
N = 35_000  # 7 chunks


def cfg(*extra):
    return load_config(preset="reactor_ge", overrides=OVERRIDES + list(extra))


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    path = tmp_path_factory.mktemp("single") / "all.h5"
    generate(cfg(), path, n_events=N, progress=False)
    return EventReader(path).read()[0], path


def merged_columns(directory, out):
    merge_files(directory, out, progress=False)
    return EventReader(out).read()[0]


@pytest.mark.parametrize("n_jobs", [1, 3, 7])
def test_job_splits_merge_to_the_single_run(tmp_path, single, n_jobs):
    for j in range(n_jobs):
        produce(cfg(), tmp_path / "prod", n_events=N, job_index=j, n_jobs=n_jobs, progress=False)
    merged = merged_columns(tmp_path / "prod", tmp_path / "merged.root")
    ref, ref_path = single
    for k in ref:
        np.testing.assert_array_equal(merged[k], ref[k])
    m = EventReader(tmp_path / "merged.root").metadata
    assert m["expected_events"] == pytest.approx(EventReader(ref_path).metadata["expected_events"])
    assert m["n_generated"] == N and m["missing_chunks"] == []


def test_dask_local_cluster_gives_the_same_events(tmp_path, single):
    pytest.importorskip("distributed")
    report = produce(cfg(), tmp_path / "prod", n_events=N, chunks_per_file=2, dask="local:2", progress=False)
    assert report["units_made"] == 4
    merged = merged_columns(tmp_path / "prod", tmp_path / "merged.h5")
    for k, v in single[0].items():
        np.testing.assert_array_equal(merged[k], v)


def test_merge_refusals(tmp_path):
    a = tmp_path / "a.h5"
    generate(cfg(), a, n_events=N, chunks=(0, 3), progress=False)
    b = tmp_path / "b.h5"
    generate(cfg(), b, n_events=N, chunks=(2, 5), progress=False)
    with pytest.raises(MergeError, match="overlaps"):
        merge_files([a, b], tmp_path / "m.h5")
    c = tmp_path / "c.h5"
    generate(cfg("target.mass_kg=2"), c, n_events=N, chunks=(3, 5), progress=False)
    with pytest.raises(MergeError, match="differ in config"):
        merge_files([a, c], tmp_path / "m.h5")
    d = tmp_path / "d.h5"
    generate(cfg(), d, n_events=N, seed=99, chunks=(3, 5), progress=False)
    with pytest.raises(MergeError, match="seed"):
        merge_files([a, d], tmp_path / "m.h5")
    with pytest.raises(MergeError, match="no such file"):
        merge_files([a, tmp_path / "missing.h5"], tmp_path / "m.h5")
    foreign = tmp_path / "foreign.h5"
    foreign.write_text("not hdf5")
    with pytest.raises(Exception, match="not a readable HDF5"):
        merge_files([a, foreign], tmp_path / "m.h5")
    with pytest.raises(MergeError, match=r"chunks missing from the inputs: 3:7"):
        merge_files([a], tmp_path / "m.h5")
    meta = merge_files([a], tmp_path / "m.h5", allow_missing=True, progress=False)
    assert meta["missing_chunks"] == [3, 4, 5, 6]
    assert not (tmp_path / "m.h5.tmp").exists()


def test_readers_take_lists_and_globs(tmp_path, single):
    produce(cfg(), tmp_path / "p", n_events=N, chunks_per_file=3, progress=False)
    fs = EventFileSet(str(tmp_path / "p" / "events_*.h5"))
    assert fs.n_events == N
    cols, _ = fs.read()
    np.testing.assert_array_equal(cols["t_nr_kev"], single[0]["t_nr_kev"])


def test_job_index_from_slurm(monkeypatch):
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "4")
    monkeypatch.setenv("SLURM_ARRAY_TASK_COUNT", "8")
    assert resolve_job("auto", None) == (4, 8)
    with pytest.raises(Exception, match="allowed 0..2"):
        resolve_job(3, 3)


def test_killed_production_resumes_to_the_same_bytes(tmp_path):
    ref = tmp_path / "ref"
    produce(cfg(), ref, n_events=N, progress=False)
    run = tmp_path / "run"
    cmd = [sys.executable, "-c", "import sys; from reco.cli import produce_main; "
           "sys.exit(produce_main(sys.argv[1:]))", "--preset", "reactor_ge", "--set", "generator.chunk_size=5000",
           "--n-events", str(N), "-o", str(run), "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(run.glob("events_*.h5"))) < 2:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = sorted(p.name for p in run.glob("events_*.h5"))
    assert 0 < len(before) < 7, "the kill should land mid-production"
    for p in run.glob("events_*.h5"):  # every file left behind reads back complete
        EventReader(p)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert '"units_skipped": ' + str(len(before)) in r.stdout
    assert not list(run.glob(".*tmp*"))
    for p in sorted(ref.glob("events_*.h5")):
        assert (run / p.name).read_bytes() == p.read_bytes(), p.name


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["serial", "dask"])
def test_ctrl_c_stops_a_production_within_seconds(tmp_path, engine):
    if engine == "dask":
        pytest.importorskip("distributed")
    out = tmp_path / "prod"
    args = ["--preset", "demo", "-o", str(out), "--n-events", "20000000", "--quiet"]
    args += ["--dask", "local:2"] if engine == "dask" else []
    code = "import sys; from reco.cli import produce_main; sys.exit(produce_main(sys.argv[1:]))"
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and not list(out.glob("detector_*.h5")):  # work is under way
        time.sleep(0.2)
    t0 = time.time()
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group, workers included
    _, err = proc.communicate(timeout=60)
    assert time.time() - t0 < 10
    assert proc.returncode == 130
    assert err.strip() == "cevns-produce: interrupted"  # one line: no traceback from any worker
    time.sleep(1.0)
    assert not [p for p in out.iterdir() if ".tmp-" in p.name]  # no partial file


def test_root_production_reads_with_uproot_and_merges_from_its_directory(tmp_path, single):
    import uproot

    from generator.scale_cli import merge_main

    det_cfg = cfg("detector.preset=conus_plus")
    produce(det_cfg, tmp_path / "prod", n_events=N, chunks_per_file=2, file_format="root", progress=False)
    names = sorted(p.name for p in (tmp_path / "prod").iterdir())
    assert names[0] == "detector_c000000-000002.root" and all(n.endswith(".root") for n in names)
    files = sorted(str(p) + ":events" for p in (tmp_path / "prod").glob("events_c*.root"))  # in chunk order
    ev = uproot.concatenate(files, ["t_nr_kev"], library="np")
    np.testing.assert_array_equal(ev["t_nr_kev"], single[0]["t_nr_kev"])
    # the production directory itself: the detector files by default (the last stage), the events on request
    assert merge_main([str(tmp_path / "det.h5"), str(tmp_path / "prod"), "--quiet"]) == 0
    assert EventReader(tmp_path / "det.h5").metadata["stage"] == "detsim"
    assert merge_main([str(tmp_path / "prod" / "ev.h5"), str(tmp_path / "prod"), "--stage", "generator",
                       "--quiet"]) == 0
    np.testing.assert_array_equal(EventReader(tmp_path / "prod" / "ev.h5").read()[0]["t_nr_kev"],
                                  single[0]["t_nr_kev"])
    # a merged file written into the directory is not taken for a unit on the next merge
    assert merge_main([str(tmp_path / "det2.h5"), str(tmp_path / "prod"), "--quiet"]) == 0

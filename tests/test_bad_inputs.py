"""Bad inputs found by a bad-input sweep: one line naming the value and what is allowed, exit 2, no traceback,
no file left, the input untouched."""

import hashlib
import subprocess
import sys

import pytest

from generator.config import load_config
from generator.generate import generate


def run(entry, *args, cwd=None):
    module, func = entry.split(":")
    code = f"import sys; from {module} import {func}; sys.exit({func}(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    generate(load_config(preset="reactor_ge"), d / "gen.h5", n_events=5000, progress=False)
    from detsim.config import load_detector
    from detsim.simulate import simulate_detector

    simulate_detector(d / "gen.h5", d / "det.h5", load_detector("conus_plus"), progress=False)
    (d / "zp.toml").write_text("name = 'zp'\n[bsm]\nzprime_mass_mev = 20.0\nzprime_coupling = 6e-5\n")
    return d


def one_line_error(r, fragment):
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert fragment in r.stderr, r.stderr


@pytest.mark.parametrize("entry, args", [
    ("detsim.cli:detsim_main", ["gen.h5", "--detector", "conus_plus", "-o", "gen.h5"]),
    ("generator.cli:reweight_main", ["gen.h5", "-o", "./gen.h5", "--hypothesis", "zp.toml"]),
    ("reco.cli:reco_main", ["det.h5", "-o", "det.h5"]),
    ("generator.scale_cli:merge_main", ["gen.h5", "gen.h5"]),
])
def test_an_output_that_is_the_input_is_refused(files, entry, args):
    before = {p.name: digest(p) for p in files.glob("*.h5")}
    one_line_error(run(entry, *args, cwd=files), "this is the input file")
    assert {p.name: digest(p) for p in files.glob("*.h5")} == before


def test_an_impossible_event_count_is_refused_without_allocating(tmp_path):
    r = run("generator.cli:generate_main", "--preset", "sns_csi", "--n-events", "1000000000000000",
            "-o", str(tmp_path / "x.h5"))
    one_line_error(r, "at most 10000000 are allowed")
    assert not list(tmp_path.iterdir())


def test_fission_fractions_must_sum_to_one(tmp_path):
    r = run("generator.cli:rate_main", "--preset", "reactor_ge", "--set",
            "source.fission_fractions={u235 = 0.2, u238 = 0.1, pu239 = 0.1, pu241 = 0.1}")
    one_line_error(r, "source.fission_fractions sum to 0.5: the fractions of u235, u238, pu239, pu241 must sum to 1")


def test_zero_threads_is_refused(tmp_path):
    r = run("generator.cli:generate_main", "--preset", "sns_csi", "--threads", "0", "-o", str(tmp_path / "x.h5"))
    one_line_error(r, "--threads 0: allowed 1..")
    assert not list(tmp_path.iterdir())

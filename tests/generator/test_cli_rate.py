"""cevns-rate: presets, JSON output and clear errors (exit 2, no traceback)."""

import json
import shutil
import subprocess
import sys

import pytest


def run(*args):
    code = "import sys; from generator.cli import rate_main; sys.exit(rate_main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)


def test_console_script_installed():
    assert shutil.which("cevns-rate"), "pip install -e . should install the cevns-rate command"


@pytest.mark.parametrize("preset", ["sns_csi", "reactor_ge", "solar_xe"])
def test_json_output_for_each_source_kind(preset):
    r = run("--preset", preset, "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    for key in ("expected_events", "by_isotope", "by_flavour", "by_component", "flux_averaged_xsec_cm2",
                "flux_cm2_s"):
        assert key in d
    assert d["expected_events"] > 0
    assert sum(d["by_isotope"].values()) == pytest.approx(d["expected_events"])


def test_human_table_and_list():
    r = run("--preset", "sns_csi")
    assert r.returncode == 0 and "expected CEvNS events" in r.stdout and "Cs133" in r.stdout
    r = run("--list-presets")
    assert r.returncode == 0
    for name in ("sns_csi", "reactor_ge", "solar_xe"):
        assert name in r.stdout


def test_config_file_and_override(tmp_path):
    cfg = tmp_path / "my.toml"
    cfg.write_text('[source]\nkind = "reactor"\nthermal_power_gw = 1.0\ndistance_m = 10.0\n'
                   '[target]\nmaterial = "Ge"\nmass_kg = 1.0\n[exposure]\nlive_days = 1.0\n')
    a = json.loads(run(str(cfg), "--json").stdout)["expected_events"]
    b = json.loads(run(str(cfg), "--json", "--set", "target.mass_kg=3").stdout)["expected_events"]
    assert b == pytest.approx(3 * a)


@pytest.mark.parametrize("args, fragment", [
    (["--preset", "sns_csi", "--set", "target.isotopes={Cs999 = 1.0}"], "Cs999"),
    (["--preset", "sns_csi", "--set", "target.material=XyI"], "unknown element 'Xy'"),
    (["--preset", "sns_csi", "--set", "source.colour=1"], "unknown key 'colour' in [source]"),
    (["--preset", "sns_csi", "--set", "target.mass_kg=-1"], "target.mass_kg = -1.0: must be > 0 kg"),
    (["--preset", "sns_csi", "--set", "source.distance_m=-3"], "source.distance_m = -3"),
    (["--preset", "reactor_ge", "--set", "recoil.threshold_kevnr=100"], "recoil.threshold_kevnr = 100"),
    (["--preset", "nope"], "unknown preset 'nope'; available:"),
    (["--preset", "sns_csi", "--set", "physics.form_factor=gauss"], "allowed values are 'helm'"),
    (["--preset", "reactor_ge", "--set", "source.fission_fractions={u236 = 1.0}"], "unknown isotope(s) u236"),
])
def test_bad_input_exit_2_without_traceback(args, fragment):
    r = run(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    assert fragment in r.stderr


def test_malformed_flux_table(tmp_path):
    table = tmp_path / "flux.csv"
    table.write_text("enu_mev,flux\n1.0,5\n0.5,2\n")
    cfg = tmp_path / "t.toml"
    cfg.write_text(f'[source]\nkind = "table"\nfile = "{table}"\nnu_pdg = 12\n'
                   '[target]\nmaterial = "Ar"\nmass_kg = 1.0\n[exposure]\nlive_days = 1.0\n')
    r = run(str(cfg))
    assert r.returncode == 2 and "strictly increasing" in r.stderr and "Traceback" not in r.stderr


def test_unverified_facility_yield_must_be_given(tmp_path):
    cfg = tmp_path / "ess.toml"
    cfg.write_text('[source]\nkind = "pion_dar"\nfacility = "ess"\ndistance_m = 20.0\n'
                   '[target]\nmaterial = "CsI"\nmass_kg = 10.0\n[exposure]\nlive_days = 100.0\n')
    r = run(str(cfg))
    assert r.returncode == 2 and "source.nu_per_proton_per_flavour is required for facility 'ess'" in r.stderr
    r = run(str(cfg), "--set", "source.nu_per_proton_per_flavour=0.3", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["expected_events"] > 0


def test_table_path_is_relative_to_the_configuration_file(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "flux.csv").write_text("enu_mev,flux\n1.0,5\n10.0,2\n50.0,0.1\n")
    cfg = tmp_path / "conf" / "t.toml"
    cfg.write_text('[source]\nkind = "table"\nfile = "flux.csv"\nnu_pdg = 12\n'
                   '[target]\nmaterial = "Ar"\nmass_kg = 1.0\n[exposure]\nlive_days = 1.0\n')
    r = subprocess.run([sys.executable, "-c", "import sys; from generator.cli import rate_main; "
                        "sys.exit(rate_main(sys.argv[1:]))", str(cfg), "--json"], capture_output=True, text=True,
                       timeout=120, cwd=tmp_path)  # the working directory is not the configuration's
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["expected_events"] > 0


@pytest.mark.parametrize("value", ["0", "-1", "100000"])
def test_threads_outside_the_cores_are_refused(value):
    from generator._validate import ConfigError, resolve_threads

    with pytest.raises(ConfigError, match=f"--threads {value}: allowed 1"):
        resolve_threads(int(value))
    assert resolve_threads(None) >= 1

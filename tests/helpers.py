"""Shared test helpers: an independent ROOT reader (JSROOT under node) when one is installed; `cevns-rate --json`
in process; the preset builders' shared module."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JSROOT_DIRS = [Path(p) for p in (os.environ.get("CEVNS_JSROOT_DIR"),) if p] + [ROOT / ".ci" / "jsroot"]


def jsroot_dir() -> Path | None:
    if not shutil.which("node"):
        return None
    for d in JSROOT_DIRS:
        if (d / "node_modules" / "jsroot").is_dir():
            return d
    return None


def jsroot_summary(path) -> dict:
    """Entries, per-branch sums and the metadata TObjString as JSROOT reads them."""
    d = jsroot_dir()
    script = d / "jsroot_summary.mjs"
    shutil.copy(ROOT / "tests" / "tools" / "jsroot_summary.mjs", script)  # ESM imports resolve beside the script
    out = subprocess.run(["node", str(script), str(Path(path).resolve())], capture_output=True, text=True,
                         timeout=300, cwd=d)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout)


@lru_cache(maxsize=None)
def rate_json(name: str) -> dict:
    """`cevns-rate --preset NAME --json`, in process (cached: several tests read one preset's rates)."""
    import contextlib
    import io

    from generator.cli import rate_main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = rate_main(["--preset", name, "--json"])
    assert code == 0
    return json.loads(out.getvalue())


def import_script(rel_path: str, module_name: str):
    """A repository file imported by path (scripts/ is not a package); a fresh module on every call."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(module_name, ROOT / rel_path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@lru_cache(maxsize=1)
def preset_builders_common():
    """scripts/presets/_common.py (the experiment-preset builders' shared helpers), imported by path."""
    return import_script("scripts/presets/_common.py", "preset_builders_common")


def released_analysis_fixtures(preset: str, build, result_name: str = "result", **build_kwargs):
    """The module-scoped `cfg`, `analysis` and fitted-result fixtures every reco.released test module opens with:
    the preset's config, `build(cfg, **build_kwargs)` and `fit(analysis.model)`. Assign the returned triple to
    module names so pytest collects them (fixture names are set here, the assigned names do not matter)."""
    import pytest

    from generator.config import load_config
    from reco.released.likelihood import fit

    @pytest.fixture(scope="module", name="cfg")
    def cfg_fixture():
        return load_config(preset=preset)

    @pytest.fixture(scope="module", name="analysis")
    def analysis_fixture(cfg):
        return build(cfg, **build_kwargs)

    @pytest.fixture(scope="module", name=result_name)
    def result_fixture(analysis):
        return fit(analysis.model)

    return cfg_fixture, analysis_fixture, result_fixture


def assert_damaged_release_is_named(tmp_path, monkeypatch, release: str, rel_path: str, damage: str,
                                    old: str, new: str, load) -> None:
    """Copy data/releases/RELEASE, delete ("missing") or alter ("altered": first OLD -> NEW) REL_PATH, point
    release_files at the copy and check that `load()` raises a one-line ConfigError naming the file, the damage
    and the checksum the release's SHA256SUMS expects."""
    import pytest

    from generator._validate import ConfigError
    from reco.released import release_files

    copy = tmp_path / release
    shutil.copytree(release_files.release_dir(release), copy)
    target = copy / rel_path
    if damage == "missing":
        target.unlink()
    else:
        text = target.read_text()
        assert old in text
        target.write_text(text.replace(old, new, 1))
    monkeypatch.setattr(release_files, "release_dir", lambda name: copy)
    digest = release_files.read_checksums(copy)[rel_path]
    with pytest.raises(ConfigError) as err:
        load()
    message = str(err.value)
    assert "\n" not in message
    assert f"data/releases/{release}/{rel_path} is {damage} (expected sha256 {digest})" in message

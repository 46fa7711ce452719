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


@lru_cache(maxsize=1)
def preset_builders_common():
    """scripts/presets/_common.py (the experiment-preset builders' shared helpers), imported by path."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("preset_builders_common", ROOT / "scripts" / "presets" / "_common.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod

"""The README works as written: every TOML file it shows is written out, then every shell block (except the
quickstart, which is what CI itself runs) and every Python block runs, in order, in one fresh directory."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def readme_blocks() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer((ROOT / "README.md").read_text(encoding="utf-8"))]


def test_readme_blocks_are_found():
    kinds = [k for k, _ in readme_blocks()]
    assert kinds.count("bash") >= 8 and kinds.count("toml") >= 4 and kinds.count("python") >= 3


@pytest.mark.slow
def test_every_readme_block_runs_as_written(tmp_path):
    env = {**os.environ, "TQDM_DISABLE": "1", "MPLBACKEND": "Agg",
           "NUMBA_CACHE_DIR": os.environ.get("NUMBA_CACHE_DIR", str(ROOT / ".numba_cache"))}
    ran = 0
    for kind, body in readme_blocks():
        if kind == "toml":
            first = body.splitlines()[0]
            if first.startswith("# file: "):
                (tmp_path / first[len("# file: "):].strip()).write_text(body, encoding="utf-8")
            continue
        if kind == "bash":
            if "pip install" in body:  # the quickstart: CI runs it verbatim (.ci/run)
                continue
            cmd = ["bash", "-euo", "pipefail", "-c", body]
        elif kind == "python":
            cmd = [sys.executable, "-c", body]
        else:
            continue
        r = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, f"README {kind} block failed:\n{body}\n--- stderr:\n{r.stderr[-3000:]}"
        ran += 1
    assert ran >= 10
    assert (tmp_path / "out" / "toys.csv").is_file() and (tmp_path / "prod" / "detector.h5").is_file()

"""The experiment-preset builder (scripts/make_experiment_presets.py) finds one module per experiment in a
directory (scripts/presets/): adding an experiment is adding a file, and a module that does not follow the
interface of scripts/presets/__init__.py is refused with a message naming the file."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from tests.helpers import import_script

ROOT = Path(__file__).resolve().parents[2]

NEW_BUILDER = '''
from ._common import HEADER, PHYSICS_BLOCK, generator_block, grid, recoil_block

NAME = "{name}"
PAPER = None
COMMENT = "# test efficiency\\n"


def table():
    x = grid((0.0, 2.0, 0.5))
    return x, x / 2.0


def preset_text(x, y):
    return f"""{{HEADER}}name = "{{NAME}}"

{{PHYSICS_BLOCK}}
{{recoil_block(x, y, COMMENT)}}
{{generator_block(7)}}"""
'''


def driver():
    return import_script("scripts/make_experiment_presets.py", "make_experiment_presets_under_test")


def builder_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    """A builder directory with the repository's __init__.py and _common.py plus ``files``."""
    d = tmp_path / "presets"
    d.mkdir()
    for f in ("__init__.py", "_common.py"):
        shutil.copy(ROOT / "scripts" / "presets" / f, d / f)
    for name, text in files.items():
        (d / name).write_text(text)
    return d


def test_a_new_module_is_a_new_preset(tmp_path):
    d = builder_dir(tmp_path, {"my_experiment.py": NEW_BUILDER.format(name="my_experiment")})
    built = driver().build_all(directory=d)
    assert list(built) == ["my_experiment"]  # _common and __init__ are not builders
    cfg = tomllib.loads(built["my_experiment"])
    assert cfg["name"] == "my_experiment"
    assert cfg["physics"] == {"form_factor": "helm", "mass_convention": "nuclear"}
    assert cfg["generator"] == {"n_events": 100000, "chunk_size": 100000, "seed": 7}
    assert cfg["recoil"]["efficiency_kevnr"] == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert cfg["recoil"]["efficiency"] == [0.0, 0.25, 0.5, 0.75, 1.0]
    # the generation threshold is the last grid point below which the efficiency stays under 1e-4
    assert cfg["recoil"]["threshold_kevnr"] == 0.0


def test_a_module_named_otherwise_than_its_preset_is_refused(tmp_path):
    d = builder_dir(tmp_path, {"my_experiment.py": NEW_BUILDER.format(name="other_name")})
    with pytest.raises(SystemExit, match=r"my_experiment\.py: a builder needs NAME = 'my_experiment'.*'other_name'"):
        driver().build_all(directory=d)


def test_a_module_without_its_preset_text_is_refused(tmp_path):
    text = NEW_BUILDER.format(name="my_experiment").split("def preset_text")[0]
    d = builder_dir(tmp_path, {"my_experiment.py": text})
    with pytest.raises(SystemExit, match=r"my_experiment\.py: .*missing: preset_text"):
        driver().build_all(directory=d)

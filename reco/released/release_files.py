"""The public data releases shipped in ``data/releases/<name>/``: where they are, and that they are intact.

Each release directory holds the files as the collaboration released them (or a documented conversion),
a README (citation, DOI, licence, units) and ``SHA256SUMS`` in ``sha256sum`` format. An analysis calls
:func:`verify_release` before reading anything, so a missing or edited file is reported in one line naming
it and the checksum it should have, instead of surfacing later as a wrong fit.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from generator._data import data_path
from generator._validate import ConfigError

__all__ = ["load_text_table", "read_checksums", "release_dir", "verify_release"]

CHECKSUM_FILE = "SHA256SUMS"


def release_dir(name: str) -> Path:
    """``data/releases/<name>`` (installed package or checkout)."""
    path = data_path("releases", name)
    if not path.is_dir():
        raise ConfigError(f"data release {name!r} not found: expected the directory {path}")
    return path


def read_checksums(directory: Path) -> dict[str, str]:
    """{relative file name: sha256 hex} from the directory's SHA256SUMS."""
    sums = directory / CHECKSUM_FILE
    if not sums.is_file():
        raise ConfigError(f"release file {sums} is missing (every release lists its files' sha256 there)")
    out = {}
    for line in sums.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        digest, name = line.split(maxsplit=1)
        out[name.lstrip("*")] = digest.lower()
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_verified: dict[Path, float] = {}


def verify_release(name: str) -> Path:
    """Check every file listed in the release's SHA256SUMS; return the release directory.

    Raises ConfigError naming the first missing or altered file and its expected checksum.
    """
    directory = release_dir(name)
    stamp = max((p.stat().st_mtime for p in directory.rglob("*") if p.is_file()), default=0.0)
    if _verified.get(directory) == stamp:  # unchanged since the last check in this process
        return directory
    for rel, digest in read_checksums(directory).items():
        path = directory / rel
        shown = f"data/releases/{name}/{rel}"
        if not path.is_file():
            raise ConfigError(f"release file {shown} is missing (expected sha256 {digest})")
        if _sha256(path) != digest:
            raise ConfigError(f"release file {shown} is altered (expected sha256 {digest})")
    _verified[directory] = stamp
    return directory


def load_text_table(path: Path, **kwargs) -> np.ndarray:
    """numpy.loadtxt with '#' comments; a malformed file is reported with its name."""
    try:
        return np.loadtxt(path, comments="#", **kwargs)
    except ValueError as e:
        raise ConfigError(f"release file {path}: cannot read it as a numeric table ({e})") from None

"""Typed, validated configuration sections built from plain TOML tables.

A section is a frozen dataclass whose fields carry their constraints in ``metadata`` (unit, doc,
allowed values, bounds). :func:`build` turns a dict into the dataclass and raises
:class:`ConfigError` naming the key path, the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

__all__ = ["ConfigError", "build", "option", "describe"]


class ConfigError(ValueError):
    """A configuration value is missing, unknown or out of range; the message names the key."""


MAX_CHUNKS = 10_000_000  # a run's chunk plan is an array of this many sizes at most (80 MB)


def check_chunk_count(n_events: int, chunk_size: int) -> None:
    n_chunks = -(-int(n_events) // int(chunk_size))
    if n_chunks > MAX_CHUNKS:
        raise ConfigError(f"--n-events {n_events} in chunks of generator.chunk_size = {chunk_size} makes {n_chunks} "
                          f"chunks; at most {MAX_CHUNKS} are allowed (raise generator.chunk_size, or split the work "
                          "into several productions with their own seeds)")


def check_output_is_not_an_input(output, *inputs) -> None:
    """Refuse an output path that resolves to an input file: writing it would replace the input."""
    from pathlib import Path

    out = Path(output).resolve()
    for i in inputs:
        if Path(i).exists() and Path(i).resolve() == out:
            raise ConfigError(f"-o {output}: this is the input file {i}; choose another output path (the input "
                              "would be replaced)")


def resolve_threads(threads: int | None) -> int:
    """The one thread default of every tool: all cores numba may use (NUMBA_NUM_THREADS); 1..that otherwise."""
    import numba

    limit = numba.config.NUMBA_NUM_THREADS
    if threads is None:
        return limit
    if not 1 <= int(threads) <= limit:
        raise ConfigError(f"--threads {threads}: allowed 1..{limit} (default: all {limit} cores; "
                          "set NUMBA_NUM_THREADS for more)")
    return int(threads)


def option(default=dataclasses.MISSING, *, unit: str = "", doc: str = "", allowed=None,
           gt=None, ge=None, lt=None, le=None, default_factory=dataclasses.MISSING):
    meta = {"unit": unit, "doc": doc, "allowed": allowed, "gt": gt, "ge": ge, "lt": lt, "le": le}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _type_name(tp) -> str:
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp, path: str):
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        errors = []
        for a in args:
            try:
                return _coerce(value, a, path)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0])
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{path} must be a table, got {value!r}")
        return build(tp, value, path)
    if origin is list or origin is tuple:
        (inner, *_) = typing.get_args(tp) or (Any,)
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{path} = {value!r}: must be a list")
        return tuple(_coerce(v, inner, f"{path}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        kt, vt = typing.get_args(tp)
        if not isinstance(value, dict):
            raise ConfigError(f"{path} = {value!r}: must be a table")
        return {str(k): _coerce(v, vt, f"{path}.{k}") for k, v in value.items()}
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{path} = {value!r}: must be a number")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
            raise ConfigError(f"{path} = {value!r}: must be an integer")
        return int(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path} = {value!r}: must be true or false")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path} = {value!r}: must be a string")
        return value
    if tp is Any:
        return value
    if tp is dict:  # a free-form table validated by its owner (e.g. [detector], [reco])
        if not isinstance(value, dict):
            raise ConfigError(f"{path} must be a table, got {value!r}")
        return value
    raise TypeError(f"unsupported config type {_type_name(tp)} at {path}")


def _check(value, meta, path):
    if value is None:
        return
    allowed = meta.get("allowed")
    if allowed is not None and value not in allowed:
        raise ConfigError(f"{path} = {value!r}: allowed values are {', '.join(map(repr, allowed))}")
    for key, op, word in (("gt", float.__gt__, ">"), ("ge", float.__ge__, ">="),
                          ("lt", float.__lt__, "<"), ("le", float.__le__, "<=")):
        bound = meta.get(key)
        if bound is None:
            continue
        vals = value if isinstance(value, tuple) else (value,)
        for v in vals:
            if not op(float(v), float(bound)):
                unit = f" {meta['unit']}" if meta.get("unit") else ""
                raise ConfigError(f"{path} = {value!r}: must be {word} {bound}{unit}")


def build(cls, table: dict, path: str = ""):
    """Build dataclass ``cls`` from ``table``; unknown keys, wrong types and bad values raise ConfigError."""
    if not isinstance(table, dict):
        raise ConfigError(f"{path or 'config'} must be a table, got {table!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(table) - set(fields))
    if unknown:
        where = f"[{path}]" if path else "the top level"
        raise ConfigError(
            f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(repr(u) for u in unknown)} in {where}; "
            f"allowed keys: {', '.join(sorted(fields))}"
        )
    kwargs = {}
    for name, f in fields.items():
        key = f"{path}.{name}" if path else name
        if name in table:
            value = _coerce(table[name], hints[name], key)
            _check(value, f.metadata, key)
            kwargs[name] = value
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"missing required key {key}" + (f" ({f.metadata['doc']})" if f.metadata.get("doc") else ""))
    try:
        return cls(**kwargs)
    except ConfigError as e:
        raise ConfigError(f"[{path}] {e}" if path and not str(e).startswith(path) else str(e)) from None


def describe(cls, prefix: str = "") -> list[tuple[str, str, str, str]]:
    """(key, default, unit, doc) rows for documentation and ``--help`` texts."""
    rows = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else "(required)"
        rows.append((prefix + f.name, repr(default), f.metadata.get("unit", ""), f.metadata.get("doc", "")))
    return rows

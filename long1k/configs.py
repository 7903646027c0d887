"""Dataclass configurations read from a YAML recipe and overridden from the command line.

Every field of the dataclass becomes a `--flag`; `--config recipe.yaml` supplies defaults that
flags given on the command line override (the open-r1 convention).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TypeVar

import yaml

from long1k.errors import Long1kError

T = TypeVar("T")


def load_yaml_recipe(path: str | Path, allowed: set[str], kind: str = "recipe", key: str = "option") -> dict:
    """Read a YAML mapping of names to values (a recipe, a task file); unknown names are an error."""
    path = Path(path)
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise Long1kError(f"{path}: {kind} file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise Long1kError(f"{path}: cannot read {kind} file: {err}") from None
    except yaml.YAMLError as err:
        raise Long1kError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(values, dict):
        raise Long1kError(f"{path}: a {kind} must be a mapping of {key} names to values")
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise Long1kError(f"{path}: unknown {key}(s) {unknown}; known {key}s: {sorted(allowed)}")
    return values


def parse_config(config_type: type[T], argv: list[str] | None = None, description: str = "") -> T:
    """Build `config_type` from `--config YAML` and command-line flags (flags win)."""
    from transformers import HfArgumentParser

    parser = HfArgumentParser(config_type, description=description)
    parser.add_argument("--config", default=None, help="YAML recipe; command-line flags override it")
    config_path = parser.parse_known_args(argv)[0].config
    if config_path:
        field_names = {f.name for f in dataclasses.fields(config_type)}
        parser.set_defaults(**load_yaml_recipe(config_path, field_names))
    namespace = parser.parse_args(argv)
    del namespace.config
    return config_type(**vars(namespace))

"""Dataclass configurations read from a YAML recipe and overridden from the command line.

Every field of the dataclass becomes a `--flag`; `--config recipe.yaml` supplies defaults that
flags given on the command line override (the open-r1 convention).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TypeVar

import yaml

from long1k.errors import Long1kError, close_names, did_you_mean

T = TypeVar("T")


def load_yaml_recipe(path: str | Path, allowed: set[str], kind: str = "recipe", key: str = "option",
                     strict: bool = True) -> dict:
    """Read a YAML mapping of names to values (a recipe, a task file); unknown names are an error (unless not
    `strict`: a reader that needs only some of the names)."""
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
    unknown = sorted(set(values) - allowed) if strict else []
    if unknown:
        raise Long1kError(f"{path}: unknown {key} {unknown[0]!r}{did_you_mean(unknown[0], allowed)}"
                          + (f" (and {len(unknown) - 1} more unknown: {unknown[1:]})" if len(unknown) > 1 else ""))
    return values


def merge_repeated_list_flags(argv: list[str], list_flags: set[str]) -> list[str]:
    """`--x a --x b` as `--x a b`: a list flag given twice keeps both (argparse would keep the last)."""
    groups: list[list[str]] = []
    first: dict[str, list[str]] = {}
    i = 0
    while i < len(argv):
        flag, has_value, value = argv[i].partition("=")
        name = flag.replace("-", "_")
        if not (flag.startswith("--") and name[2:] in list_flags):
            groups.append([argv[i]])
            i += 1
            continue
        values = [value] if has_value else []
        i += 1
        while not has_value and i < len(argv) and not argv[i].startswith("--"):
            values.append(argv[i])
            i += 1
        if name in first:
            first[name].extend(values)
        else:
            first[name] = [flag, *values]
            groups.append(first[name])
    return [token for group in groups for token in group]


def raise_problems(problems: list[str]) -> None:
    """The one validation style: a config collects every problem with its options, and they are said together,
    before any work."""
    if problems:
        raise Long1kError("; ".join(problems))


def one_of(flag: str, value, allowed) -> list[str]:
    """A problem when `value` is not one of `allowed` (with the one meant, when close)."""
    allowed = [str(a) for a in allowed]
    if str(value) in allowed:
        return []
    close = close_names(str(value), allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return [f"--{flag} {value!r} is not one of {', '.join(allowed)}{hint}"]


def help_text(text: str) -> dict:
    """A dataclass field's metadata: its --help text."""
    return {"help": text}


def parse_values(config_type: type, argv: list[str] | None = None, description: str = "") -> dict:
    """The values a stage's options would take, without building the config: its defaults, then `--config
    YAML`, then command-line flags (flags win). The one reader of recipes and flags."""
    import sys

    from transformers import HfArgumentParser

    # No abbreviations: `--seed 3` must not quietly become `--seeds 3` where only the latter exists.
    parser = HfArgumentParser(config_type, description=description, allow_abbrev=False)
    parser.add_argument("--config", default=None, help="YAML recipe; command-line flags override it")
    list_flags = {action.dest for action in parser._actions if action.nargs in ("+", "*")}
    argv = merge_repeated_list_flags(list(sys.argv[1:] if argv is None else argv), list_flags)
    config_path = parser.parse_known_args(argv)[0].config
    if config_path:
        field_names = {f.name for f in dataclasses.fields(config_type)}
        parser.set_defaults(**load_yaml_recipe(config_path, field_names))
    namespace = parser.parse_args(argv)
    del namespace.config
    return vars(namespace)


def parse_config(config_type: type[T], argv: list[str] | None = None, description: str = "") -> T:
    """Build `config_type` from `--config YAML` and command-line flags (flags win)."""
    return config_type(**parse_values(config_type, argv, description))

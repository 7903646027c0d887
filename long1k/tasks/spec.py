"""A benchmark task: one YAML file holds everything the toolkit needs to know about a benchmark.

Keys (only `name` and `answer_kind` are required):

    name: amc23                      # file stem of the prepared file and the prediction files
    description: one line for listings
    answer_kind: latex               # latex | integer | letter (long1k/answer_kinds.py)
    default: false                   # in the default --benchmarks list (the paper's four are)
    instruction: null                # replaces the answer kind's prompt instruction for this task
    hub: {id: owner/name, configs: [null], split: test}
    layout: fields                   # fields | multiple_choice (long1k/tasks/layouts.py)
    fields: {...}                    # the layout's column names
    fixture:                         # the embedded default (offline demo and tests), one of:
      builtin: math500.jsonl         #   a file of the generated default fixtures
      path: mini.jsonl               #   a file beside this YAML, in the hub schema
      generate: aime                 #   generated problems (aime | math500 families) written in the
      rows: 12                       #   hub schema: columns maps id / problem / answer to its names
      columns: {id: id, problem: question, answer: answer}
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from long1k.answer_kinds import AnswerKind, get_answer_kind
from long1k.configs import load_yaml_recipe
from long1k.errors import Long1kError

KEYS = {"name", "description", "answer_kind", "default", "instruction", "hub", "layout", "fields", "fixture"}
HUB_KEYS = {"id", "configs", "split", "gated"}


@dataclass(frozen=True)
class TaskSpec:
    name: str
    answer_kind: str
    description: str = ""
    default: bool = False
    instruction: str | None = None
    hub_id: str | None = None
    hub_configs: tuple[str | None, ...] = (None,)
    split: str = "test"
    gated: bool = False
    """The hub dataset needs its terms accepted and a login (GPQA)."""
    layout: str = "fields"
    fields: dict = field(default_factory=dict)
    fixture: dict = field(default_factory=dict)
    defined_in: str = ""
    composite_of: str | None = None
    """A composite benchmark (long1k/tasks/composite.py): the benchmark whose problems it joins."""
    parts: int = 1
    """Problems per prompt (composite benchmarks: K)."""

    @property
    def kind(self) -> AnswerKind:
        return get_answer_kind(self.answer_kind)


def task_from_yaml(path: Path, layouts: Collection[str]) -> TaskSpec:
    """Read and check one task file (`layouts`: the known layout names); every problem names the file and
    the key."""
    spec = load_yaml_recipe(path, KEYS, kind="task", key="key")
    for key in ("name", "answer_kind"):
        if not spec.get(key):
            raise Long1kError(f"{path}: '{key}' is required")
    hub = spec.get("hub") or {}
    if set(hub) - HUB_KEYS:
        raise Long1kError(f"{path}: unknown hub key(s) {sorted(set(hub) - HUB_KEYS)}; known: {sorted(HUB_KEYS)}")
    layout = spec.get("layout", "fields")
    if layout not in layouts:
        raise Long1kError(f"{path}: unknown layout {layout!r}; known: {sorted(layouts)}")
    task = TaskSpec(
        name=str(spec["name"]), answer_kind=str(spec["answer_kind"]), description=spec.get("description") or "",
        default=bool(spec.get("default", False)), instruction=spec.get("instruction"), hub_id=hub.get("id"),
        hub_configs=tuple(hub.get("configs") or [None]), split=hub.get("split", "test"),
        gated=bool(hub.get("gated", False)), layout=layout,
        fields=dict(spec.get("fields") or {}), fixture=dict(spec.get("fixture") or {}), defined_in=str(path))
    try:
        task.kind  # noqa: B018 (checked here, so that a typo is reported with its file)
    except Long1kError as err:
        raise Long1kError(f"{path}: {err}") from None
    return task

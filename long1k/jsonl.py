"""JSON Lines writing, one place for the project's many jsonl outputs."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path


def write_jsonl(path: Path, rows: Iterable[dict]) -> Path:
    """One JSON object per line, UTF-8 kept as is; parent folders created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, row) for each non-blank line; invalid JSON is an error naming file and line."""
    from long1k.errors import Long1kError

    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield line_number, json.loads(line)
            except json.JSONDecodeError as err:
                raise Long1kError(f"{path} line {line_number}: invalid JSON ({err.msg})") from None

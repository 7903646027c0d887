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


def utf8_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line; bytes that are not UTF-8 are an error naming file, line, column."""
    from long1k.errors import Long1kError

    with Path(path).open("rb") as handle:
        for line_number, raw in enumerate(handle, start=1):
            try:
                yield line_number, raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise Long1kError(f"{path} line {line_number}: not UTF-8 (byte {raw[err.start]:#04x} at column "
                                  f"{err.start + 1}); re-encode the file as UTF-8") from None


def check_utf8(path: Path) -> None:
    for _ in utf8_lines(path):
        pass


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, row) for each non-blank line; bytes that are not UTF-8 and invalid JSON are
    errors naming file, line and column."""
    from long1k.errors import Long1kError

    for line_number, line in utf8_lines(path):
        if not line.strip():
            continue
        try:
            yield line_number, json.loads(line)
        except json.JSONDecodeError as err:
            message = err.msg.removesuffix(" at")  # json's "Invalid control character at" already says "at"
            raise Long1kError(f"{path} line {line_number}: invalid JSON ({message} at column {err.pos + 1})") from None

"""Loading sources through `datasets`, from the hub or from local json / jsonl / parquet / csv files.

A source keeps its rows as an Arrow table, so that long reasoning traces stay memory-mapped and are
read into Python only for the rows that are actually sampled. Each row can be traced back to the
file and row it came from, for error messages and for the manifest.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from long1k.errors import Long1kError
from long1k.jsonl import write_jsonl

LOCAL_BUILDERS = {".json": "json", ".jsonl": "json", ".parquet": "parquet", ".csv": "csv"}
MAX_MESSAGES_PER_REASON = 5


@dataclass
class Source:
    """Rows of one dataset plus where each row came from."""

    label: str  # "openthoughts", "s1", ...
    location: str  # what the user passed: a hub id or a path
    table: pa.Table
    files: list[str]  # one entry per loaded file (the hub id for hub loads)
    offsets: list[int]  # first global row of each file

    def locate(self, index: int) -> tuple[str, int]:
        """(file, row within that file) of a global row index."""
        position = bisect.bisect_right(self.offsets, index) - 1
        return self.files[position], index - self.offsets[position]

    def value(self, column: str, index: int):
        return self.table.column(column)[index].as_py()

    def strings(self, column: str, indices: list[int]) -> list[str]:
        return self.table.column(column).take(pa.array(indices, type=pa.int64())).to_pylist()


@dataclass
class SkipLog:
    """Rows left out, each with its reason; every one is written to skipped.jsonl, the first few printed."""

    records: list[dict] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    announced: Counter = field(default_factory=Counter)

    def add(self, source: Source, index: int, reason: str, column: str | None, detail: str, announce: bool = True):
        file, row = source.locate(index)
        self.records.append({"source": source.label, "file": file, "row": row, "field": column,
                             "reason": reason, "detail": detail})
        key = (source.label, reason)
        self.counts[key] += 1
        if announce and self.announced[key] < MAX_MESSAGES_PER_REASON:
            self.announced[key] += 1
            where = f"{file} row {row}" + (f", field '{column}'" if column else "")
            print(f"warning: {where}: {detail}; row skipped")

    def summary(self, label: str) -> dict[str, int]:
        return {reason: n for (source, reason), n in sorted(self.counts.items()) if source == label}

    def print_overflow(self) -> None:
        for key, n in sorted(self.counts.items()):
            if n > self.announced[key]:
                more = "more " if self.announced[key] else ""
                print(f"warning: {key[0]}: {n - self.announced[key]} {more}rows skipped for '{key[1]}' "
                      "(all listed in skipped.jsonl)")

    def write(self, path: Path) -> None:
        write_jsonl(path, self.records)


def _local_files(path: Path) -> list[Path]:
    if path.is_file():
        if path.suffix not in LOCAL_BUILDERS:
            raise Long1kError(f"{path}: unsupported file type; use one of {sorted(LOCAL_BUILDERS)}")
        return [path]
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in LOCAL_BUILDERS)
    if not files:
        raise Long1kError(f"{path}: folder holds no {'/'.join(sorted(LOCAL_BUILDERS))} files")
    kinds = {LOCAL_BUILDERS[p.suffix] for p in files}
    if len(kinds) > 1:
        raise Long1kError(f"{path}: folder mixes file types {sorted(kinds)}; keep one type per source folder")
    return files


def _load_local_file(path: Path) -> pa.Table:
    import datasets

    from long1k.jsonl import check_utf8, iter_jsonl

    if path.suffix in (".json", ".jsonl", ".csv"):
        check_utf8(path)  # datasets would read such bytes as something else, silently
    try:
        dataset = datasets.load_dataset(LOCAL_BUILDERS[path.suffix], data_files=str(path), split="train")
    except Exception as err:  # datasets wraps parse errors in several exception types
        if path.suffix == ".jsonl":
            for _ in iter_jsonl(path):  # raises naming the line
                pass
        raise Long1kError(f"{path}: cannot read as {LOCAL_BUILDERS[path.suffix]}: {short_error(err)}") from None
    return dataset.data.table


def _load_hub(hub_id: str, config: str | None, split: str) -> pa.Table:
    import datasets

    from long1k.hub import offline_hint, use_cache_if_unreachable

    unreachable = use_cache_if_unreachable()
    try:
        dataset = datasets.load_dataset(hub_id, name=config, split=split)
    except Exception as err:
        raise Long1kError(
            f"cannot load hub dataset {hub_id!r} (config {config!r}, split {split!r}): {short_error(err)}. "
            "Without network access pass a local file or folder instead." + offline_hint(unreachable)
        ) from None
    return dataset.data.table


def short_error(err: Exception) -> str:
    """The last line of an error, for a one-line message."""
    text = str(err).strip().splitlines()
    return text[-1][:300] if text else type(err).__name__


def looks_like_path(location: str) -> bool:
    return location.startswith((".", "/", "~")) or Path(location).suffix in LOCAL_BUILDERS


def load_source(label: str, location: str, required: tuple[str, ...], config: str | None = None,
                split: str = "train", optional: tuple[str, ...] = ()) -> Source:
    """Load a hub id or a local file / folder; every required column must be present, optional ones
    are kept where every file has them."""
    path = Path(location).expanduser()
    if path.exists():
        files = _local_files(path)
        tables = [_load_local_file(f) for f in files]
        names = [str(f) for f in files]
    elif looks_like_path(location):
        raise Long1kError(f"{location}: no such file or folder ({label} source)")
    else:
        tables, names = [_load_hub(location, config, split)], [f"{location}[{config or 'default'}:{split}]"]

    for name, table in zip(names, tables, strict=True):
        missing = [c for c in required if c not in table.column_names]
        if missing:
            raise Long1kError(
                f"{name}: {label} source lacks column(s) {missing}; found {table.column_names}"
            )
    kept = list(required) + [c for c in optional if all(c in t.column_names for t in tables)]
    tables = [_as_strings(t.select(kept), name) for t, name in zip(tables, names, strict=True)]
    offsets, total = [], 0
    for table in tables:
        offsets.append(total)
        total += table.num_rows
    return Source(label, location, pa.concat_tables(tables), names, offsets)


def _as_strings(table: pa.Table, name: str) -> pa.Table:
    """Required columns as strings (an all-null column arrives typed null; numbers may be numbers)."""
    columns = []
    for column_name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            columns.append(column)
            continue
        try:
            columns.append(column.cast(pa.string()))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise Long1kError(f"{name}: column '{column_name}' has type {column.type}, expected text") from None
    return pa.table(columns, names=table.column_names)

"""Benchmark registry and normalisation into one row schema.

Each benchmark is defined once (hub id, configs, split, answer kind, normaliser). A normaliser
accepts every layout the benchmark is published in and writes rows with `id`, `benchmark`,
`problem`, `answer`, plus what the source had. Bad rows are errors that name the file and row:
a benchmark with a silently missing item scores wrongly.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from long1k.errors import Long1kError
from long1k.jsonl import iter_jsonl

LETTERS = ("A", "B", "C", "D")
# Instruction lines some copies append to the problem (e.g. "Please reason step by step, and put
# your final answer within \boxed{}."): they belong to the prompt template, not to the problem.
_INSTRUCTION_LINE = re.compile(r"\n[^\n]*(\\boxed\{\}|reason step by step)[^\n]*\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class BenchmarkSpec:
    name: str
    hub_id: str
    hub_configs: tuple[str | None, ...]
    split: str
    answer_kind: str  # latex | integer | letter
    normalize: Callable[[list[dict], str, int], list[dict]]


def _text(row: dict, field: str, where: str, index: int) -> str:
    value = row.get(field)
    if value is None or (isinstance(value, float) and value != value) or not str(value).strip():
        raise Long1kError(f"{where} row {index}: field '{field}' is missing or empty")
    return str(value).strip()


def _first_field(row: dict, fields: tuple[str, ...], where: str, index: int) -> tuple[str, str]:
    for field in fields:
        if field in row and row[field] not in (None, ""):
            return field, str(row[field])
    raise Long1kError(f"{where} row {index}: none of the fields {list(fields)} is present")


def normalize_math500(rows: list[dict], where: str, seed: int) -> list[dict]:
    out = []
    for index, row in enumerate(rows):
        item = {
            "id": str(row.get("unique_id") or f"math500-{index}"),
            "benchmark": "math500",
            "problem": _text(row, "problem", where, index),
            "answer": _text(row, "answer", where, index),
        }
        item.update({k: row[k] for k in ("subject", "level", "solution") if row.get(k) is not None})
        out.append(item)
    return out


def parse_aime_answer(value, where: str, index: int) -> int:
    """AIME answers are integers 0..999; some copies zero-pad them ("033")."""
    text = str(value).strip()
    if not re.fullmatch(r"\d{1,3}", text):
        raise Long1kError(f"{where} row {index}: field 'answer' is {value!r}, not an integer 0..999")
    return int(text)


def _normalize_aime(name: str) -> Callable[[list[dict], str, int], list[dict]]:
    def normalize(rows: list[dict], where: str, seed: int) -> list[dict]:
        out = []
        for index, row in enumerate(rows):
            field, problem = _first_field(row, ("problem", "question", "prompt"), where, index)
            if field == "prompt":
                problem = _INSTRUCTION_LINE.sub("", problem)
            item = {
                "id": str(row["id"]) if row.get("id") is not None else f"{name}-{index + 1}",
                "benchmark": name,
                "problem": problem.strip(),
                "answer": parse_aime_answer(_text(row, "answer", where, index), where, index),
            }
            item.update({k: row[k] for k in ("year", "part", "problem_number", "url", "solution")
                         if row.get(k) is not None})
            out.append(item)
        return out

    return normalize


def gpqa_letter_plan(record_ids: list[str], seed: int) -> list[list[int]]:
    """Per question, the source option shown under A-D (0 = correct, 1-3 = incorrect answers 1-3).

    The correct letter cycles A, B, C, D over the questions ordered by a seeded hash of their record
    id, so the letters are uniform (counts differ by at most one) and do not depend on file order;
    the distractors are shuffled by a generator seeded with the question's own id.
    """
    rank = sorted(range(len(record_ids)),
                  key=lambda i: hashlib.sha256(f"{seed}:{record_ids[i]}".encode()).hexdigest())
    plans: list[list[int]] = [[] for _ in record_ids]
    for position, i in enumerate(rank):
        distractors = [1, 2, 3]
        random.Random(f"{seed}:{record_ids[i]}").shuffle(distractors)
        distractors.insert(position % 4, 0)
        plans[i] = distractors
    return plans


def normalize_gpqa(rows: list[dict], where: str, seed: int) -> list[dict]:
    fields = ("Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3")
    record_ids = [str(row.get("Record ID") or f"gpqa-{i}") for i, row in enumerate(rows)]
    if len(set(record_ids)) != len(record_ids):
        duplicate = Counter(record_ids).most_common(1)[0][0]
        raise Long1kError(f"{where}: 'Record ID' {duplicate!r} occurs more than once")
    out = []
    for index, (row, plan) in enumerate(zip(rows, gpqa_letter_plan(record_ids, seed), strict=True)):
        question = _text(row, "Question", where, index)
        options = [_text(row, f, where, index) for f in fields]
        choices = {letter: options[source] for letter, source in zip(LETTERS, plan, strict=True)}
        listing = "\n".join(f"{letter}) {text}" for letter, text in choices.items())
        out.append({
            "id": record_ids[index],
            "benchmark": "gpqa_diamond",
            "problem": f"{question}\n\n{listing}",
            "question": question,
            "answer": LETTERS[plan.index(0)],
            "choices": choices,
            "permutation": plan,
            "correct_answer": options[0],
            "subdomain": row.get("Subdomain"),
            "domain": row.get("High-level domain"),
        })
    return out


REGISTRY: dict[str, BenchmarkSpec] = {
    spec.name: spec
    for spec in (
        BenchmarkSpec("math500", "HuggingFaceH4/MATH-500", (None,), "test", "latex", normalize_math500),
        BenchmarkSpec("aime24", "HuggingFaceH4/aime_2024", (None,), "train", "integer", _normalize_aime("aime24")),
        BenchmarkSpec("aime25", "opencompass/AIME2025", ("AIME2025-I", "AIME2025-II"), "test", "integer",
                      _normalize_aime("aime25")),
        BenchmarkSpec("gpqa_diamond", "Idavidrein/gpqa", ("gpqa_diamond",), "train", "letter", normalize_gpqa),
    )
}


def get_spec(name: str) -> BenchmarkSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        raise Long1kError(f"unknown benchmark {name!r}; known: {sorted(REGISTRY)}") from None


def read_local_rows(path: Path) -> list[dict]:
    """Rows of a local benchmark file: jsonl, a json list, csv or parquet."""
    if not path.is_file():
        raise Long1kError(f"{path}: no such benchmark file")
    try:
        if path.suffix == ".jsonl":
            return [row for _, row in iter_jsonl(path)]
        if path.suffix == ".json":
            rows = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(rows, list):
                raise Long1kError(f"{path}: expected a JSON list of rows")
            return rows
        if path.suffix == ".csv":
            import csv

            with path.open(encoding="utf-8", newline="") as handle:
                return list(csv.DictReader(handle))
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path).to_pylist()
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise Long1kError(f"{path}: cannot read: {err}") from None
    raise Long1kError(f"{path}: unsupported benchmark file type (use jsonl, json, csv or parquet)")


def read_hub_rows(spec: BenchmarkSpec) -> list[dict]:
    import datasets

    rows = []
    for config in spec.hub_configs:
        try:
            rows += datasets.load_dataset(spec.hub_id, name=config, split=spec.split).to_list()
        except Exception as err:
            raise Long1kError(
                f"cannot load {spec.name} from the hub ({spec.hub_id}, config {config}, split {spec.split}): "
                f"{str(err).strip().splitlines()[-1][:300] if str(err).strip() else type(err).__name__}. "
                f"Offline, pass --source {spec.name}=PATH or --fixtures"
            ) from None
    return rows


def prepare(spec: BenchmarkSpec, rows: list[dict], where: str, seed: int = 0) -> list[dict]:
    if not rows:
        raise Long1kError(f"{where}: no rows")
    items = spec.normalize(rows, where, seed)
    seen = Counter(item["id"] for item in items)
    duplicates = [item_id for item_id, n in seen.items() if n > 1]
    if duplicates:
        raise Long1kError(f"{where}: duplicate ids {duplicates[:5]}")
    return items


def read_prepared(path: Path) -> list[dict]:
    """Rows of a prepared benchmark file (what data/prepare_benchmarks.py writes)."""
    return read_local_rows(path)

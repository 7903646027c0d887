"""Benchmark decontamination by word n-gram overlap (lowercased word 8-grams, as s1 and open-r1 do)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from long1k.errors import Long1kError
from long1k.jsonl import iter_jsonl

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def ngrams(tokens: list[str], n: int) -> set[tuple[str, ...]]:
    if len(tokens) < n:  # a problem shorter than n words is matched as a whole
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


@dataclass
class BenchmarkIndex:
    """All n-grams of the benchmark problems, each pointing at one benchmark item."""

    n: int = 8
    owners: dict[tuple[str, ...], str] = field(default_factory=dict)
    lengths: set[int] = field(default_factory=set)
    problems_per_benchmark: dict[str, int] = field(default_factory=dict)

    def add(self, benchmark: str, item_id: str, text: str) -> None:
        grams = ngrams(words(text), self.n)
        for gram in grams:
            self.owners.setdefault(gram, f"{benchmark}:{item_id}")
            self.lengths.add(len(gram))
        self.problems_per_benchmark[benchmark] = self.problems_per_benchmark.get(benchmark, 0) + 1

    def match(self, text: str) -> str | None:
        """The benchmark item that `text` shares an n-gram with, or None."""
        tokens = words(text)
        owners = self.owners
        for size in self.lengths:
            for i in range(len(tokens) - size + 1):
                owner = owners.get(tuple(tokens[i : i + size]))
                if owner is not None:
                    return owner
        return None


def load_benchmark_index(directory: str | Path, n: int = 8) -> BenchmarkIndex:
    """Index the prepared benchmark files (`*.jsonl` from data/prepare_benchmarks.py) in `directory`."""
    from long1k.prepare import prepared_files

    directory = Path(directory)
    files = prepared_files(directory) if directory.is_dir() else []
    if not files:
        raise Long1kError(
            f"{directory}: no prepared benchmark files (*.jsonl) for decontamination; run "
            "`python data/prepare_benchmarks.py --out DIR` and pass --benchmarks-dir DIR, or --decontaminate false"
        )
    index = BenchmarkIndex(n=n)
    for path in files:
        for line_number, row in iter_jsonl(path):
            text = row.get("question") or row.get("problem")
            if not isinstance(text, str):
                raise Long1kError(f"{path} line {line_number}: not a prepared benchmark row with 'problem'")
            index.add(row.get("benchmark", path.stem), str(row.get("id", line_number)), text)
    return index

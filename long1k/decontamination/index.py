"""Benchmark decontamination by scored word n-gram overlap.

s1 and open-r1 drop a text sharing any one lowercased word 8-gram with a benchmark problem; on real
competition text that flags boilerplate ("where m and n are relatively prime positive integers").
Here a (text, benchmark item) pair is scored by the share of the item's 8-grams found in the text
(an exact copy scores 1), and a text is a copy above THRESHOLD; near misses are reported with their
scores, not dropped."""

from __future__ import annotations

import re
from collections import Counter
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


THRESHOLD = 0.5
"""Share of a benchmark item's n-grams a text must contain to count as a copy of it. On the 1,000 real
s1K questions against the four real benchmarks (../shared, tests/synthesis/test_decontamination.py):
the four MATH500 copies score 1.0, 1.0, 1.0 and 0.90; AIME 2025, written after s1K and so a negative
control, scores at most 0.24 (shared boilerplate such as "where m and n are relatively prime positive
integers"); 0.5 sits twice above that noise and well under the weakest copy. It flags 5 questions
where one shared 8-gram flagged 159."""
REPORT_MIN = 0.2
"""Overlaps from this share up are reported as near misses (kept, with their scores)."""


@dataclass(frozen=True)
class Overlap:
    item: str  # benchmark:id
    share: float  # of the item's n-grams found in the text
    shared: int
    size: int

    def as_dict(self) -> dict:
        return {"item": self.item, "share": round(self.share, 4), "shared_ngrams": self.shared,
                "item_ngrams": self.size}


@dataclass
class BenchmarkIndex:
    """Every n-gram of the benchmark problems with the items it occurs in."""

    n: int = 8
    threshold: float = THRESHOLD
    postings: dict[tuple[str, ...], list[int]] = field(default_factory=dict)
    items: list[str] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    problems_per_benchmark: dict[str, int] = field(default_factory=dict)
    short_lengths: set[int] = field(default_factory=set)
    """Lengths of the single n-gram of items shorter than n words."""

    def add(self, benchmark: str, item_id: str, text: str) -> None:
        grams = ngrams(words(text), self.n)
        number = len(self.items)
        self.items.append(f"{benchmark}:{item_id}")
        self.sizes.append(len(grams))
        for gram in grams:
            self.postings.setdefault(gram, []).append(number)
            if len(gram) < self.n:
                self.short_lengths.add(len(gram))
        self.problems_per_benchmark[benchmark] = self.problems_per_benchmark.get(benchmark, 0) + 1

    def overlap(self, text: str) -> Overlap | None:
        """The benchmark item sharing the largest share of its n-grams with `text` (None: no n-gram shared).
        Items shorter than n words are one shorter n-gram: contained whole, they score 1."""
        tokens = words(text)
        grams = ngrams(tokens, self.n) | {tuple(tokens[i : i + k]) for k in self.short_lengths
                                          for i in range(len(tokens) - k + 1)}
        hits: Counter = Counter()
        for gram in grams:
            hits.update(set(self.postings.get(gram, ())))
        if not hits:
            return None
        best = max(hits, key=lambda k: (hits[k] / self.sizes[k], hits[k]))
        return Overlap(self.items[best], hits[best] / self.sizes[best], hits[best], self.sizes[best])

    def match(self, text: str) -> Overlap | None:
        """The overlap when it makes `text` a copy of a benchmark item, else None."""
        found = self.overlap(text)
        return found if found is not None and found.share >= self.threshold else None


def load_benchmark_index(directory: str | Path, n: int = 8, threshold: float = THRESHOLD) -> BenchmarkIndex:
    """Index the prepared benchmark files (`*.jsonl` from data/prepare_benchmarks.py) in `directory`."""
    from long1k.tasks.prepare import prepared_files

    directory = Path(directory)
    files = prepared_files(directory) if directory.is_dir() else []
    if not files:
        raise Long1kError(
            f"{directory}: no prepared benchmark files (*.jsonl) for decontamination; run "
            "`python data/prepare_benchmarks.py --out DIR` and pass --benchmarks-dir DIR, or --decontaminate false"
        )
    index = BenchmarkIndex(n=n, threshold=threshold)
    for path in files:
        for line_number, row in iter_jsonl(path):
            text = row.get("question") or row.get("problem")
            if not isinstance(text, str):
                raise Long1kError(f"{path} line {line_number}: not a prepared benchmark row with 'problem'")
            index.add(row.get("benchmark", path.stem), str(row.get("id", line_number)), text)
    return index

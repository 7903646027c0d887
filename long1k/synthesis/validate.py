"""Which source rows can be used, and why the others cannot.

The checks run on whole Arrow columns (nulls, empty text, reserved markers, boxed answers), so a
100k-row source is screened without turning its reasoning traces into Python strings.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np
import pyarrow.compute as pc

from long1k.boxed import boxed_answers
from long1k.decontamination.index import REPORT_MIN, BenchmarkIndex
from long1k.source_schemas import SourceSchema
from long1k.sources import SkipLog, Source

_BOX_PATTERN = r"\\(boxed|fbox)\s*\{"
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Candidate:
    """A usable source row: what sampling needs to know without reading its trace."""

    index: int
    problem: str
    domain: str
    key: str  # hash of the whitespace-normalised problem: two rows with the same key are one problem


def problem_key(problem: str) -> str:
    """One key per problem whatever its spacing, case or math delimiters (the same problem is typeset
    slightly differently in OpenThoughts and s1K)."""
    text = _SPACES.sub("", problem.lower().replace("$", "").replace("\\left", "").replace("\\right", ""))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def unique_problems(source: Source, candidates: list[Candidate], skips: SkipLog,
                    taken: set[str] | None = None) -> list[Candidate]:
    """The first row of each problem (and none already `taken`); the others logged as duplicates."""
    seen = set(taken or ())
    kept = []
    for candidate in candidates:
        if candidate.key in seen:
            skips.add(source, candidate.index, "duplicate_problem", None,
                      "the same problem (normalised text) is already in the dataset or the source", announce=False)
        else:
            seen.add(candidate.key)
            kept.append(candidate)
    return kept


def _mask(array, null: bool = True) -> np.ndarray:
    """A boolean Arrow array as numpy, nulls counted as `null`."""
    return np.asarray(array.fill_null(null).to_numpy(zero_copy_only=False), dtype=bool)


def _empty(column) -> np.ndarray:
    return _mask(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(column)), 0))


def usable_rows(
    source: Source,
    text_columns: tuple[str, ...],
    reserved: tuple[str, ...],
    skips: SkipLog,
    *,
    problem_column: str,
    answer_column: str | None = None,
    domain_column: str | None = None,
    domains: tuple[str, ...] = (),
    boxed_domains: tuple[str, ...] = ("math",),
) -> list[Candidate]:
    """Screen every row; log each rejected one with its reason and return the rest in row order."""
    table = source.table
    rejected = np.zeros(table.num_rows, dtype=bool)

    def reject(mask: np.ndarray, reason: str, column: str | None, detail: str, announce: bool = True) -> None:
        for index in np.flatnonzero(mask & ~rejected):
            skips.add(source, int(index), reason, column, detail, announce)
        rejected[:] |= mask

    domain_values = table.column(domain_column).to_pylist() if domain_column else None
    if domain_column and domains:
        outside = ~_mask(pc.is_in(table.column(domain_column), value_set=_string_array(domains)), null=False)
        reject(outside, "domain", domain_column, f"domain not in {list(domains)}", announce=False)
    for column in text_columns:
        reject(_empty(table.column(column)), "empty_field", column, f"field '{column}' is missing or empty")
    for column in text_columns:
        for marker in reserved:
            found = _mask(pc.match_substring(table.column(column), marker), null=False)
            reject(found, "reserved_marker", column, f"contains the reserved marker {marker!r}")
    if answer_column:
        needs_box = np.ones(table.num_rows, dtype=bool)
        if domain_values is not None:
            needs_box = np.array([d in boxed_domains for d in domain_values], dtype=bool)
        no_box = needs_box & ~_mask(pc.match_substring_regex(table.column(answer_column), _BOX_PATTERN), null=False)
        reject(no_box, "no_boxed_answer", answer_column, "no \\boxed{} answer")
        # A box that never closes is a truncated solution: check the survivors one by one (short texts).
        survivors = np.flatnonzero(needs_box & ~rejected)
        answers = source.strings(answer_column, survivors.tolist())
        unbalanced = np.zeros(table.num_rows, dtype=bool)
        for index, text in zip(survivors, answers, strict=True):
            unbalanced[index] = not boxed_answers(text)
        reject(unbalanced, "no_boxed_answer", answer_column, "\\boxed{ is never closed (truncated solution?)")

    keep = np.flatnonzero(~rejected).tolist()
    problems = source.strings(problem_column, keep)
    kept_domains = [domain_values[i] for i in keep] if domain_values is not None else ["math"] * len(keep)
    return [
        Candidate(index, problem, domain or "", problem_key(problem))
        for index, problem, domain in zip(keep, problems, kept_domains, strict=True)
    ]


def _string_array(values):
    import pyarrow as pa

    return pa.array(list(values), type=pa.string())


def drop_contaminated(source: Source, candidates: list[Candidate], index: BenchmarkIndex,
                      skips: SkipLog, near_misses: list[dict] | None = None) -> list[Candidate]:
    """Remove rows whose problem is a copy of a benchmark problem (long1k/decontamination/index.py); overlaps from
    REPORT_MIN up that stay under the threshold go to `near_misses`, with their scores."""
    from tqdm import tqdm

    kept = []
    for candidate in tqdm(candidates, desc=f"decontaminate {source.label}", unit="row", leave=False,
                          disable=len(candidates) < 5000):
        found = index.overlap(candidate.problem)
        if found is not None and found.share >= index.threshold:
            skips.add(source, candidate.index, "contaminated", None,
                      f"problem holds {found.share:.0%} of the word {index.n}-grams of benchmark item {found.item}")
            continue
        if found is not None and found.share >= REPORT_MIN and near_misses is not None:
            file, row = source.locate(candidate.index)
            near_misses.append({"dataset": source.label, "file": file, "row": row, "problem_key": candidate.key,
                                **found.as_dict(), "problem": candidate.problem[:300]})
        kept.append(candidate)
    return kept


def screen_source(source: Source, schema: SourceSchema, reserved: tuple[str, ...], skips: SkipLog,
                  domains: tuple[str, ...] = ()) -> list[Candidate]:
    """Usable rows of a source read by its schema, limited to `domains` where the source records them."""
    columns = source.table.column_names
    return usable_rows(source, schema.text_columns, reserved, skips, problem_column=schema.problem,
                       answer_column=schema.answer if schema.boxed_answers else None,
                       domain_column=schema.domain if schema.domain in columns else None,
                       domains=tuple(domains))

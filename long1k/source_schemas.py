"""The training sources' schemas: one entry per source dataset, the one place that names its columns.

A schema names a source's columns (problem, reasoning trace, answer, and the optional ones the
toolkit reads), its hub id, configuration and split, and the folder of its generated offline copy
in the embedded default. Adding a source (another reasoning dataset) is adding one entry to SCHEMAS.
A leaf below the fixtures (which write these schemas) and the inputs (which read them).
"""

from __future__ import annotations

from dataclasses import dataclass

from long1k.errors import Long1kError


@dataclass(frozen=True)
class SourceSchema:
    name: str
    hub_id: str
    hub_config: str | None
    split: str
    problem: str
    trace: str
    answer: str
    fixture_folder: str
    """Folder of the generated copy under the embedded default's fixtures."""
    required: tuple[str, ...]
    """Columns every file must have."""
    domain: str | None = None
    """Column of the row's domain (math, science, ...), when the source has one."""
    boxed_answers: bool = False
    """Math answers in the answer column carry a `\\boxed{}` (checked, else the row is skipped)."""
    optional: tuple[str, ...] = ()
    """Further columns read where every file has them."""
    all_columns: tuple[str, ...] = ()
    """Every column of the published schema (what the fixture writer writes)."""

    @property
    def text_columns(self) -> tuple[str, str, str]:
        return self.problem, self.trace, self.answer



SCHEMAS: dict[str, SourceSchema] = {
    "openthoughts": SourceSchema(
        name="openthoughts", hub_id="open-thoughts/OpenThoughts-114k", hub_config="metadata", split="train",
        problem="problem", trace="deepseek_reasoning", answer="deepseek_solution", fixture_folder="openthoughts",
        required=("problem", "deepseek_reasoning", "deepseek_solution", "domain"), domain="domain",
        boxed_answers=True, optional=("source",),
        all_columns=("problem", "deepseek_reasoning", "deepseek_solution", "ground_truth_solution", "domain", "source",
                     "test_cases", "starter_code")),
    "s1": SourceSchema(
        name="s1", hub_id="simplescaling/s1K-1.1", hub_config=None, split="train", problem="question",
        trace="deepseek_thinking_trajectory", answer="deepseek_attempt", fixture_folder="s1k11",
        required=("question", "deepseek_thinking_trajectory", "deepseek_attempt"), domain="cot_type",
        optional=("cot_type", "deepseek_grade", "metadata"),
        all_columns=("solution", "question", "cot_type", "source_type", "metadata", "gemini_thinking_trajectory",
                     "gemini_attempt", "deepseek_thinking_trajectory", "deepseek_attempt", "gemini_grade",
                     "gemini_grade_reason", "deepseek_grade", "deepseek_grade_reason")),
}


def get_schema(name: str) -> SourceSchema:
    try:
        return SCHEMAS[name]
    except KeyError:
        raise Long1kError(f"unknown source {name!r}; choose one of {sorted(SCHEMAS)}") from None

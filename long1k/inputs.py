"""The training sources as schemas, and the options that choose them, shared by the synthesis and
the experiments' builders.

A schema names a source's columns (problem, reasoning trace, answer, and the optional ones the
toolkit reads), its hub id, configuration and split, and the folder of its generated offline copy
in the embedded default. Adding a source (another reasoning dataset) is adding one entry to SCHEMAS.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from long1k.errors import Long1kError
from long1k.sources import Source, load_source
from long1k.tokenizer import OFFLINE_TOKENIZER

FIXTURES = "fixtures"


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


def _help(text: str) -> dict:
    return {"help": text}


@dataclass
class OutputOption:
    out: str = field(default="outputs/long1k", metadata=_help("output folder"))


@dataclass
class SourceOptions:
    """Where each source is read from; the hub configuration and split apply to hub ids only."""

    openthoughts: str = field(default=FIXTURES, metadata=_help(
        "OpenThoughts-114k: a hub id (open-thoughts/OpenThoughts-114k), a local json/jsonl/parquet/csv file or "
        "folder, or 'fixtures' for the generated offline source"))
    openthoughts_config: str = field(default="metadata", metadata=_help("hub config of --openthoughts"))
    openthoughts_split: str = field(default="train", metadata=_help("hub split of --openthoughts"))
    s1: str = field(default=FIXTURES, metadata=_help(
        "s1K-1.1: a hub id (simplescaling/s1K-1.1), a local file or folder, or 'fixtures'"))
    s1_split: str = field(default="train", metadata=_help("hub split of --s1"))
    tokenizer: str = field(default=OFFLINE_TOKENIZER, metadata=_help(
        "tokenizer that counts tokens and applies the chat template: 'offline' (Qwen2.5 ids, no download), "
        "a hub id or a local folder"))

    def location(self, schema: SourceSchema) -> tuple[str, str | None, str]:
        """(hub id, file or folder; hub config; split) chosen for a source."""
        location = getattr(self, schema.name)
        config = getattr(self, f"{schema.name}_config", schema.hub_config)
        return location, config, getattr(self, f"{schema.name}_split", schema.split)

    @property
    def uses_fixtures(self) -> bool:
        return all(getattr(self, name) == FIXTURES for name in SCHEMAS)


def fixture_location(schema: SourceSchema) -> str:
    from long1k.fixtures import default_fixtures_dir

    return str(default_fixtures_dir() / schema.fixture_folder)


def open_source(schema: SourceSchema, options: SourceOptions, optional: tuple[str, ...] | None = None) -> Source:
    """Load one source as its options say: the generated copy, a local file or folder, or the hub."""
    location, config, split = options.location(schema)
    if location == FIXTURES:
        location = fixture_location(schema)
    return load_source(schema.name, location, schema.required, config, split,
                       optional=schema.optional if optional is None else optional)

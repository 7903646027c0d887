"""The options that choose where each training source is read from (the embedded default, a local
file or folder, or the hub), shared by the synthesis and the experiments' builders. The sources'
schemas are in long1k/source_schemas.py."""

from __future__ import annotations

from dataclasses import dataclass, field

from long1k.configs import help_text
from long1k.fixtures import default_fixtures_dir
from long1k.source_schemas import SCHEMAS, SourceSchema
from long1k.sources import Source, load_source
from long1k.tokenizer import OFFLINE_TOKENIZER

FIXTURES = "fixtures"



REAL_OUT, DEMO_OUT = "outputs/long1k", "outputs/demo/long1k"


@dataclass
class OutputOption:
    out: str | None = field(default=None, metadata=help_text(
        f"output folder (default: {REAL_OUT} from real sources, {DEMO_OUT} when any source is generated, so that "
        "demo data never lands where training looks for the real set)"))


@dataclass
class SourceOptions:
    """Where each source is read from; the hub configuration and split apply to hub ids only."""

    openthoughts: str = field(default=FIXTURES, metadata=help_text(
        "OpenThoughts-114k: a hub id (open-thoughts/OpenThoughts-114k), a local json/jsonl/parquet/csv file or "
        "folder, 'fixtures' for the generated offline source, or 'fixtures:minichain/STYLE' for the miniature "
        "world's (STYLE: none, some, full, checked)"))
    openthoughts_config: str = field(default="metadata", metadata=help_text("hub config of --openthoughts"))
    openthoughts_split: str = field(default="train", metadata=help_text("hub split of --openthoughts"))
    s1: str = field(default=FIXTURES, metadata=help_text(
        "s1K-1.1: a hub id (simplescaling/s1K-1.1), a local file or folder, 'fixtures' or "
        "'fixtures:minichain/STYLE'"))
    s1_split: str = field(default="train", metadata=help_text("hub split of --s1"))
    tokenizer: str = field(default=OFFLINE_TOKENIZER, metadata=help_text(
        "tokenizer that counts tokens and applies the chat template: 'offline' (Qwen2.5 ids, no download), "
        "'mini' (the miniature world's, no download), a hub id or a local folder"))

    def location(self, schema: SourceSchema) -> tuple[str, str | None, str]:
        """(hub id, file or folder; hub config; split) chosen for a source."""
        location = getattr(self, schema.name)
        config = getattr(self, f"{schema.name}_config", schema.hub_config)
        return location, config, getattr(self, f"{schema.name}_split", schema.split)

    @property
    def uses_fixtures(self) -> bool:
        return all(getattr(self, name) == FIXTURES for name in SCHEMAS)

    @property
    def generated_sources(self) -> list[str]:
        """The sources read from the generated fixtures (demo data), not from real data."""
        return [name for name in SCHEMAS if is_fixture_location(getattr(self, name))]


def generated_sources_of(stats: dict) -> list[str]:
    """The sources a built dataset (its stats.json) read from the generated fixtures."""
    recorded = stats.get("config", {})
    return [name for name in SCHEMAS if is_fixture_location(str(recorded.get(name, "")))]


def default_out(options) -> str:
    """Where a build goes without --out: generated data never goes to the real set's folder."""
    return DEMO_OUT if options.generated_sources else REAL_OUT


def fixture_location(schema: SourceSchema, location: str = FIXTURES) -> str:
    """The generated copy of a source: `fixtures` (the embedded default) or `fixtures:SUBFOLDER` (another
    generated world inside it, such as `fixtures:minichain/full`)."""
    subfolder = location.partition(":")[2]
    return str(default_fixtures_dir() / subfolder / schema.fixture_folder)


def is_fixture_location(location: str) -> bool:
    return location == FIXTURES or location.startswith(f"{FIXTURES}:")


def open_source(schema: SourceSchema, options: SourceOptions, optional: tuple[str, ...] | None = None) -> Source:
    """Load one source as its options say: the generated copy, a local file or folder, or the hub."""
    location, config, split = options.location(schema)
    if is_fixture_location(location):
        location = fixture_location(schema, location)
    return load_source(schema.name, location, schema.required, config, split,
                       optional=schema.optional if optional is None else optional)

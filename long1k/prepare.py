"""`python data/prepare_benchmarks.py`: normalised benchmark files from the hub, local files or fixtures."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from long1k.benchmarks import REGISTRY, get_spec, prepare, read_hub_rows, read_local_rows
from long1k.cli import parse_config
from long1k.errors import Long1kError
from long1k.jsonl import write_jsonl

MANIFEST = "benchmarks_manifest.json"
FIXTURE_FILES = {"math500": "math500.jsonl", "aime24": "aime24.jsonl", "aime25": "aime25.jsonl",
                 "gpqa_diamond": "gpqa_diamond.csv"}


@dataclass
class PrepareConfig:
    out: str = field(default="outputs/benchmarks", metadata={"help": "output folder"})
    benchmarks: list[str] = field(default_factory=lambda: list(REGISTRY),
                                  metadata={"help": f"which benchmarks: {', '.join(REGISTRY)}"})
    source: list[str] = field(default_factory=list, metadata={
        "help": "NAME=PATH: read NAME from a local file in its original schema instead of the hub"})
    fixtures: bool = field(default=False, metadata={
        "help": "use the generated mini benchmarks (offline demo) for every benchmark without --source"})
    gpqa_seed: int = field(default=0, metadata={"help": "seed of the GPQA choice permutation"})


def parse_sources(pairs: list[str]) -> dict[str, Path]:
    sources = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not path:
            raise Long1kError(f"--source expects NAME=PATH, got {pair!r}")
        get_spec(name)
        sources[name] = Path(path).expanduser()
    return sources


def prepare_benchmarks(config: PrepareConfig) -> dict[str, dict]:
    """Write OUT/{name}.jsonl per benchmark and a manifest; return the manifest."""
    from long1k.fixtures import default_fixtures_dir

    out = Path(config.out)
    sources = parse_sources(config.source)
    unknown = [name for name in sources if name not in config.benchmarks]
    if unknown:
        raise Long1kError(f"--source names {unknown} that are not in --benchmarks {config.benchmarks}")
    manifest = {}
    for name in config.benchmarks:
        spec = get_spec(name)
        if name in sources:
            rows, where = read_local_rows(sources[name]), str(sources[name])
        elif config.fixtures:
            path = default_fixtures_dir() / "benchmarks" / FIXTURE_FILES[name]
            rows, where = read_local_rows(path), str(path)
        else:
            rows, where = read_hub_rows(spec), spec.hub_id
        items = prepare(spec, rows, where, config.gpqa_seed)
        target = out / f"{name}.jsonl"
        write_jsonl(target, items)
        manifest[name] = {
            "source": where,
            "rows": len(items),
            "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
            "answer_kind": spec.answer_kind,
        }
        if spec.answer_kind == "letter":
            manifest[name]["answer_letters"] = dict(sorted(Counter(i["answer"] for i in items).items()))
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> None:
    config = parse_config(PrepareConfig, argv, description=__doc__)
    manifest = prepare_benchmarks(config)
    print("| benchmark | rows | source | notes |\n|---|---|---|---|")
    for name, info in manifest.items():
        notes = f"letters {info['answer_letters']}" if "answer_letters" in info else info["answer_kind"]
        print(f"| {name} | {info['rows']} | {info['source']} | {notes} |")
    print(f"wrote {len(manifest)} benchmark files to {config.out}")

"""`python -m long1k prepare-benchmarks`: normalised benchmark files from the hub, local files or fixtures."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from long1k.atomic import recover, replaced_folder
from long1k.configs import parse_config
from long1k.errors import Long1kError
from long1k.faults import kill_point
from long1k.jsonl import write_jsonl
from long1k.reporting import markdown_table
from long1k.tasks import default_benchmarks, get_task, prepare_rows
from long1k.tasks.composite import COMPOSITE_KIND, build_composite, check_parts, composite_name, parse_composite_name
from long1k.tasks.reading import fixture_file, read_hub_rows, read_local_rows

MANIFEST = "benchmarks_manifest.json"


@dataclass
class PrepareConfig:
    out: str = field(default="outputs/benchmarks", metadata={"help": "output folder"})
    benchmarks: list[str] = field(default_factory=default_benchmarks, metadata={
        "help": "which benchmarks (default: the paper's four; `python -m long1k tasks` lists all)"})
    source: list[str] = field(default_factory=list, metadata={
        "help": "NAME=PATH: read NAME from a local file in its original schema instead of the hub"})
    fixtures: bool = field(default=False, metadata={
        "help": "use the generated mini benchmarks (offline demo) for every benchmark without --source"})
    gpqa_seed: int = field(default=0, metadata={"help": "seed of the multiple-choice permutation (GPQA)"})
    composite: list[int] = field(default_factory=list, metadata={
        "help": "also write BENCHMARK_xK for each K: K problems per prompt, joined as Long1K joins its rows"})
    composite_benchmarks: list[str] = field(default_factory=list, metadata={
        "help": "which benchmarks to compose (default: every one prepared)"})
    composite_rows: int | None = field(default=None, metadata={
        "help": "composite rows per benchmark (default: as many as it has problems, each once per position)"})
    composite_seed: int = field(default=0, metadata={"help": "seed of the composite rows' problems and links"})


def parse_sources(pairs: list[str]) -> dict[str, Path]:
    sources = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not path:
            raise Long1kError(f"--source expects NAME=PATH, got {pair!r}")
        get_task(name)
        sources[name] = Path(path).expanduser()
    return sources


def check_out_folder(out: Path) -> None:
    """The folder is replaced whole: only an empty one or an earlier preparation may be there."""
    recover(out)
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise Long1kError(f"{out}: folder exists, is not empty and holds no earlier preparation ({MANIFEST}); "
                          "choose another --out")


def prepare_benchmarks(config: PrepareConfig) -> dict[str, dict]:
    """Write OUT/{name}.jsonl per benchmark and a manifest, all or none (the folder is replaced whole
    once every benchmark is written); return the manifest."""
    out = Path(config.out)
    sources = parse_sources(config.source)
    unknown = [name for name in sources if name not in config.benchmarks]
    if unknown:
        raise Long1kError(f"--source names {unknown} that are not in --benchmarks {config.benchmarks}")
    check_composite_options(config)
    check_out_folder(out)
    with replaced_folder(out) as build:
        manifest = write_benchmarks(config, sources, build)
    return manifest


def write_benchmarks(config: PrepareConfig, sources: dict[str, Path], out: Path) -> dict[str, dict]:
    manifest = {}
    for name in config.benchmarks:
        task = get_task(name)
        if name in sources:
            rows, where = read_local_rows(sources[name]), str(sources[name])
        elif config.fixtures:
            path = fixture_file(task)
            rows, where = read_local_rows(path), str(path)
        else:
            rows, where = read_hub_rows(task), task.hub_id
        items = prepare_rows(task, rows, where, config.gpqa_seed)
        manifest[name] = write_benchmark_file(out, name, items, where, task.answer_kind)
        if task.layout == "multiple_choice":
            manifest[name]["answer_letters"] = dict(sorted(Counter(i["answer"] for i in items).items()))
        kill_point("benchmark-written")
        for parts in config.composite if name in (config.composite_benchmarks or config.benchmarks) else ():
            manifest[composite_name(name, parts)] = write_composite(out, task, items, parts, config)
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def write_benchmark_file(out: Path, name: str, rows: list[dict], source: str, answer_kind: str) -> dict:
    """OUT/NAME.jsonl and its manifest entry (the sha256 that later reads check it against)."""
    target = out / f"{name}.jsonl"
    write_jsonl(target, rows)
    return {"source": source, "rows": len(rows), "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
            "answer_kind": answer_kind}


def check_composite_options(config: PrepareConfig) -> None:
    for parts in config.composite:
        check_parts(parts)
    stray = [name for name in config.composite_benchmarks if name not in config.benchmarks]
    if stray:
        raise Long1kError(f"--composite_benchmarks names {stray} that are not in --benchmarks {config.benchmarks}")
    if config.composite_benchmarks and not config.composite:
        raise Long1kError("--composite_benchmarks needs --composite K (problems per prompt)")


def write_composite(out: Path, task, items: list[dict], parts: int, config: PrepareConfig) -> dict:
    rows = build_composite(items, task, parts, config.composite_seed, config.composite_rows)
    entry = write_benchmark_file(out, composite_name(task.name, parts), rows, f"composite of {task.name}.jsonl",
                                 COMPOSITE_KIND)
    return {**entry, "composite": {"of": task.name, "parts": parts, "seed": config.composite_seed}}


def check_prepared_file(directory: Path, name: str, manifest: dict | None = None) -> None:
    """A prepared benchmark file must be the one its folder's manifest describes (same sha256)."""
    manifest_path = directory / MANIFEST
    if manifest is None:
        if not manifest_path.is_file():
            return
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if name not in manifest:
        return
    path = directory / f"{name}.jsonl"
    if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != manifest[name].get("sha256"):
        raise Long1kError(f"{path}: {'missing' if not path.is_file() else 'changed'} since {manifest_path} was "
                          "written; prepare the benchmarks again")


def prepared_files(directory: Path) -> list[Path]:
    """The benchmark files of a prepared folder (composites left out: they repeat the others' problems),
    checked against its manifest (present, same sha256); a folder without a manifest is read as it is,
    with a warning."""
    manifest_path = directory / MANIFEST
    files = [path for path in sorted(directory.glob("*.jsonl")) if not parse_composite_name(path.stem)]
    if not manifest_path.is_file():
        print(f"warning: {directory} has no {MANIFEST}: its benchmark files cannot be checked as one complete set")
        return files
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    singles = [name for name in manifest if "composite" not in manifest[name]]  # composites repeat them
    for name in manifest:
        check_prepared_file(directory, name, manifest)
    missing = [name for name in default_benchmarks() if name not in manifest]
    if missing:
        print(f"warning: {directory} holds {sorted(singles)}, not the paper's {missing}")
    return [directory / f"{name}.jsonl" for name in singles]


def prepared_fixture_benchmarks() -> Path:
    """The default mini benchmarks, prepared once into the cache (decontamination and evaluation offline)."""
    from long1k.fixtures import default_fixtures_dir

    folder = default_fixtures_dir() / "prepared_benchmarks"
    if not (folder / MANIFEST).is_file():
        prepare_benchmarks(PrepareConfig(out=str(folder), fixtures=True))
    return folder


def notes(info: dict) -> str:
    if "answer_letters" in info:
        return f"letters {info['answer_letters']}"
    if "composite" in info:
        return f"{info['composite']['parts']} questions per prompt"
    return info["answer_kind"]


def main(argv: list[str] | None = None) -> None:
    config = parse_config(PrepareConfig, argv, description=__doc__)
    manifest = prepare_benchmarks(config)
    rows = [[name, info["rows"], info["source"], notes(info)] for name, info in manifest.items()]
    print(markdown_table(["benchmark", "rows", "source", "notes"], rows))
    print(f"wrote {len(manifest)} benchmark files to {config.out}")

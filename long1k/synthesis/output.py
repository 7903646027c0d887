"""The one dataset writer: every training set the toolkit makes (the synthesis, the experiments'
controlled sets, a difficulty selection) is a folder with data/ shards, manifest.jsonl, stats.json
and a length histogram, plus a LLaMA-Factory export and the skipped rows where a stage has them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from long1k.artifacts import DATASET_STATS, dataset_stats
from long1k.atomic import recover, replaced_folder
from long1k.errors import Long1kError
from long1k.faults import kill_point
from long1k.jsonl import write_jsonl
from long1k.reporting import figure
from long1k.source_options import generated_sources_of
from long1k.sources import SkipLog
from long1k.stats import describe
from long1k.synthesis.sampling import Example

LLAMAFACTORY_NAME = "long1k"


def check_out_dir(out: Path, generated_sources: list[str] | None = None) -> None:
    """Only an empty folder or one holding an earlier synthesis (which will be replaced) is usable; a build from
    generated sources never replaces one from real sources."""
    recover(out)
    if out.exists() and any(out.iterdir()) and not (out / DATASET_STATS).is_file():
        raise Long1kError(f"{out}: folder exists, is not empty and holds no earlier synthesis; "
                          "choose another --out")
    if generated_sources and (out / DATASET_STATS).is_file() and not built_from_generated(out):
        raise Long1kError(f"{out}: holds a build from real sources, which this build from the generated "
                          f"{', '.join(generated_sources)} (demo data) would replace; choose another --out")


def built_from_generated(folder: Path) -> list[str]:
    """The sources of a built dataset (its stats.json) that were the generated fixtures."""
    return generated_sources_of(dataset_stats(folder) or {})


def write_shards(out: Path, examples: list[Example], shard_size: int) -> list[Path]:
    count = max(1, -(-len(examples) // shard_size))
    paths = []
    for shard in range(count):
        rows = ({"id": e.id, "kind": e.kind, "messages": e.messages, "text": e.text, "num_tokens": e.text_tokens}
                for e in examples[shard * shard_size : (shard + 1) * shard_size])
        paths.append(write_jsonl(out / "data" / f"train-{shard:05d}-of-{count:05d}.jsonl", rows))
    return paths


def write_manifest(path: Path, examples: list[Example]) -> None:
    write_jsonl(path, ({
        "id": example.id, "kind": example.kind, "domain": example.domain, "sources": example.sources,
        "links": example.links, "tokens": {"text": example.text_tokens, "response": example.response_tokens,
                                           "parts": example.part_tokens},
    } for example in examples))


def write_llamafactory(out: Path, examples: list[Example]) -> None:
    """ShareGPT file plus the dataset_info.json entry LLaMA-Factory reads."""
    folder = out / "llamafactory"
    folder.mkdir(parents=True, exist_ok=True)
    file_name = f"{LLAMAFACTORY_NAME}_sharegpt.json"
    rows = []
    for example in examples:
        system, user, assistant = example.messages
        rows.append({"conversations": [{"from": "human", "value": user["content"]},
                                       {"from": "gpt", "value": assistant["content"]}],
                     "system": system["content"]})
    (folder / file_name).write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    info = {LLAMAFACTORY_NAME: {"file_name": file_name, "formatting": "sharegpt",
                                "columns": {"messages": "conversations", "system": "system"}}}
    (folder / "dataset_info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


def kinds(examples: list[Example]) -> list[str]:
    return sorted({e.kind for e in examples}, key=lambda k: ("pair", "s1").index(k) if k in ("pair", "s1") else 9)


def token_summary(examples: list[Example]) -> dict:
    summary = {}
    for kind in ("all", "pair", "s1", *[k for k in kinds(examples) if k not in ("pair", "s1")]):
        chosen = [e for e in examples if kind in ("all", e.kind)]
        summary[kind] = {"text_tokens": describe([e.text_tokens for e in chosen]),
                         "response_tokens": describe([e.response_tokens for e in chosen])}
    return summary


def write_histogram(path: Path, examples: list[Example], block_size: int, title: str = "Long1K synthesis") -> None:
    with figure(path, figsize=(8, 4.5)) as (_, ax):
        top = max([e.text_tokens for e in examples] + [1])
        bins = [top * i / 40 for i in range(41)]
        for kind in kinds(examples):
            values = [e.text_tokens for e in examples if e.kind == kind]
            ax.hist(values, bins=bins, alpha=0.7, label=f"{kind} ({len(values)})")
        if block_size <= top * 1.5:
            ax.axvline(block_size, color="black", linestyle="--", linewidth=1, label=f"block size {block_size}")
        ax.set_xlabel("tokens per row (chat-templated text)")
        ax.set_ylabel("rows")
        ax.set_title(f"{title}: length distribution")
        ax.legend()


def write_dataset(out: Path, examples: list[Example], stats: dict, *, id_prefix: str, shard_size: int = 500,
                  block_size: int = 10**9, title: str = "Long1K synthesis", llamafactory: bool = False,
                  skips: SkipLog | None = None, reports: dict[str, list[dict]] | None = None) -> dict:
    """Number the examples, write the dataset folder, and return `stats` completed with token
    statistics and the data digest (also written to OUT/stats.json). The folder is replaced whole
    (long1k/atomic.py): a killed run leaves the previous dataset, never a mixture."""
    check_out_dir(out)
    for number, example in enumerate(examples):
        example.id = f"{id_prefix}-{number:05d}"
    with replaced_folder(out) as build:
        (build / "data").mkdir()
        shards = write_shards(build, examples, shard_size)
        kill_point("dataset-shards-written")
        write_manifest(build / "manifest.jsonl", examples)
        if llamafactory:
            write_llamafactory(build, examples)
        write_histogram(build / "length_histogram.png", examples, block_size, title)
        if skips is not None:
            skips.write(build / "skipped.jsonl")
        for name, rows in (reports or {}).items():
            write_jsonl(build / name, rows)
        stats = {**stats, "tokens": token_summary(examples), "data_sha256": digest(shards)}
        (build / DATASET_STATS).write_text(json.dumps(stats, indent=2, ensure_ascii=False, default=str) + "\n",
                                        encoding="utf-8")
        kill_point("dataset-complete-unswapped")
    return stats


def digest(paths: list[Path]) -> str:
    sha = hashlib.sha256()
    for path in paths:
        sha.update(path.read_bytes())
    return sha.hexdigest()

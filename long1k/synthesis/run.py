"""`python data/synthesize.py`: build a Long1K set (stitched OpenThoughts pairs + length-filtered s1.1)."""

from __future__ import annotations

import dataclasses
import json
import random
import time
from pathlib import Path

from long1k.configs import parse_config
from long1k.decontam import BenchmarkIndex, load_benchmark_index
from long1k.errors import Long1kError
from long1k.formats import get_format
from long1k.sources import SkipLog, Source, load_source
from long1k.synthesis import output
from long1k.synthesis.config import FIXTURES, SynthesisConfig
from long1k.synthesis.sampling import Example, Measurer, PairSampler, S1Sampler
from long1k.synthesis.validate import Candidate, drop_contaminated, usable_rows
from long1k.tokenizer import load_tokenizer

OPENTHOUGHTS_REQUIRED = ("problem", "deepseek_reasoning", "deepseek_solution", "domain")
S1_REQUIRED = ("question", "deepseek_thinking_trajectory", "deepseek_attempt")
DEFAULT_BENCHMARKS_DIR = "outputs/benchmarks"


def fixture_path(name: str) -> str:
    from long1k.fixtures import default_fixtures_dir

    return str(default_fixtures_dir() / {"openthoughts": "openthoughts", "s1": "s1k11"}[name])


def resolve_sources(config: SynthesisConfig) -> tuple[Source, Source]:
    openthoughts = load_source(
        "openthoughts",
        fixture_path("openthoughts") if config.openthoughts == FIXTURES else config.openthoughts,
        OPENTHOUGHTS_REQUIRED, config.openthoughts_config, config.openthoughts_split, optional=("source",))
    s1 = load_source("s1", fixture_path("s1") if config.s1 == FIXTURES else config.s1, S1_REQUIRED,
                     None, config.s1_split, optional=("cot_type", "deepseek_grade"))
    return openthoughts, s1


def resolve_benchmark_index(config: SynthesisConfig) -> BenchmarkIndex | None:
    if not config.decontaminate:
        print("warning: decontamination is off (--decontaminate false)")
        return None
    if config.benchmarks_dir:
        return load_benchmark_index(config.benchmarks_dir, config.ngram)
    if config.uses_fixtures:
        from long1k.prepare import prepared_fixture_benchmarks

        return load_benchmark_index(prepared_fixture_benchmarks(), config.ngram)
    if Path(DEFAULT_BENCHMARKS_DIR).is_dir():
        return load_benchmark_index(DEFAULT_BENCHMARKS_DIR, config.ngram)
    raise Long1kError(
        f"no benchmark files to decontaminate against: run `python data/prepare_benchmarks.py --out "
        f"{DEFAULT_BENCHMARKS_DIR}` (or pass --benchmarks_dir DIR), or pass --decontaminate false"
    )


def screen(config: SynthesisConfig, openthoughts: Source, s1: Source, index: BenchmarkIndex | None,
           skips: SkipLog) -> tuple[list[Candidate], list[Candidate], dict]:
    """Usable, uncontaminated candidates of both sources, plus the counts for the stats."""
    reserved = get_format(config.reasoning_format).reserved_strings
    ot_text = ("problem", "deepseek_reasoning", "deepseek_solution")
    ot = usable_rows(openthoughts, ot_text, reserved, skips, problem_column="problem",
                     answer_column="deepseek_solution", domain_column="domain", domains=tuple(config.domains),
                     group_column="source" if "source" in openthoughts.table.column_names else None)
    s1_columns = s1.table.column_names
    s1_rows = usable_rows(s1, S1_REQUIRED, reserved, skips, problem_column="question",
                          domain_column="cot_type" if "cot_type" in s1_columns else None)
    if config.s1_require_correct:
        if "deepseek_grade" not in s1_columns:
            raise Long1kError(f"{s1.location}: --s1_require_correct needs a 'deepseek_grade' column")
        grades = s1.strings("deepseek_grade", [c.index for c in s1_rows])
        for candidate, grade in zip(list(s1_rows), grades, strict=True):
            if (grade or "").strip().lower() != "yes":
                skips.add(s1, candidate.index, "graded_wrong", "deepseek_grade", "deepseek_grade is not 'Yes'",
                          announce=False)
        s1_rows = [c for c, g in zip(s1_rows, grades, strict=True) if (g or "").strip().lower() == "yes"]
    usable = {"openthoughts": len(ot), "s1": len(s1_rows)}
    if index is not None:
        ot = drop_contaminated(openthoughts, ot, index, skips)
        s1_rows = drop_contaminated(s1, s1_rows, index, skips)
    return ot, s1_rows, usable


def synthesize(config: SynthesisConfig) -> dict:
    """Run the whole synthesis; return the stats written to OUT/stats.json."""
    config.validate()
    started = time.perf_counter()
    out = Path(config.out)
    output.check_out_dir(out)
    fmt = get_format(config.reasoning_format)
    tokenizer = load_tokenizer(config.tokenizer)
    openthoughts, s1 = resolve_sources(config)
    index = resolve_benchmark_index(config)

    skips = SkipLog()
    ot_candidates, s1_candidates, usable = screen(config, openthoughts, s1, index, skips)
    skips.print_overflow()
    if len(ot_candidates) < 2 and len(s1_candidates) == 0:
        raise Long1kError("nothing usable is left in the sources after screening (see skipped.jsonl in --out)")

    rng = random.Random(config.seed)
    measurer = Measurer(tokenizer, fmt, config.block_size)
    wanted_s1 = round(config.num_samples * config.s1_share)
    s1_examples = S1Sampler(s1, s1_candidates, config, measurer, rng).sample(wanted_s1)
    wanted_pairs = config.num_samples - wanted_s1
    pair_examples = PairSampler(openthoughts, ot_candidates, config, measurer, rng).sample(wanted_pairs)
    examples: list[Example] = pair_examples + s1_examples
    if not examples:
        raise Long1kError("no row met the length limits; widen the token ranges or raise --block_size")
    rng.shuffle(examples)
    for number, example in enumerate(examples):
        example.id = f"long1k-{number:05d}"

    output.prepare_out_dir(out)
    shards = output.write_shards(out, examples, config.shard_size)
    output.write_manifest(out / "manifest.jsonl", examples)
    output.write_llamafactory(out, examples)
    output.write_histogram(out / "length_histogram.png", examples, config.block_size)
    skips.write(out / "skipped.jsonl")

    counters = dict(sorted(measurer.counters.items()))
    shortfall = {"pair": wanted_pairs - len(pair_examples), "s1": wanted_s1 - len(s1_examples)}
    for kind, missing in shortfall.items():
        if missing:
            print(f"warning: {missing} {kind} rows short of the {kind} target: the sources ran out of rows "
                  "meeting the limits (see 'sampling' in stats.json)")
    stats = {
        "config": dataclasses.asdict(config),
        "tokenizer": config.tokenizer,
        "reasoning_format": fmt.name,
        "rows": len(examples),
        "rows_by_kind": {"pair": len(pair_examples), "s1": len(s1_examples)},
        "requested": {"pair": wanted_pairs, "s1": wanted_s1},
        "shortfall": shortfall,
        "sources": {
            src.label: {"location": src.location, "files": src.files, "rows": src.table.num_rows,
                        "usable": usable[src.label], "skipped": skips.summary(src.label),
                        "after_decontamination": len(cands)}
            for src, cands in ((openthoughts, ot_candidates), (s1, s1_candidates))
        },
        "decontamination": None if index is None else {
            "ngram": index.n, "benchmark_problems": index.problems_per_benchmark,
            "contaminated_rows": {src: skips.summary(src).get("contaminated", 0) for src in ("openthoughts", "s1")},
        },
        "sampling": counters,
        "tokens": output.token_summary(examples),
        "data_sha256": output.digest(shards),
    }
    (out / output.STATS_FILE).write_text(json.dumps(stats, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print_summary(stats, out, time.perf_counter() - started)
    return stats


def print_summary(stats: dict, out: Path, seconds: float) -> None:
    print(f"\nLong1K synthesis: {stats['rows']} rows ({stats['rows_by_kind']['pair']} stitched pairs, "
          f"{stats['rows_by_kind']['s1']} s1.1) in {seconds:.1f} s")
    print("| kind | rows | mean tokens | median | p90 | max |\n|---|---|---|---|---|---|")
    for kind in ("pair", "s1", "all"):
        t = stats["tokens"][kind]["text_tokens"]
        if t["count"]:
            print(f"| {kind} | {t['count']} | {t['mean']} | {t['median']} | {t['p90']} | {t['max']} |")
    for label, info in stats["sources"].items():
        skipped = ", ".join(f"{k} {v}" for k, v in info["skipped"].items()) or "none"
        print(f"{label}: {info['rows']} rows, {info['usable']} usable, {info['after_decontamination']} after "
              f"decontamination; skipped: {skipped}")
    if stats["sampling"]:
        print("sampling: " + ", ".join(f"{k} {v}" for k, v in stats["sampling"].items()))
    print(f"wrote {out}/data/, manifest.jsonl, stats.json, length_histogram.png, llamafactory/, skipped.jsonl")


def main(argv: list[str] | None = None) -> None:
    synthesize(parse_config(SynthesisConfig, argv, description=__doc__))

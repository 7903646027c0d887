"""`python data/synthesize.py`: build a Long1K set (stitched OpenThoughts pairs + length-filtered s1.1)."""

from __future__ import annotations

import dataclasses
import random
import time
from pathlib import Path

from long1k.configs import parse_config
from long1k.decontamination.index import REPORT_MIN, BenchmarkIndex
from long1k.errors import Long1kError
from long1k.formats import get_format
from long1k.reporting import markdown_table
from long1k.source_options import open_source
from long1k.source_schemas import SCHEMAS
from long1k.sources import SkipLog, Source
from long1k.synthesis import output
from long1k.synthesis.config import SynthesisConfig
from long1k.synthesis.sampling import Example, Measurer, PairSampler, S1Sampler
from long1k.synthesis.validate import Candidate, drop_contaminated, screen_source, unique_problems
from long1k.tokenizer import load_tokenizer

NEAR_MISSES = "decontamination_near_misses.jsonl"


def screen(config: SynthesisConfig, openthoughts: Source, s1: Source, index: BenchmarkIndex | None,
           skips: SkipLog, near_misses: list[dict]) -> tuple[list[Candidate], list[Candidate], dict]:
    """Usable, uncontaminated candidates of both sources (each problem once, unless --reuse_problems),
    plus the counts for the stats."""
    reserved = get_format(config.reasoning_format).reserved_strings
    ot = screen_source(openthoughts, SCHEMAS["openthoughts"], reserved, skips, tuple(config.domains))
    s1_rows = screen_source(s1, SCHEMAS["s1"], reserved, skips, tuple(config.s1_domains))
    if "cot_type" not in s1.table.column_names and config.s1_domains:
        print(f"warning: {s1.location} has no cot_type column: --s1_domains cannot be applied")
    if config.s1_require_correct:
        if "deepseek_grade" not in s1.table.column_names:
            raise Long1kError(f"{s1.location}: --s1_require_correct needs a 'deepseek_grade' column")
        grades = s1.strings("deepseek_grade", [c.index for c in s1_rows])
        for candidate, grade in zip(list(s1_rows), grades, strict=True):
            if (grade or "").strip().lower() != "yes":
                skips.add(s1, candidate.index, "graded_wrong", "deepseek_grade", "deepseek_grade is not 'Yes'",
                          announce=False)
        s1_rows = [c for c, g in zip(s1_rows, grades, strict=True) if (g or "").strip().lower() == "yes"]
    usable = {"openthoughts": len(ot), "s1": len(s1_rows)}
    if index is not None:
        ot = drop_contaminated(openthoughts, ot, index, skips, near_misses)
        s1_rows = drop_contaminated(s1, s1_rows, index, skips, near_misses)
    if not config.reuse_problems:
        ot, s1_rows = unique_problems(openthoughts, ot, skips), unique_problems(s1, s1_rows, skips)
    return ot, s1_rows, usable


def sources_in_words(config: SynthesisConfig) -> str:
    """For figure titles: real sources, or which generated world (the fixtures, the miniature's minichain)."""
    if not config.generated_sources:
        return "real sources"
    worlds = sorted({getattr(config, name).partition(":")[2] for name in config.generated_sources} - {""})
    return "generated sources" + (f" ({', '.join(worlds)})" if worlds else "")


def synthesize(config: SynthesisConfig) -> dict:
    """Run the whole synthesis; return the stats written to OUT/stats.json."""
    config.validate()
    started = time.perf_counter()
    out = Path(config.out)
    output.check_out_dir(out, config.generated_sources)
    fmt = get_format(config.reasoning_format)
    tokenizer = load_tokenizer(config.tokenizer)
    openthoughts = open_source(SCHEMAS["openthoughts"], config)
    s1 = open_source(SCHEMAS["s1"], config, optional=("cot_type", "deepseek_grade"))
    index = config.benchmark_index(config.uses_fixtures)

    skips = SkipLog()
    near_misses: list[dict] = []
    ot_candidates, s1_candidates, usable = screen(config, openthoughts, s1, index, skips, near_misses)
    skips.print_overflow()
    if len(ot_candidates) < 2 and len(s1_candidates) == 0:
        raise Long1kError("nothing usable is left in the sources after screening (see skipped.jsonl in --out)")

    rng = random.Random(config.seed)
    measurer = Measurer(tokenizer, fmt, config.block_size)
    wanted_s1 = round(config.num_samples * config.s1_share)
    s1_examples = S1Sampler(s1, s1_candidates, config, measurer, rng).sample(wanted_s1)
    if not config.reuse_problems:  # a problem chosen as an s1.1 row is not also half of a pair
        chosen = {source["problem_key"] for example in s1_examples for source in example.sources}
        before = len(ot_candidates)
        ot_candidates = unique_problems(openthoughts, ot_candidates, skips, taken=chosen)
        measurer.counters["pair_problems_already_s1_rows"] = before - len(ot_candidates)
    wanted_pairs = config.num_samples - wanted_s1
    pair_examples = PairSampler(openthoughts, ot_candidates, config, measurer, rng).sample(wanted_pairs)
    examples: list[Example] = pair_examples + s1_examples
    if not examples:
        raise Long1kError("no row met the length limits; widen the token ranges or raise --block_size")
    rng.shuffle(examples)

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
                        "candidates": len(cands)}  # usable, not benchmark copies, distinct problems
            for src, cands in ((openthoughts, ot_candidates), (s1, s1_candidates))
        },
        "decontamination": None if index is None else {
            "ngram": index.n, "threshold": index.threshold, "benchmark_problems": index.problems_per_benchmark,
            "contaminated_rows": {src: skips.summary(src).get("contaminated", 0) for src in ("openthoughts", "s1")},
            "near_misses": len(near_misses), "near_miss_min_share": REPORT_MIN,
        },
        "duplicate_problems": {src: skips.summary(src).get("duplicate_problem", 0) for src in ("openthoughts", "s1")},
        "sampling": counters,
    }
    stats = output.write_dataset(out, examples, stats, id_prefix="long1k", shard_size=config.shard_size,
                                 title=f"Long1K synthesis from {sources_in_words(config)}",
                                 block_size=config.block_size, llamafactory=True, skips=skips,
                                 reports={NEAR_MISSES: near_misses})
    print_summary(stats, out, time.perf_counter() - started)
    return stats


def print_summary(stats: dict, out: Path, seconds: float) -> None:
    print(f"\nLong1K synthesis: {stats['rows']} rows ({stats['rows_by_kind']['pair']} stitched pairs, "
          f"{stats['rows_by_kind']['s1']} s1.1) in {seconds:.1f} s")
    rows = [[kind, t["count"], t["mean"], t["median"], t["p90"], t["max"]] for kind in ("pair", "s1", "all")
            if (t := stats["tokens"][kind]["text_tokens"])["count"]]
    print(markdown_table(["kind", "rows", "mean tokens", "median", "p90", "max"], rows))
    for label, info in stats["sources"].items():
        skipped = ", ".join(f"{k} {v}" for k, v in info["skipped"].items()) or "none"
        print(f"{label}: {info['rows']} rows, {info['usable']} usable, {info['candidates']} candidates "
              f"(not benchmark copies, distinct problems); skipped: {skipped}")
    if stats["sampling"]:
        print("sampling: " + ", ".join(f"{k} {v}" for k, v in stats["sampling"].items()))
    print(f"wrote {out}/data/, manifest.jsonl, stats.json, length_histogram.png, llamafactory/, skipped.jsonl, "
          f"{NEAR_MISSES}")


def main(argv: list[str] | None = None) -> None:
    synthesize(parse_config(SynthesisConfig, argv, description=__doc__))

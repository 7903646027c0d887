#!/usr/bin/env python
"""Synthesis benchmark: 1,000 Long1K rows from a 100k-row OpenThoughts-shaped source.

Prints wall seconds and peak RSS of the synthesis (run as a child process, once with an empty
`datasets` cache and once warm), the tokens it counted per second, and the raw batch-encode
throughput of the same tokenizer on this machine. Targets on 2 cores: < 60 s and < 4 GB.

    python scripts/bench_synthesis.py [--rows 100000] [--samples 1000]
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from long1k.configs import parse_config
from long1k.reporting import markdown_table


def build_source(rows: int) -> Path:
    from long1k.fixtures.writers import write_large_openthoughts
    from long1k.paths import cache_dir

    path = cache_dir() / "bench" / f"openthoughts_large_{rows}.parquet"
    if not path.is_file():
        started = time.perf_counter()
        staging = path.with_suffix(".partial")
        write_large_openthoughts(staging, rows)
        staging.rename(path)
        print(f"built {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s")
    return path


def run_synthesis(source: Path, samples: int, out: Path, datasets_cache: Path) -> tuple[float, dict]:
    from long1k.tasks.prepare import prepared_fixture_benchmarks

    env = dict(os.environ, HF_DATASETS_CACHE=str(datasets_cache), HF_HUB_OFFLINE="1")
    command = [sys.executable, "-m", "long1k", "synthesize", "--openthoughts", str(source),
               "--num_samples", str(samples), "--out", str(out),
               "--benchmarks_dir", str(prepared_fixture_benchmarks())]
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode:
        sys.exit(f"synthesis failed:\n{result.stderr[-3000:]}")
    return seconds, json.loads((out / "stats.json").read_text())


def raw_encode_throughput(source: Path, texts: int = 2000) -> float:
    import pyarrow.parquet as pq

    from long1k.tokenizer import count_tokens, load_tokenizer

    tokenizer = load_tokenizer()
    column = pq.read_table(source, columns=["deepseek_reasoning"]).column(0).slice(0, texts).to_pylist()
    count_tokens(tokenizer, column[:50])  # warm-up
    started = time.perf_counter()
    total = sum(count_tokens(tokenizer, column))
    return total / (time.perf_counter() - started)


@dataclass
class BenchSynthesisOptions:
    rows: int = field(default=100_000, metadata={"help": "rows of the generated OpenThoughts-shaped source"})
    samples: int = field(default=1000, metadata={"help": "rows to synthesize"})


def main() -> None:
    args = parse_config(BenchSynthesisOptions, description=__doc__)

    source = build_source(args.rows)
    print(f"source: {source} ({source.stat().st_size / 1e6:.0f} MB, {args.rows} rows)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "datasets_cache"
        for label in ("cold datasets cache", "warm datasets cache"):
            out = Path(tmp) / label.split()[0]
            seconds, stats = run_synthesis(source, args.samples, out, cache)
            peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
            counted = stats["sampling"].get("tokens_counted", 0)
            rows.append((label, seconds, peak_gb, counted, stats["rows"]))
    encode_rate = raw_encode_throughput(source)

    print(f"\ncores: {os.cpu_count()}")
    print(markdown_table(["run", "wall s", "peak RSS GB", "rows", "tokens counted", "tokens counted / s (whole run)"],
                         [[label, f"{seconds:.1f}", f"{peak_gb:.2f}", n, f"{counted:,}", f"{counted / seconds:,.0f}"]
                          for label, seconds, peak_gb, counted, n in rows]))
    print(f"\nraw batch encode (offline Qwen2.5 tokenizer, 2,000 traces): {encode_rate:,.0f} tokens/s")
    worst = max(r[1] for r in rows), max(r[2] for r in rows)
    print(f"targets: wall < 60 s -> {'met' if worst[0] < 60 else 'MISSED'} ({worst[0]:.1f} s); "
          f"peak RSS < 4 GB -> {'met' if worst[1] < 4 else 'MISSED'} ({worst[1]:.2f} GB)")


if __name__ == "__main__":
    main()

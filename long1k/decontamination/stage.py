"""`python data/decontaminate.py`: the synthesis' benchmark check on any dataset, with scores.

Like open-r1's decontamination script, but each (row, benchmark item) pair is scored by the share of
the item's word n-grams found in the row (long1k/decontamination/index.py): rows above the threshold are copies;
rows from --report_min up are near misses, reported with their scores so a researcher can read them.
Writes OUT/report.jsonl (every row from --report_min up: row, share, item, flagged), OUT/summary.md
and .csv (copies and near misses per benchmark) and, with --write_clean, OUT/clean.jsonl (the rows
below the threshold, as read).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from dataclasses import field as option
from pathlib import Path

from long1k.configs import parse_config
from long1k.decontamination.index import REPORT_MIN, THRESHOLD, load_benchmark_index
from long1k.errors import Long1kError
from long1k.jsonl import write_jsonl
from long1k.reporting import write_table
from long1k.sources import load_source


@dataclass
class DecontaminateConfig:
    input: str = option(default="", metadata={"help": "dataset to check: a jsonl / json / csv / parquet file or "
                                                     "folder, or a hub id"})
    field: str = option(default="problem", metadata={"help": "the column holding the text to check"})
    split: str = option(default="train", metadata={"help": "hub split of --input"})
    config_name: str | None = option(default=None, metadata={"help": "hub config of --input"})
    benchmarks_dir: str = option(default="outputs/benchmarks", metadata={
        "help": "prepared benchmark files (python -m long1k prepare-benchmarks)"})
    ngram: int = option(default=8, metadata={"help": "word n-gram size"})
    threshold: float = option(default=THRESHOLD, metadata={"help": "share of an item's n-grams that makes a copy"})
    report_min: float = option(default=REPORT_MIN, metadata={"help": "report overlaps from this share up"})
    out: str = option(default="outputs/decontamination", metadata={"help": "report folder"})
    write_clean: bool = option(default=False, metadata={"help": "also write the rows below the threshold"})


def decontaminate(config: DecontaminateConfig) -> dict:
    if not config.input:
        raise Long1kError("give the dataset to check: --input FILE_OR_HUB_ID --field COLUMN")
    if not 0 < config.threshold <= 1 or not 0 <= config.report_min <= config.threshold:
        raise Long1kError("--threshold must lie in (0, 1] and --report_min in [0, --threshold]")
    index = load_benchmark_index(config.benchmarks_dir, config.ngram, config.threshold)
    source = load_source("input", config.input, (config.field,), config.config_name, config.split)
    texts = source.strings(config.field, list(range(source.table.num_rows)))
    report, clean = [], []
    for number, text in enumerate(texts):
        found = index.overlap(text or "")
        flagged = found is not None and found.share >= config.threshold
        if found is not None and found.share >= config.report_min:
            file, row = source.locate(number)
            report.append({"file": file, "row": row, **found.as_dict(), "flagged": flagged,
                           "text": (text or "")[:300]})
        if not flagged:
            clean.append(number)
    report.sort(key=lambda r: -r["share"])
    out = Path(config.out)
    write_jsonl(out / "report.jsonl", report)
    if config.write_clean:
        write_jsonl(out / "clean.jsonl", (source.table.slice(i, 1).to_pylist()[0] for i in clean))
    summary = summarize(report, len(texts), config)
    print(summary["table"])
    print(f"{summary['flagged']} of {len(texts)} rows are copies (share >= {config.threshold}); "
          f"{summary['near_misses']} near misses; report in {out}/report.jsonl")
    return summary


def summarize(report: list[dict], rows: int, config: DecontaminateConfig) -> dict:
    flagged = Counter(r["item"].split(":")[0] for r in report if r["flagged"])
    near = Counter(r["item"].split(":")[0] for r in report if not r["flagged"])
    benchmarks = sorted(set(flagged) | set(near))
    table = write_table(Path(config.out), "summary", ["benchmark", "copies", "near misses"],
                        [[b, flagged[b], near[b]] for b in benchmarks] + [["all", sum(flagged.values()),
                                                                          sum(near.values())]])
    return {"rows": rows, "flagged": sum(flagged.values()), "near_misses": sum(near.values()),
            "flagged_items": [r["item"] for r in report if r["flagged"]], "table": table}


def main(argv: list[str] | None = None) -> None:
    decontaminate(parse_config(DecontaminateConfig, argv, description=__doc__))

"""`python eval/calc_metric_lc.py`: grade prediction files and report Table 4 style scores."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from long1k.benchmarks import REGISTRY
from long1k.cli import parse_config
from long1k.errors import Long1kError
from long1k.jsonl import write_jsonl
from long1k.scoring.metrics import benchmark_metrics, table4_cell
from long1k.scoring.pool import Task, grade_many

REQUIRED_FIELDS = ("benchmark", "id", "response", "answer")


@dataclass
class ScoreConfig:
    predictions: list[str] = field(default_factory=list, metadata={
        "help": "prediction JSONL files or folders of them (eval/predict.py output)"})
    out: str = field(default="outputs/scores", metadata={"help": "output folder"})
    grader: str = field(default="rule", metadata={"help": "rule, judge or both"})
    workers: int = field(default=2, metadata={"help": "grading processes"})
    timeout: float = field(default=10.0, metadata={"help": "seconds per item before its worker is killed"})


def prediction_files(paths: list[str]) -> list[Path]:
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(path.rglob("*.jsonl"))
        elif path.is_file():
            files.append(path)
        else:
            raise Long1kError(f"{path}: no such predictions file or folder")
    if not files:
        raise Long1kError(f"no prediction files found in {paths}")
    return files


def load_predictions(files: list[Path]) -> list[dict]:
    """Every prediction row, checked: required fields, a known benchmark, a gold answer."""
    rows = []
    for path in files:
        with path.open(encoding="utf-8") as handle:
            for line_number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as err:
                    raise Long1kError(f"{path} line {line_number}: invalid JSON ({err.msg})") from None
                missing = [f for f in REQUIRED_FIELDS if f not in row]
                if missing:
                    raise Long1kError(f"{path} line {line_number}: missing field(s) {missing}")
                if row["benchmark"] not in REGISTRY:
                    raise Long1kError(f"{path} line {line_number}: unknown benchmark {row['benchmark']!r}; "
                                      f"known: {sorted(REGISTRY)}")
                if row["answer"] in (None, ""):
                    raise Long1kError(f"{path} line {line_number}: field 'answer' (the gold answer) is empty")
                if not isinstance(row["response"], str):
                    raise Long1kError(f"{path} line {line_number}: field 'response' is not text")
                row.setdefault("model", path.parent.name)
                row.setdefault("seed", 0)
                row.setdefault("sample", 0)
                rows.append(row)
    return rows


def rule_grade(rows: list[dict], config: ScoreConfig) -> list[dict]:
    tasks = [Task(REGISTRY[r["benchmark"]].answer_kind, r["answer"], r["response"]) for r in rows]
    verdicts = grade_many(tasks, workers=config.workers, timeout=config.timeout)
    return [{**row, "extracted": v.extracted, "correct": v.correct, "grader": "rule", "reason": v.reason}
            for row, v in zip(rows, verdicts, strict=True)]


def aggregate(graded: list[dict]) -> dict[str, dict[str, dict]]:
    """results[model][benchmark] = metrics."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in graded:
        groups[(row["model"], row["benchmark"])].append(row)
    results: dict[str, dict[str, dict]] = defaultdict(dict)
    for (model, benchmark), rows in sorted(groups.items()):
        results[model][benchmark] = benchmark_metrics(rows)
    return dict(results)


def write_tables(results: dict[str, dict[str, dict]], out: Path, grader: str) -> str:
    benchmarks = [b for b in REGISTRY if any(b in per_model for per_model in results.values())]
    header = ["model", *benchmarks]
    lines = [f"| {' | '.join(header)} |", f"|{'---|' * len(header)}"]
    with (out / "results.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["model", "grader", "benchmark", "pass@1", "plus", "minus", "seeds", "samples",
                         "bootstrap95_low", "bootstrap95_high", "truncated_pct", "no_answer_pct"])
        for model, per_benchmark in results.items():
            cells = []
            for benchmark in benchmarks:
                metrics = per_benchmark.get(benchmark)
                cells.append(table4_cell(metrics) if metrics else "-")
                if metrics:
                    writer.writerow([model, grader, benchmark, f"{metrics['pass@1']:.2f}",
                                     f"{metrics['seed_max'] - metrics['pass@1']:.2f}",
                                     f"{metrics['pass@1'] - metrics['seed_min']:.2f}", len(metrics["seeds"]),
                                     metrics["samples_per_question"], f"{metrics['bootstrap95'][0]:.2f}",
                                     f"{metrics['bootstrap95'][1]:.2f}", f"{metrics['truncated_pct']:.2f}",
                                     f"{metrics['no_answer_pct']:.2f}"])
            lines.append(f"| {model} | {' | '.join(cells)} |")
    table = "\n".join(lines)
    (out / "results.md").write_text(f"pass@1 (%), mean over samples and seeds (+max/-min over seeds); "
                                    f"grader: {grader}\n\n{table}\n", encoding="utf-8")
    return table


def score(config: ScoreConfig) -> dict:
    if config.grader not in ("rule", "judge", "both"):
        raise Long1kError(f"--grader must be rule, judge or both, not {config.grader!r}")
    if config.grader != "rule":
        raise Long1kError("the judge grader needs a prediction backend: not available in this version yet")
    rows = load_predictions(prediction_files(config.predictions))
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    graded = rule_grade(rows, config)
    write_jsonl(out / "graded.jsonl", graded)
    results = aggregate(graded)
    (out / "results.json").write_text(json.dumps({"grader": config.grader, "results": results}, indent=2) + "\n")
    table = write_tables(results, out, config.grader)
    print(table)
    print(f"wrote {out}/graded.jsonl, results.md, results.csv, results.json")
    return results


def main(argv: list[str] | None = None) -> None:
    score(parse_config(ScoreConfig, argv, description=__doc__))

"""`python eval/calc_metric_lc.py`: grade prediction files and report Table 4 style scores."""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from long1k.answer_kinds import ANSWER_KINDS, get_answer_kind, is_composite
from long1k.artifacts import SCORE_RESULTS
from long1k.configs import one_of, parse_config, raise_problems
from long1k.errors import Long1kError, close_names
from long1k.formats import as_written
from long1k.grading.extract import MODES, REGIONS, ExtractionOptions, choice_pairs
from long1k.grading.grade import GRADER_ERROR
from long1k.jsonl import iter_jsonl, write_jsonl
from long1k.reporting import figure, markdown_table, write_csv, write_table
from long1k.scoring.metrics import benchmark_metrics, table4_cell
from long1k.scoring.pool import Task, grade_many
from long1k.tasks import all_tasks, benchmark_order, get_task

REQUIRED_FIELDS = ("benchmark", "id", "response", "answer")


@dataclass
class ScoreConfig:
    predictions: list[str] = field(default_factory=list, metadata={
        "help": "prediction JSONL files or folders of them (eval/predict.py output)"})
    out: str = field(default="outputs/scores", metadata={"help": "output folder"})
    grader: str = field(default="rule", metadata={"help": "rule, judge or both"})
    workers: int = field(default=2, metadata={"help": "grading processes"})
    timeout: float = field(default=10.0, metadata={"help": "seconds per item before its worker is killed"})
    extraction: str = field(default="full", metadata={
        "help": "full (boxes, answer statements, then sentence endings / last number in the last lines) or strict "
                "(boxes and explicit answer statements only)"})
    answer_region: str = field(default="after_reasoning", metadata={
        "help": "after_reasoning (the answer only after the reasoning section; none when it was cut off) or "
                "anywhere (the whole response, as lighteval / Qwen2.5-Math graders read it)"})
    judge_model: str = field(default="Qwen/Qwen2.5-32B-Instruct", metadata={"help": "judge model (as the original)"})
    judge_backend: str = field(default="vllm", metadata={"help": "vllm, hf or openai"})
    judge_tokenizer: str | None = field(default=None, metadata={"help": "judge tokenizer (default: the model's)"})
    judge_base_urls: list[str] = field(default_factory=list, metadata={"help": "openai backend: .../v1 URLs"})
    judge_tensor_parallel_size: int = field(default=2, metadata={"help": "vllm: GPUs for the judge"})
    judge_max_tokens: int = field(default=1024, metadata={"help": "judge's generation budget"})

    def validate(self) -> None:
        problems = one_of("grader", self.grader, ("rule", "judge", "both"))
        problems += one_of("extraction", self.extraction, MODES) + one_of("answer_region", self.answer_region, REGIONS)
        if not self.timeout > 0:
            problems.append(f"--timeout must be positive, not {self.timeout}")
        raise_problems(problems)


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


def kind_of_benchmark(row: dict, path: Path, line_number: int) -> str:
    """The answer kind of a row written before prediction rows carried it: its benchmark's."""
    if "answer_kind" in row:
        raise Long1kError(f"{path} line {line_number}: unknown answer_kind {row['answer_kind']!r}; "
                          f"known: {sorted(ANSWER_KINDS)}")
    return get_task(row["benchmark"]).answer_kind  # checked to be known (check_benchmark)


def check_benchmark(row: dict, path: Path, line_number: int) -> None:
    """A row's benchmark is a known one (or a composite of one), or a name of its own for rows that carry their
    answer kind (another project's predictions); a name close to a known one is a typo, not a new benchmark."""
    try:
        get_task(str(row["benchmark"]))
        return
    except Long1kError as err:
        unknown = err
    typo = close_names(str(row["benchmark"]), all_tasks(), n=1, cutoff=0.8)
    if typo or row.get("answer_kind") not in ANSWER_KINDS:
        raise Long1kError(f"{path} line {line_number}: field 'benchmark': {unknown}") from None


def check_one_configuration(prints: dict[str, str], row: dict, where: str) -> None:
    """A model's scores average one configuration: rows made with other settings (another template,
    sampling or budget, which predict records as a fingerprint) are an error, not a mixture."""
    prints.setdefault(row["settings"], where)
    if len(prints) > 1:
        (first, first_at), (other, other_at) = list(prints.items())[:2]
        raise Long1kError(f"model {row['model']!r} mixes predictions made with different settings: {first_at} "
                          f"(settings {first}) and {other_at} (settings {other}); score them apart (another "
                          "--model_name or folder per configuration)")


def load_predictions(files: list[Path]) -> list[dict]:
    """Every prediction row, checked: required fields, a known answer kind, a gold answer, no duplicates."""
    rows = []
    seen: dict[tuple, str] = {}
    configurations: dict[str, dict[str, str]] = {}  # model -> settings fingerprint -> where first seen
    for path in files:
        before = len(rows)
        for line_number, row in iter_jsonl(path):
            missing = [f for f in REQUIRED_FIELDS if f not in row]
            if missing:
                raise Long1kError(f"{path} line {line_number}: missing field(s) {missing}")
            check_benchmark(row, path, line_number)
            if row.get("answer_kind") not in ANSWER_KINDS:
                row["answer_kind"] = kind_of_benchmark(row, path, line_number)
            if row["answer"] in (None, ""):
                raise Long1kError(f"{path} line {line_number}: field 'answer' (the gold answer) is empty")
            kind = get_answer_kind(row["answer_kind"])
            if kind.gold_field != "answer":
                kind.parse_gold(row.get(kind.gold_field), str(path), line_number)
            if not isinstance(row["response"], str):
                raise Long1kError(f"{path} line {line_number}: field 'response' is not text")
            row.setdefault("model", path.parent.name)
            row.setdefault("seed", 0)
            row.setdefault("sample", 0)
            key = (row["model"], row["benchmark"], str(row["id"]), row["seed"], row["sample"])
            if key in seen:
                raise Long1kError(f"{path} line {line_number}: duplicate prediction (model, benchmark, id, seed, "
                                  f"sample) = {key}; first at {seen[key]}")
            seen[key] = f"{path} line {line_number}"
            if row.get("settings"):
                check_one_configuration(configurations.setdefault(row["model"], {}), row, seen[key])
            rows.append(row)
        if len(rows) == before:
            raise Long1kError(f"{path}: empty predictions file (no rows)")
    return rows


def extraction_options(row: dict, config: ScoreConfig) -> ExtractionOptions:
    return ExtractionOptions(config.extraction, config.answer_region, choice_pairs(row.get("choices")))


def rule_grade(rows: list[dict], config: ScoreConfig) -> list[dict]:
    tasks = [Task(r["answer_kind"], r[get_answer_kind(r["answer_kind"]).gold_field], as_written(r),
                  extraction_options(r, config), len(r.get("parts") or ()) or 1) for r in rows]
    verdicts = grade_many(tasks, workers=config.workers, timeout=config.timeout)
    return [{**row, "extracted": v.extracted, "correct": v.correct, "grader": "rule", "reason": v.reason,
             "rule": v.rule, **composite_fields(row, v)} for row, v in zip(rows, verdicts, strict=True)]


def composite_fields(row: dict, verdict) -> dict:
    """A composite row's per-question verdicts (a timed-out row: every question wrong, unanswered)."""
    if not is_composite(row):
        return {}
    parts = [asdict(p) for p in verdict.parts] or [
        {"position": p, "extracted": None, "correct": False, "answered_at": None, "correct_for": None,
         "out_of_order": False, "reason": verdict.reason} for p in range(1, len(row["parts"]) + 1)]
    return {"positions": parts}


def judge_grade(rows: list[dict], config: ScoreConfig) -> list[dict]:
    from long1k.scoring.judge import JudgeSettings, judge_all

    settings = JudgeSettings(config.judge_model, config.judge_backend, config.judge_tokenizer,
                             tuple(config.judge_base_urls), config.judge_tensor_parallel_size, config.judge_max_tokens)
    verdicts = judge_all(rows, settings) if rows else []
    # The judge says right or wrong; the rule extraction is kept beside it for maj@k and reading.
    return [{**row, "extracted": get_answer_kind(row["answer_kind"]).extract(as_written(row),
                                                                          extraction_options(row, config)).answer,
             "correct": v.correct, "grader": "judge", "reason": v.reason}
            for row, v in zip(rows, verdicts, strict=True)]


def agreement(rule: list[dict], judge: list[dict], out: Path) -> dict[str, float]:
    """Share of predictions on which both graders agree, per benchmark; disagreements dumped for reading."""
    agree: dict[str, list[bool]] = defaultdict(list)
    disagreements = []
    for r, j in zip(rule, judge, strict=True):
        same = r["correct"] == j["correct"]
        agree[r["benchmark"]].append(same)
        if not same:
            disagreements.append({"benchmark": r["benchmark"], "id": r["id"], "model": r["model"], "seed": r["seed"],
                                  "sample": r["sample"], "answer": r["answer"], "rule_extracted": r["extracted"],
                                  "rule_correct": r["correct"], "rule_reason": r["reason"],
                                  "judge_correct": j["correct"], "judge_reason": j["reason"],
                                  "response_tail": r["response"][-2000:]})
    write_jsonl(out / "disagreements.jsonl", disagreements)
    return {b: 100 * sum(v) / len(v) for b, v in sorted(agree.items())}


def rule_shares(graded: list[dict]) -> dict[str, dict[str, float]]:
    """Per benchmark, the share (%) of rows each extraction rule answered (or why none was found)."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for row in graded:
        counts[row["benchmark"]][row.get("rule") or "none"] += 1
    return {b: {rule: round(100 * n / sum(c.values()), 2) for rule, n in c.most_common()}
            for b, c in sorted(counts.items())}


def aggregate(graded: list[dict]) -> dict[str, dict[str, dict]]:
    """results[model][benchmark] = metrics."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in graded:
        groups[(row["model"], row["benchmark"])].append(row)
    results: dict[str, dict[str, dict]] = defaultdict(dict)
    for (model, benchmark), rows in sorted(groups.items()):
        results[model][benchmark] = benchmark_metrics(rows)
    return dict(results)


CSV_HEADER = ["model", "grader", "benchmark", "pass@1", "best_seed_above_mean", "worst_seed_below_mean", "questions",
              "seeds", "samples", "bootstrap95_low", "bootstrap95_high", "truncated_pct", "no_answer_pct",
              "grader_errors", "timeouts"]
TABLE_NOTE = ("pass@1 (%), mean over questions, samples and seeds; (+a/-b): how far the best and the worst seed's "
              "score lie above and below that mean (Table 4's layout; none with one seed)")


def write_tables(by_grader: dict[str, dict[str, dict[str, dict]]], out: Path) -> str:
    tables, csv_rows = [], []
    for grader, results in by_grader.items():
        tables.append(f"grader: {grader}\n\n{table_for(results, grader, csv_rows)}")
    write_csv(out / "results.csv", CSV_HEADER, csv_rows)
    text = "\n\n".join(tables)
    (out / "results.md").write_text(f"{TABLE_NOTE}\n\n{text}\n", encoding="utf-8")
    return text


def csv_row(model: str, grader: str, benchmark: str, metrics: dict) -> list:
    mean = metrics["pass@1"]
    low, high = metrics["bootstrap95"]
    return [model, grader, benchmark, f"{mean:.2f}", f"{metrics['seed_max'] - mean:.2f}",
            f"{mean - metrics['seed_min']:.2f}", metrics["questions"], len(metrics["seeds"]),
            metrics["samples_per_question"], f"{low:.2f}", f"{high:.2f}", f"{metrics['truncated_pct']:.2f}",
            f"{metrics['no_answer_pct']:.2f}", metrics["grader_errors"], metrics["timeouts"]]


MEASURED_HEADER = ["model", "benchmark", "questions", "samples per question", "seeds", "truncated", "no answer",
                   "grader errors", "timeouts"]


def measured_table(results: dict[str, dict[str, dict]]) -> str:
    """What each score measured: how many questions, samples and seeds, and the rows that were cut off, gave no
    answer, or could not be graded."""
    lines = [[model, benchmark, m["questions"], m["samples_per_question"], " ".join(map(str, m["seeds"])),
              f"{m['truncated_pct']:.1f}%", f"{m['no_answer_pct']:.1f}%", m["grader_errors"], m["timeouts"]]
             for model, per_benchmark in results.items() for benchmark in benchmark_order(per_benchmark)
             if (m := per_benchmark[benchmark])]
    return markdown_table(MEASURED_HEADER, lines)


def column_name(benchmark: str, results: dict[str, dict[str, dict]]) -> str:
    """A composite benchmark's column names its prompts' mean length (the context it tests)."""
    tokens = [m["prompt_tokens_mean"] for per_model in results.values() if (m := per_model.get(benchmark))
              and "composite" in m and m.get("prompt_tokens_mean") is not None]
    return f"{benchmark} ({statistics.fmean(tokens):,.0f}-token prompts)" if tokens else benchmark


def table_for(results: dict[str, dict[str, dict]], grader: str, csv_rows: list) -> str:
    benchmarks = benchmark_order({b for per_model in results.values() for b in per_model})
    lines = []
    for model, per_benchmark in results.items():
        cells = []
        for benchmark in benchmarks:
            metrics = per_benchmark.get(benchmark)
            cells.append(table4_cell(metrics) if metrics else "-")
            if metrics:
                csv_rows.append(csv_row(model, grader, benchmark, metrics))
        lines.append([model, *cells])
    scores = markdown_table(["model", *(column_name(b, results) for b in benchmarks)], lines)
    return f"{scores}\n\nwhat was measured:\n\n{measured_table(results)}"


COMPOSITE_HEADER = ["model", "benchmark", "questions per prompt", "prompt tokens", "base pass@1", "questions correct",
                    "per position", "all correct", "answered (of K)", "all answered", "order errors per row",
                    "located by"]


def composite_table(results: dict[str, dict[str, dict]], out: Path) -> str | None:
    """Composite benchmarks: each question's accuracy by its place in the prompt, beside the base
    benchmark's own pass@1 (the same problems, one per prompt); writes composite.md / .csv / .png."""
    lines, points, bases = [], {}, {}
    for model, per_benchmark in results.items():
        for benchmark in benchmark_order(per_benchmark):
            metrics = per_benchmark[benchmark]
            if "composite" not in metrics:
                continue
            c = metrics["composite"]
            base = per_benchmark.get(get_task(benchmark).composite_of or "", {}).get("pass@1")
            tokens = metrics.get("prompt_tokens_mean")
            lines.append([model, benchmark, c["parts"], "-" if tokens is None else f"{tokens:.0f}",
                          "-" if base is None else f"{base:.1f}", f"{c['questions_pct']:.1f}",
                          " / ".join(f"{p:.0f}" for p in c["position_pct"]), f"{c['all_correct_pct']:.1f}",
                          f"{c['answered_mean']:.2f}", f"{c['all_answered_pct']:.1f}", f"{c['order_errors_mean']:.2f}",
                          ", ".join(f"{how} {pct:.0f}%" for how, pct in c["located_by_pct"].items())])
            points[(model, benchmark)] = c["position_pct"]
            bases[(model, benchmark)] = base
    if not lines:
        return None
    table = write_table(out, "composite", COMPOSITE_HEADER, lines)
    plot_positions(points, bases, out / "composite_positions.png")
    return table


def plot_positions(points: dict[tuple[str, str], list[float]], bases: dict[tuple[str, str], float | None],
                   path: Path) -> None:
    """One panel per base benchmark: accuracy by position, a line per model and K, the base score dashed."""
    panels = list(dict.fromkeys(get_task(b).composite_of for _, b in points))
    with figure(path, ncols=len(panels), figsize=(4.6 * len(panels), 3.8), squeeze=False) as (_, axes):
        for ax, base in zip(axes[0], panels, strict=True):
            for (model, benchmark), accuracy in points.items():
                if get_task(benchmark).composite_of != base:
                    continue
                line = ax.plot(range(1, len(accuracy) + 1), accuracy, marker="o", label=f"{model}: x{len(accuracy)}")
                if bases[(model, benchmark)] is not None:
                    ax.axhline(bases[(model, benchmark)], color=line[0].get_color(), linestyle="--", linewidth=0.8)
            ax.set_xticks(range(1, 1 + max(len(a) for a in points.values())))
            ax.set_ylim(-2, 102)
            ax.set_xlabel("position of the question in the prompt")
            ax.set_ylabel("accuracy (%)")
            ax.set_title(f"{base} (dashed: one question per prompt)", fontsize=9)
            ax.legend(fontsize=7)


def score(config: ScoreConfig) -> dict[str, dict]:
    """Grade, aggregate and write; returns results[grader][model][benchmark] = metrics."""
    config.validate()
    rows = load_predictions(prediction_files(config.predictions))
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    graded = {}
    composite = [row for row in rows if is_composite(row)]
    if composite and config.grader != "rule":
        print(f"note: {len(composite)} composite rows (several questions per prompt) are graded by rule only")
    if config.grader in ("rule", "both"):
        graded["rule"] = rule_grade(rows, config)
    elif composite:
        graded["rule"] = rule_grade(composite, config)
    if config.grader in ("judge", "both"):
        graded["judge"] = judge_grade([row for row in rows if not is_composite(row)], config)
    write_jsonl(out / "graded.jsonl", [row for rows_of_grader in graded.values() for row in rows_of_grader])
    results = {grader: aggregate(rows_of_grader) for grader, rows_of_grader in graded.items()}
    record = {"grader": config.grader, "extraction": config.extraction, "answer_region": config.answer_region,
              "results": results}
    if "rule" in graded:
        record["extraction_rules_pct"] = rule_shares(graded["rule"])
    if config.grader == "both":
        record["agreement_pct"] = agreement([r for r in graded["rule"] if not is_composite(r)], graded["judge"], out)
    (out / SCORE_RESULTS).write_text(json.dumps(record, indent=2) + "\n")
    print(write_tables(results, out))
    for grader, per_grader in results.items():
        if table := composite_table(per_grader, out):
            print(f"composite benchmarks ({grader} grader):\n{table}")
    if "agreement_pct" in record:
        print("rule/judge agreement (%): " + ", ".join(f"{b} {v:.1f}" for b, v in record["agreement_pct"].items())
              + f" (disagreements in {out}/disagreements.jsonl)")
    for benchmark, shares in record.get("extraction_rules_pct", {}).items():
        print(f"extraction rules, {benchmark}: " + ", ".join(f"{rule} {pct:.1f}%" for rule, pct in shares.items()))
    for line in grader_error_lines(results, out):
        print(line)
    print(f"wrote {out}/graded.jsonl, results.md, results.csv, results.json")
    return results


def grader_error_lines(results: dict[str, dict[str, dict]], out: Path) -> list[str]:
    """One line per score that holds answers the grader could not grade (counted wrong, not 'differs')."""
    return [f"warning: {m['grader_errors']} answer(s) of {model} on {benchmark} could not be graded ({grader} grader: "
            f"the grader raised; counted wrong): rows with rule '{GRADER_ERROR}' in {out}/graded.jsonl"
            for grader, per_grader in results.items() for model, per_benchmark in per_grader.items()
            for benchmark, m in per_benchmark.items() if m.get("grader_errors")]


def main(argv: list[str] | None = None) -> None:
    score(parse_config(ScoreConfig, argv, description=__doc__))

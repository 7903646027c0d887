"""Trace analysis (the paper's Table 5): response length and word use of correct vs wrong answers,
and the structure of the traces (long1k/experiments/trace_structure.py): loops, answers that
contradict the reasoning, self-verification, question restatement.

Words are lowercase letter runs; the top-10 list keeps function words (the paper's list is "so, and,
let, wait, but, therefore, ..."), each with its share of all words of that group. Reflection words
are counted per 1,000 words.
"""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from long1k.answer_kinds import is_composite
from long1k.configs import parse_config
from long1k.errors import Long1kError
from long1k.experiments.trace_structure import StructureOptions, trace_structure
from long1k.jsonl import iter_jsonl, write_jsonl
from long1k.reporting import figure, markdown_table, write_table

REFLECTION_WORDS = ("wait", "but", "hmm", "alternatively", "however", "maybe", "actually", "check", "verify",
                    "mistake")
_WORD = re.compile(r"[a-z]+")


def read_graded(paths: list[Path], grader: str) -> list[dict]:
    rows = []
    for path in paths:
        files = sorted(path.rglob("graded.jsonl")) if path.is_dir() else [path]
        if not files:
            raise Long1kError(f"{path}: no graded.jsonl (the --out of eval/calc_metric_lc.py)")
        for file in files:
            for line, row in iter_jsonl(file):
                missing = [k for k in ("model", "benchmark", "correct", "response") if k not in row]
                if missing:
                    raise Long1kError(f"{file} line {line}: missing field(s) {missing}")
                if row.get("grader", grader) == grader:
                    rows.append(row)
    if not rows:
        raise Long1kError(f"no graded rows of grader {grader!r} in {[str(p) for p in paths]}")
    return rows


def group_stats(rows: list[dict]) -> dict:
    words = Counter()
    for row in rows:
        words.update(_WORD.findall(row["response"].lower()))
    total = sum(words.values()) or 1
    tokens = [r["response_tokens"] for r in rows if r.get("response_tokens") is not None]
    return {
        "answers": len(rows),
        "tokens_mean": statistics.fmean(tokens) if tokens else None,
        "tokens_median": statistics.median(tokens) if tokens else None,
        "words": total,
        "top10": [(word, 100 * count / total) for word, count in words.most_common(10)],
        "reflection_per_1k": {w: 1000 * words[w] / total for w in REFLECTION_WORDS},
    }


def _grouped(rows: list[dict]) -> dict[str, dict[str, list[dict]]]:
    grouped: dict[str, dict[str, list[dict]]] = defaultdict(lambda: {"correct": [], "wrong": []})
    for row in rows:
        grouped[row["model"]]["correct" if row["correct"] else "wrong"].append(row)
    return grouped


def analyze(rows: list[dict]) -> dict[str, dict[str, dict]]:
    """analysis[model]["correct" | "wrong"] = group statistics."""
    return {model: {kind: group_stats(group) for kind, group in groups.items()}
            for model, groups in _grouped(rows).items()}


def _pct(flags: list[bool]) -> float | None:
    return 100 * statistics.fmean(flags) if flags else None


def structure_stats(measured: list[dict]) -> dict:
    """Structure metrics of one group of responses (trace_structure's per-row dicts)."""
    judged = [m["conclusion"] for m in measured if m["conclusion"] in ("agrees", "contradicts")]
    coverage = [m["question_coverage"] for m in measured if m["question_coverage"] is not None]
    return {
        "answers": len(measured),
        "repeated_share_pct": 100 * statistics.fmean(m["repeated_share"] for m in measured) if measured else None,
        "longest_repeat_median": statistics.median(m["longest_repeat"] for m in measured) if measured else None,
        "loops_at_end_pct": _pct([m["loops_at_end"] for m in measured]),
        "truncated_pct": _pct([m["truncated"] for m in measured]),
        "loop_truncated_pct": _pct([m["loop_truncated"] for m in measured]),
        "conclusions": dict(Counter(m["conclusion"] for m in measured).most_common()),
        "contradicts_pct": _pct([c == "contradicts" for c in judged]),
        "verification_episodes_mean": statistics.fmean(m["verification_episodes"] for m in measured)
        if measured else None,
        "verification_per_1k": statistics.fmean(m["verification_per_1k"] for m in measured) if measured else None,
        "question_coverage_pct": 100 * statistics.fmean(coverage) if coverage else None,
        "restates_question_pct": _pct([m["restates_question"] for m in measured]),
    }


def measure_structure(rows: list[dict], options: StructureOptions) -> list[dict]:
    from tqdm import tqdm

    return [{"model": row["model"], "benchmark": row["benchmark"], "id": row.get("id"), "sample": row.get("sample"),
             "seed": row.get("seed"), "correct": bool(row["correct"]), **trace_structure(row, options)}
            for row in tqdm(rows, desc="trace structure", unit="response")]


def analyze_structure(measured: list[dict]) -> dict[str, dict[str, dict]]:
    """structure[model]["correct" | "wrong"] = structure statistics."""
    return {model: {kind: structure_stats(group) for kind, group in groups.items()}
            for model, groups in _grouped(measured).items()}


def _fmt(value) -> str:
    return "-" if value is None else f"{value:,.0f}"


def markdown(analysis: dict[str, dict[str, dict]]) -> str:
    lengths = []
    for model, groups in analysis.items():
        for kind, stats in groups.items():
            top = ", ".join(f"{w} {s:.1f}" for w, s in stats["top10"])
            lengths.append([model, kind, stats["answers"], _fmt(stats["tokens_mean"]), _fmt(stats["tokens_median"]),
                            top])
    rates = [[model, kind, *(f"{stats['reflection_per_1k'][w]:.1f}" for w in REFLECTION_WORDS)]
             for model, groups in analysis.items() for kind, stats in groups.items()]
    return (markdown_table(["model", "answers", "n", "mean tokens", "median tokens", "top-10 words (share %)"],
                           lengths)
            + "\n\n" + markdown_table(["model", "answers", *REFLECTION_WORDS], rates))


STRUCTURE_COLUMNS = [
    ("repeated n-grams %", "repeated_share_pct", "{:.1f}"), ("longest repeat (words, median)", "longest_repeat_median",
                                                            "{:.0f}"),
    ("loops at end %", "loops_at_end_pct", "{:.1f}"), ("truncated %", "truncated_pct", "{:.1f}"),
    ("truncated in a loop %", "loop_truncated_pct", "{:.1f}"),
    ("answer contradicts reasoning %", "contradicts_pct", "{:.1f}"),
    ("self-checks per answer", "verification_episodes_mean", "{:.2f}"),
    ("self-checks per 1k words", "verification_per_1k", "{:.2f}"),
    ("restates question %", "restates_question_pct", "{:.1f}"),
]


def structure_table(structure: dict[str, dict[str, dict]]) -> tuple[list[str], list[list]]:
    header = ["model", "answers", "n", *(name for name, _, _ in STRUCTURE_COLUMNS), "conclusions"]
    rows = []
    for model, groups in structure.items():
        for kind, stats in groups.items():
            cells = ["-" if stats[key] is None else fmt.format(stats[key]) for _, key, fmt in STRUCTURE_COLUMNS]
            rows.append([model, kind, stats["answers"], *cells,
                         ", ".join(f"{c} {n}" for c, n in stats["conclusions"].items())])
    return header, rows


PLOTTED = (("loops at end", "loops_at_end_pct"), ("truncated in loop", "loop_truncated_pct"),
           ("contradicts", "contradicts_pct"), ("restates question", "restates_question_pct"))


def plot_correct_vs_wrong(groups: dict[str, dict[str, dict]], labels: list[str], values, path: Path, ylabel: str,
                          title: str) -> None:
    """One panel per model: a bar pair (correct, wrong) per label; `values(stats)` gives a group's bars."""
    import numpy as np

    models = list(groups)
    x = np.arange(len(labels))
    with figure(path, ncols=len(models), figsize=(6 * len(models), 3.8), squeeze=False) as (_, axes):
        for ax, model in zip(axes[0], models, strict=True):
            for offset, (kind, colour) in zip((-0.2, 0.2), (("correct", "#2ca02c"), ("wrong", "#d62728")),
                                              strict=True):
                ax.bar(x + offset, values(groups[model][kind]), width=0.4, color=colour,
                       label=f"{kind} ({groups[model][kind]['answers']})")
            ax.set_xticks(x, labels, rotation=30, ha="right")
            ax.set_ylabel(ylabel)
            ax.set_title(f"{model}: {title}")
            ax.legend()


def plot_structure(structure: dict[str, dict[str, dict]], path: Path) -> None:
    plot_correct_vs_wrong(structure, [name for name, _ in PLOTTED],
                          lambda stats: [stats[key] or 0 for _, key in PLOTTED], path, "% of answers",
                          "trace structure")


def plot(analysis: dict[str, dict[str, dict]], path: Path) -> None:
    plot_correct_vs_wrong(analysis, list(REFLECTION_WORDS),
                          lambda stats: [stats["reflection_per_1k"][w] for w in REFLECTION_WORDS], path,
                          "per 1,000 words", "reflection words")


@dataclass
class GradedInputs:
    """The graded predictions an analysis reads (what the score stage writes)."""

    graded: list[str] = field(default_factory=list, metadata={
        "help": "graded.jsonl files or folders holding them (the --out of the score stage)"})
    grader: str = field(default="rule", metadata={"help": "which grader's verdicts"})

    def graded_rows(self) -> list[dict]:
        """The graded rows of single-question benchmarks: a composite row (several questions in one
        prompt) is right only when all are, another kind of right and wrong, so it is left out."""
        if not self.graded:
            raise Long1kError("--graded is required (graded.jsonl files or folders)")
        rows = read_graded([Path(p) for p in self.graded], self.grader)
        single = [row for row in rows if not is_composite(row)]
        if len(single) < len(rows):
            print(f"note: {len(rows) - len(single)} rows of composite benchmarks left out (see the score stage's "
                  "composite table)")
        if not single:
            raise Long1kError("only composite benchmarks in the graded rows: nothing to analyse per answer")
        return single


@dataclass
class TraceConfig(GradedInputs):
    out: str = field(default="outputs/traces", metadata={"help": "output folder"})
    ngram: int = field(default=8, metadata={"help": "word n-gram of the repetition measures"})
    tail_words: int = field(default=400, metadata={"help": "the end of the reasoning checked for a loop, in words"})
    loop_share: float = field(default=0.6, metadata={
        "help": "share of the end's n-grams seen before that makes it a loop"})
    restate_share: float = field(default=0.3, metadata={
        "help": "share of the problem's word 5-grams in the reasoning that counts as restating it"})

    def structure_options(self) -> StructureOptions:
        if self.ngram < 1 or self.tail_words < 1 or not 0 < self.loop_share <= 1 or not 0 < self.restate_share <= 1:
            raise Long1kError("--ngram and --tail_words must be positive, --loop_share and --restate_share in (0, 1]")
        return StructureOptions(self.ngram, self.tail_words, self.loop_share, restate_share=self.restate_share)


def main(argv: list[str] | None = None) -> None:
    """Per model, correct vs wrong answers: lengths, top-10 words, reflection words per 1,000 words, and
    trace structure (loops, contradictions, self-checks, question restatement); writes traces.md,
    traces.json, structure.md/.csv, trace_structure.jsonl (per answer), reflection_words.png and
    structure.png."""
    config = parse_config(TraceConfig, argv, description=main.__doc__)
    options = config.structure_options()
    rows = config.graded_rows()
    analysis = analyze(rows)
    measured = measure_structure(rows, options)
    structure = analyze_structure(measured)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    header, lines = structure_table(structure)
    structure_md = write_table(out, "structure", header, lines)
    table = markdown(analysis) + "\n\nTrace structure\n\n" + structure_md
    (out / "traces.md").write_text(table + "\n")
    (out / "traces.json").write_text(json.dumps({"words": analysis, "structure": structure,
                                                 "structure_options": asdict(options)}, indent=2) + "\n")
    write_jsonl(out / "trace_structure.jsonl", measured)
    plot(analysis, out / "reflection_words.png")
    plot_structure(structure, out / "structure.png")
    print(table)
    print(f"wrote {out}/traces.md, traces.json, structure.md/.csv, trace_structure.jsonl, reflection_words.png, "
          "structure.png")

"""Trace analysis (the paper's Table 5): response length and word use of correct vs wrong answers.

Words are lowercase letter runs; the top-10 list keeps function words (the paper's list is "so, and,
let, wait, but, therefore, ..."), each with its share of all words of that group. Reflection words
are counted per 1,000 words.
"""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from long1k.configs import parse_config
from long1k.errors import Long1kError
from long1k.jsonl import iter_jsonl
from long1k.reporting import figure, markdown_table

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


def analyze(rows: list[dict]) -> dict[str, dict[str, dict]]:
    """analysis[model]["correct" | "wrong"] = group statistics."""
    grouped: dict[str, dict[str, list[dict]]] = defaultdict(lambda: {"correct": [], "wrong": []})
    for row in rows:
        grouped[row["model"]]["correct" if row["correct"] else "wrong"].append(row)
    return {model: {kind: group_stats(group) for kind, group in groups.items()} for model, groups in grouped.items()}


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


def plot(analysis: dict[str, dict[str, dict]], path: Path) -> None:
    import numpy as np

    models = list(analysis)
    x = np.arange(len(REFLECTION_WORDS))
    with figure(path, ncols=len(models), figsize=(6 * len(models), 3.8), squeeze=False) as (_, axes):
        for ax, model in zip(axes[0], models, strict=True):
            for offset, (kind, colour) in zip((-0.2, 0.2), (("correct", "#2ca02c"), ("wrong", "#d62728")),
                                              strict=True):
                rates = [analysis[model][kind]["reflection_per_1k"][w] for w in REFLECTION_WORDS]
                ax.bar(x + offset, rates, width=0.4, color=colour,
                       label=f"{kind} ({analysis[model][kind]['answers']})")
            ax.set_xticks(x, REFLECTION_WORDS, rotation=45, ha="right")
            ax.set_ylabel("per 1,000 words")
            ax.set_title(f"{model}: reflection words")
            ax.legend()


@dataclass
class GradedInputs:
    """The graded predictions an analysis reads (what the score stage writes)."""

    graded: list[str] = field(default_factory=list, metadata={
        "help": "graded.jsonl files or folders holding them (the --out of the score stage)"})
    grader: str = field(default="rule", metadata={"help": "which grader's verdicts"})

    def graded_rows(self) -> list[dict]:
        if not self.graded:
            raise Long1kError("--graded is required (graded.jsonl files or folders)")
        return read_graded([Path(p) for p in self.graded], self.grader)


@dataclass
class TraceConfig(GradedInputs):
    out: str = field(default="outputs/traces", metadata={"help": "output folder"})


def main(argv: list[str] | None = None) -> None:
    """Per model, correct vs wrong answers: lengths, top-10 words, reflection words per 1,000 words;
    writes traces.md, traces.json and reflection_words.png."""
    config = parse_config(TraceConfig, argv, description=main.__doc__)
    analysis = analyze(config.graded_rows())
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    table = markdown(analysis)
    (out / "traces.md").write_text(table + "\n")
    (out / "traces.json").write_text(json.dumps(analysis, indent=2) + "\n")
    plot(analysis, out / "reflection_words.png")
    print(table)
    print(f"wrote {out}/traces.md, traces.json, reflection_words.png")

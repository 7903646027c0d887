"""Trace analysis (the paper's Table 5): response length and word use of correct vs wrong answers.

Words are lowercase letter runs; the top-10 list keeps function words (the paper's list is "so, and,
let, wait, but, therefore, ..."), each with its share of all words of that group. Reflection words
are counted per 1,000 words.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from pathlib import Path

from long1k.errors import Long1kError
from long1k.jsonl import iter_jsonl

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
    lines = ["| model | answers | n | mean tokens | median tokens | top-10 words (share %) |",
             "|---|---|---|---|---|---|"]
    for model, groups in analysis.items():
        for kind, stats in groups.items():
            top = ", ".join(f"{w} {s:.1f}" for w, s in stats["top10"])
            lines.append(f"| {model} | {kind} | {stats['answers']} | {_fmt(stats['tokens_mean'])} | "
                         f"{_fmt(stats['tokens_median'])} | {top} |")
    lines += ["", "| model | answers | " + " | ".join(REFLECTION_WORDS) + " |",
              "|---|---|" + "---|" * len(REFLECTION_WORDS)]
    for model, groups in analysis.items():
        for kind, stats in groups.items():
            rates = " | ".join(f"{stats['reflection_per_1k'][w]:.1f}" for w in REFLECTION_WORDS)
            lines.append(f"| {model} | {kind} | {rates} |")
    return "\n".join(lines)


def plot(analysis: dict[str, dict[str, dict]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    models = list(analysis)
    fig, axes = plt.subplots(1, len(models), figsize=(6 * len(models), 3.8), dpi=110, squeeze=False)
    x = np.arange(len(REFLECTION_WORDS))
    for ax, model in zip(axes[0], models, strict=True):
        for offset, (kind, colour) in zip((-0.2, 0.2), (("correct", "#2ca02c"), ("wrong", "#d62728")), strict=True):
            rates = [analysis[model][kind]["reflection_per_1k"][w] for w in REFLECTION_WORDS]
            ax.bar(x + offset, rates, width=0.4, color=colour, label=f"{kind} ({analysis[model][kind]['answers']})")
        ax.set_xticks(x, REFLECTION_WORDS, rotation=45, ha="right")
        ax.set_ylabel("per 1,000 words")
        ax.set_title(f"{model}: reflection words")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)

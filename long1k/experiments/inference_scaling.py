"""Inference scaling: accuracy against mean inference tokens, one line per way of spending tokens.

The paper's claim: training on longer reasoning scales better than inference-only strategies. The
points come from the score stage's results.json files: each (model, benchmark) gives its pass@1 and
the mean response tokens of its predictions. Models named `NAME@budgetN` (budget forcing at N thinking
tokens, as the sweep's `thinking_budgets` names them) form the line `NAME (budget forcing)`; the other
models form the line `trained (no budget forcing)` (models trained on longer data, each at its own
natural length), unless `--line LABEL=PATTERN` groups them otherwise. Each line is fitted per
benchmark as accuracy = a + b log10(tokens): b, points per tenfold inference tokens, makes "more
efficient scaling" a number. Writes inference_scaling.md / .csv / .json and inference_scaling.png.
"""

from __future__ import annotations

import fnmatch
import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from long1k.artifacts import BUDGET_MARK, SCORE_RESULTS, read_json
from long1k.configs import parse_config
from long1k.errors import Long1kError
from long1k.experiments.scaling import Fit, fit_log_linear
from long1k.reporting import figure, log_x_axis, write_table

TRAINED_LINE = "trained (no budget forcing)"


@dataclass(frozen=True)
class Point:
    line: str
    model: str
    benchmark: str
    tokens: float
    accuracy: float


def results_files(paths: list[str]) -> list[Path]:
    files = []
    for path in map(Path, paths):
        found = [path] if path.is_file() else sorted(path.rglob(SCORE_RESULTS)) if path.is_dir() else []
        if not found:
            raise Long1kError(f"{path}: no {SCORE_RESULTS} (the score stage's output) there")
        files += found
    return files


def line_of(model: str, lines: list[tuple[str, str]]) -> str:
    for label, pattern in lines:
        if fnmatch.fnmatch(model, pattern):
            return label
    if BUDGET_MARK in model:
        return f"{model.split(BUDGET_MARK)[0]} (budget forcing)"
    return TRAINED_LINE


def read_points(files: list[Path], grader: str, lines: list[tuple[str, str]]) -> list[Point]:
    points = []
    for path in files:
        results = read_json(path).get("results", {})
        if grader not in results:
            raise Long1kError(f"{path}: no results of grader {grader!r}")
        for model, per_benchmark in results[grader].items():
            for benchmark, metrics in per_benchmark.items():
                tokens = metrics.get("tokens_mean")
                if tokens is None:
                    raise Long1kError(f"{path}: {model} / {benchmark} has no tokens_mean (scored by an older long1k: "
                                      "score the predictions again)")
                points.append(Point(line_of(model, lines), model, benchmark, float(tokens), float(metrics["pass@1"])))
    return points


def fit_lines(points: list[Point]) -> list[tuple[str, Fit]]:
    """(line, fit) per line and benchmark with at least two different token counts."""
    grouped: dict[tuple[str, str], list[Point]] = defaultdict(list)
    for point in points:
        grouped[(point.line, point.benchmark)].append(point)
    fits = []
    for (line, benchmark), group in sorted(grouped.items()):
        if len({p.tokens for p in group}) >= 2 and all(p.tokens > 0 for p in group):
            fits.append((line, fit_log_linear(benchmark, [p.tokens for p in group], [p.accuracy for p in group])))
        else:
            print(f"warning: {line} / {benchmark}: fewer than two token counts, drawn but not fitted")
    return fits


def plot(points: list[Point], fits: list[tuple[str, Fit]], path: Path) -> None:
    import numpy as np

    benchmarks = sorted({p.benchmark for p in points})
    lines = sorted({p.line for p in points})
    colours = {line: f"C{i}" for i, line in enumerate(lines)}
    with figure(path, ncols=len(benchmarks), figsize=(4.6 * len(benchmarks), 3.8), squeeze=False) as (_, axes):
        for ax, benchmark in zip(axes[0], benchmarks, strict=True):
            for line in lines:
                chosen = sorted((p.tokens, p.accuracy) for p in points if p.line == line and p.benchmark == benchmark)
                if chosen:
                    ax.plot(*zip(*chosen, strict=True), "o", color=colours[line], label=line)
            for line, fit in fits:
                if fit.benchmark == benchmark:
                    xs = np.geomspace(min(fit.lengths) * 0.9, max(fit.lengths) * 1.1, 30)
                    ax.plot(xs, [fit.predict(x) for x in xs], "-", color=colours[line],
                            label=f"{line}: {fit.b:+.1f} per 10x")
            log_x_axis(ax)
            ax.set_title(benchmark)
            ax.set_xlabel("mean inference tokens per answer")
            ax.set_ylabel("accuracy (%)")
            ax.grid(alpha=0.3, which="both")
            ax.legend(fontsize=7)


@dataclass
class InferenceScalingConfig:
    scores: list[str] = field(default_factory=list, metadata={
        "help": "results.json files of the score stage, or folders holding them (searched recursively)"})
    grader: str = field(default="rule", metadata={"help": "whose scores"})
    line: list[str] = field(default_factory=list, metadata={
        "help": "LABEL=PATTERN: models matching the glob PATTERN form the line LABEL (before the defaults)"})
    out: str = field(default="outputs/inference_scaling", metadata={"help": "output folder"})


def inference_scaling(config: InferenceScalingConfig) -> list[tuple[str, Fit]]:
    lines = []
    for spec in config.line:
        label, sep, pattern = spec.partition("=")
        if not sep or not label or not pattern:
            raise Long1kError(f"--line expects LABEL=PATTERN, got {spec!r}")
        lines.append((label, pattern))
    points = read_points(results_files(config.scores), config.grader, lines)
    if not points:
        raise Long1kError(f"no scores found in {config.scores}")
    fits = fit_lines(points)
    out = Path(config.out)
    header = ["line", "benchmark", "points", "slope per 10x tokens", "95% CI", "R^2"]
    rows = [[line, f.benchmark, f.n, f"{f.b:+.2f}",
             f"[{f.b_low:+.2f}, {f.b_high:+.2f}]" if f.b_low is not None else "n/a (2 points)",
             f"{f.r2:.3f}" if f.r2 is not None else "n/a"] for line, f in fits]
    table = write_table(out, "inference_scaling", header, rows,
                        csv_rows=[[line, f.benchmark, f.n, f.a, f.b, f.b_low, f.b_high, f.r2] for line, f in fits],
                        csv_header=["line", "benchmark", "points", "a", "b", "b_low", "b_high", "r2"])
    (out / "inference_scaling.json").write_text(json.dumps({
        "points": [asdict(p) for p in points], "fits": [{"line": line, **asdict(f)} for line, f in fits]},
        indent=2) + "\n")
    plot(points, fits, out / "inference_scaling.png")
    print(table)
    print(f"wrote {out}/inference_scaling.md, .csv, .json, inference_scaling.png")
    return fits


def main(argv: list[str] | None = None) -> None:
    inference_scaling(parse_config(InferenceScalingConfig, argv, description=__doc__))

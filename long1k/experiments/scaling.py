"""The scaling law: accuracy = a + b * log10(length) per benchmark, fitted by least squares.

Reported per benchmark: a, b (points per tenfold length), R^2, a 95% confidence interval on b from
the t distribution with n - 2 degrees of freedom, and the points. The figure has one panel per
benchmark, points and fitted line on a log-length axis, as in the paper.
"""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from long1k.artifacts import BUDGET_MARK, DATASET_STATS, SCORE_RESULTS, read_json, score_results
from long1k.configs import parse_config
from long1k.errors import Long1kError
from long1k.reporting import figure, log_x_axis, markdown_table, write_table


@dataclass
class Fit:
    benchmark: str
    n: int
    a: float
    b: float
    r2: float | None  # None when every accuracy is the same (R^2 undefined)
    b_low: float | None
    b_high: float | None
    lengths: list[float]
    accuracies: list[float]

    def predict(self, length: float) -> float:
        return self.a + self.b * math.log10(length)


def fit_log_linear(benchmark: str, lengths: list[float], accuracies: list[float]) -> Fit:
    """accuracy = a + b log10(length) by least squares (scipy), with the slope's 95% interval from Student's t
    at n - 2 degrees of freedom (none with two points)."""
    from scipy import stats

    if len(lengths) < 2 or len(set(lengths)) < 2:
        raise Long1kError(f"{benchmark}: a fit needs at least two different lengths, got {sorted(set(lengths))}")
    xs = [math.log10(x) for x in lengths]
    n = len(xs)
    line = stats.linregress(xs, accuracies)
    r2 = None if len(set(accuracies)) < 2 else float(line.rvalue) ** 2
    low = high = None
    if n > 2:
        half = float(stats.t.ppf(0.975, n - 2)) * float(line.stderr)
        low, high = float(line.slope) - half, float(line.slope) + half
    return Fit(benchmark, n, float(line.intercept), float(line.slope), r2, low, high, list(lengths), list(accuracies))


def read_points_csv(path: Path) -> list[tuple[float, str, float]]:
    """(length, benchmark, accuracy) rows of a CSV with those columns."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = {"length", "benchmark", "accuracy"} - set(reader.fieldnames or [])
            if missing:
                raise Long1kError(f"{path}: missing column(s) {sorted(missing)}")
            points = []
            for line, row in enumerate(reader, start=2):
                try:
                    points.append((float(row["length"]), row["benchmark"], float(row["accuracy"])))
                except ValueError:
                    raise Long1kError(f"{path} line {line}: length and accuracy must be numbers") from None
            return points
    except FileNotFoundError:
        raise Long1kError(f"{path}: no such file") from None


def points_from_runs(run_dirs: list[Path], grader: str = "rule") -> list[tuple[float, str, float]]:
    """Points from sweep runs: RUN/data/stats.json (training-set lengths) + RUN/scores/results.json."""
    points = []
    for run in run_dirs:
        stats_path, results_path = run / "data" / DATASET_STATS, run / "scores" / SCORE_RESULTS
        for path in (stats_path, results_path):
            if not path.is_file():
                raise Long1kError(f"{run}: missing {path.relative_to(run)} (a sweep run folder holds both)")
        length = read_json(stats_path)["tokens"]["all"]["response_tokens"]["mean"]
        results = score_results(run / "scores")
        if grader not in results:
            raise Long1kError(f"{results_path}: no results of grader {grader!r}")
        for model, per_benchmark in results[grader].items():
            if BUDGET_MARK in model:  # the run's model pushed to think longer: an inference-scaling point
                continue
            for benchmark, metrics in per_benchmark.items():
                points.append((float(length), benchmark, float(metrics["pass@1"])))
    return points


def fit_all(points: list[tuple[float, str, float]]) -> list[Fit]:
    grouped: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for length, benchmark, accuracy in points:
        if length <= 0:
            raise Long1kError(f"{benchmark}: length must be positive, got {length}")
        grouped[benchmark][0].append(length)
        grouped[benchmark][1].append(accuracy)
    return [fit_log_linear(b, xs, ys) for b, (xs, ys) in sorted(grouped.items())]


@dataclass
class LevelSummary:
    """The runs at one training length (seeds or repeats) on one benchmark: their mean and spread."""

    benchmark: str
    length: float
    runs: int
    mean: float
    std: float  # sample standard deviation over the runs (0 for one run)
    low: float
    high: float


def summarize_levels(points: list[tuple[float, str, float]]) -> list[LevelSummary]:
    import statistics

    grouped: dict[tuple[str, float], list[float]] = defaultdict(list)
    for length, benchmark, accuracy in points:
        grouped[(benchmark, length)].append(accuracy)
    return [LevelSummary(benchmark, length, len(values), statistics.fmean(values),
                         statistics.stdev(values) if len(values) > 1 else 0.0, min(values), max(values))
            for (benchmark, length), values in sorted(grouped.items())]


LEVELS_HEADER = ["benchmark", "training length (tokens)", "runs", "accuracy mean", "std", "min", "max"]


def levels_rows(levels: list[LevelSummary]) -> list[list]:
    return [[s.benchmark, f"{s.length:.1f}", s.runs, f"{s.mean:.1f}", f"{s.std:.1f}", f"{s.low:.1f}", f"{s.high:.1f}"]
            for s in levels]


FITS_HEADER = ["benchmark", "n", "a", "b (per 10x length)", "95% CI of b", "R^2"]


def fits_rows(fits: list[Fit]) -> list[list]:
    rows = []
    for f in fits:
        ci = f"[{f.b_low:.2f}, {f.b_high:.2f}]" if f.b_low is not None else "n/a (2 points)"
        r2 = f"{f.r2:.3f}" if f.r2 is not None else "n/a (constant accuracy)"
        rows.append([f.benchmark, f.n, f"{f.a:.2f}", f"{f.b:.2f}", ci, r2])
    return rows


def plot_fits(fits: list[Fit], path: Path, levels: list[LevelSummary] | None = None) -> None:
    """Points and fitted line per benchmark; where a length has several runs, their mean and min-max too."""
    import numpy as np

    with figure(path, ncols=len(fits), figsize=(4.2 * len(fits), 3.6), squeeze=False) as (_, axes):
        for ax, f in zip(axes[0], fits, strict=True):
            xs = np.geomspace(min(f.lengths) * 0.8, max(f.lengths) * 1.25, 50)
            ax.plot(f.lengths, f.accuracies, "o", color="#1f77b4", alpha=0.5, label="runs")
            repeated = [s for s in levels or [] if s.benchmark == f.benchmark and s.runs > 1]
            if repeated:
                ax.errorbar([s.length for s in repeated], [s.mean for s in repeated],
                            yerr=[[s.mean - s.low for s in repeated], [s.high - s.mean for s in repeated]],
                            fmt="s", color="black", capsize=3, label="mean, min-max")
            ax.plot(xs, [f.predict(x) for x in xs], "-", color="#d62728",
                    label=f"{f.a:.1f} + {f.b:.2f} log10(L)" + (f", R²={f.r2:.2f}" if f.r2 is not None else ""))
            log_x_axis(ax)
            ax.set_title(f.benchmark)
            ax.set_xlabel("training reasoning length (tokens)")
            ax.set_ylabel("accuracy (%)")
            ax.grid(alpha=0.3, which="both")
            ax.legend(fontsize=8)


@dataclass
class ScalingConfig:
    csv: str | None = field(default=None, metadata={"help": "points: a CSV with length, benchmark, accuracy"})
    runs: list[str] = field(default_factory=list, metadata={
        "help": "sweep run folders (RUN/data/stats.json: training mean response length; RUN/scores/results.json)"})
    grader: str = field(default="rule", metadata={"help": "which grader's scores to use with --runs"})
    out: str = field(default="outputs/scaling", metadata={"help": "output folder"})


def main(argv: list[str] | None = None) -> None:
    """Fit accuracy = a + b * log10(length) per benchmark; write fits.md/csv/json, levels.md/csv (mean and
    spread of the runs at each length: seeds) and scaling_law.png."""
    config = parse_config(ScalingConfig, argv, description=main.__doc__)
    if bool(config.csv) == bool(config.runs):
        raise Long1kError("give exactly one of --csv or --runs")
    points = read_points_csv(Path(config.csv)) if config.csv else points_from_runs([Path(r) for r in config.runs],
                                                                                 config.grader)
    fits = fit_all(points)
    levels = summarize_levels(points)
    out = Path(config.out)
    write_table(out, "levels", LEVELS_HEADER, levels_rows(levels), csv_rows=[list(asdict(s).values()) for s in levels],
                csv_header=list(LevelSummary.__dataclass_fields__))
    csv_rows = [[f.benchmark, f.n, f"{f.a:.4f}", f"{f.b:.4f}", f.b_low, f.b_high, f.r2] for f in fits]
    table = write_table(out, "fits", FITS_HEADER, fits_rows(fits), csv_rows=csv_rows,
                        csv_header=["benchmark", "n", "a", "b", "b_low", "b_high", "r2"])
    (out / "fits.json").write_text(json.dumps([asdict(f) for f in fits], indent=2) + "\n")
    plot_fits(fits, out / "scaling_law.png", levels)
    print(markdown_table(LEVELS_HEADER, levels_rows(levels)))
    print(table)
    print(f"wrote {out}/levels.md/.csv (mean and spread per length), fits.md, fits.csv, fits.json, scaling_law.png")

#!/usr/bin/env python
"""Fit accuracy = a + b * log10(length) per benchmark and draw the paper-style figure.

    python scripts/scaling_law.py --csv scripts/data/paper_points.csv --out outputs/scaling
    python scripts/scaling_law.py --runs outputs/sweeps/length_levels/runs/* --out outputs/scaling

--csv takes columns length, benchmark, accuracy; --runs takes sweep run folders (RUN/data/stats.json
for the training-set mean response length, RUN/scores/results.json for the scores). Writes
fits.md, fits.csv, fits.json and scaling_law.png.
"""

import argparse
import csv
import json
from dataclasses import asdict
from pathlib import Path

from long1k.errors import Long1kError, run_main
from long1k.experiments.scaling import fit_all, fits_table, plot_fits, points_from_runs, read_points_csv


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", help="points: length, benchmark, accuracy")
    parser.add_argument("--runs", nargs="+", help="sweep run folders")
    parser.add_argument("--grader", default="rule", help="which grader's scores to use with --runs")
    parser.add_argument("--out", default="outputs/scaling")
    args = parser.parse_args(argv)
    if bool(args.csv) == bool(args.runs):
        raise Long1kError("give exactly one of --csv or --runs")
    points = read_points_csv(Path(args.csv)) if args.csv else points_from_runs([Path(r) for r in args.runs],
                                                                             args.grader)
    fits = fit_all(points)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = fits_table(fits)
    (out / "fits.md").write_text(table + "\n")
    (out / "fits.json").write_text(json.dumps([asdict(f) for f in fits], indent=2) + "\n")
    with (out / "fits.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["benchmark", "n", "a", "b", "b_low", "b_high", "r2"])
        for f in fits:
            writer.writerow([f.benchmark, f.n, f"{f.a:.4f}", f"{f.b:.4f}", f.b_low, f.b_high, f.r2])
    plot_fits(fits, out / "scaling_law.png")
    print(table)
    print(f"wrote {out}/fits.md, fits.csv, fits.json, scaling_law.png")


if __name__ == "__main__":
    run_main(main)

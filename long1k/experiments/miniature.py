"""`python -m long1k miniature-report`: the tables of scripts/miniature.sh gathered in one page.

Reads what the stages wrote under --out and writes OUT/report.md (plus levels.md/.csv and
samples.md/.csv): the run time of each phase; the length levels' data (and a check that every level
holds the same problems, which the experiment's meaning rests on); held-out accuracy per level with its
spread over seeds and the scaling-law fit; length vs difficulty; inference-only scaling; composite
prompts; pass rates over samples; trace structure. Nothing is computed here that a stage computes.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from long1k.artifacts import DATASET_STATS, read_json
from long1k.configs import parse_config
from long1k.errors import Long1kError
from long1k.experiments.difficulty import coefficient_of_variation
from long1k.miniworld import STYLES
from long1k.reporting import write_table

SECTIONS = (  # (title, file under OUT, what it shows)
    ("Held-out accuracy per length level (3 seeds each)", "scaling/levels.md",
     "pass@1 on held-out problems of the models trained on each level; spread over training seeds"),
    ("Scaling law: accuracy against log10(training length)", "scaling/fits.md",
     "b = points per tenfold reasoning length, 95% CI over the runs (figure: scaling/scaling_law.png)"),
    ("Length vs difficulty: the training sets", "data/length_vs_difficulty/designs.md",
     "easy problems stitched in pairs vs hard single ones"),
    ("Length vs difficulty: held-out scores", "length_vs_difficulty/results.md",
     "minichain_hard: 5 operations, the hard set's own difficulty; minichain: 2-5 operations"),
    ("Inference-only scaling", "inference_scaling/inference_scaling.md",
     "the model trained without reasoning, budget-forced, against the models trained on longer reasoning "
     "(figure: inference_scaling/inference_scaling.png)"),
    ("Composite prompts of 2, 4 and 8 problems", "composites/scores/composite.md",
     "each level's model (seed 0); figure: composites/scores/composite_positions.png"),
    ("Pass rate over 4 samples per problem (temperature 0.6)", "samples.md",
     "each level's model (seed 0); CV = spread of a problem's 4 scores"),
    ("Trace structure of the sampled answers", "traces/traces.md", "correct vs wrong answers per model"),
)


@dataclass
class MiniatureReportConfig:
    out: str = field(default="outputs/miniature", metadata={"help": "scripts/miniature.sh's output folder"})


def phase_times(out: Path) -> tuple[list[list], int]:
    """(phase, seconds) of each phase in OUT/phases.txt (a phase lasts until the next began), and the
    seconds until the last mark: the script's time before this report."""
    path = out / "phases.txt"
    if not path.is_file():
        raise Long1kError(f"{path}: missing (scripts/miniature.sh writes it)")
    marks = [(int(line.split(" ", 1)[0]), line.split(" ", 1)[1]) for line in path.read_text().splitlines() if line]
    phases = [[name, end - start] for (start, name), (end, _) in zip(marks, marks[1:], strict=False)]
    return phases, marks[-1][0]


def level_data(out: Path) -> list[list]:
    """Rows, mean response tokens and problem set of each level's training data; an error unless every
    level holds the same problems."""
    rows, problem_sets = [], {}
    for style in STYLES:
        folder = out / "data" / style
        try:
            manifest = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]
            stats = read_json(folder / DATASET_STATS)
        except (OSError, json.JSONDecodeError) as err:
            raise Long1kError(f"{folder}: not a synthesis output ({err})") from None
        problem_sets[style] = sorted(source["problem_key"] for row in manifest for source in row["sources"])
        rows.append([style, len(manifest), f"{stats['tokens']['all']['response_tokens']['mean']:.1f}"])
    first = problem_sets[STYLES[0]]
    differing = [style for style, keys in problem_sets.items() if keys != first]
    if differing:
        raise Long1kError(f"the length levels {differing} hold other problems than {STYLES[0]!r}: the experiment "
                          "would compare problems, not reasoning lengths")
    return [[*row, "yes"] for row in rows]


def sample_rows(out: Path) -> list[list]:
    """Per model: mean pass rate over problems and samples, mean CV of a problem's scores, and the share
    of problems solved sometimes but not always."""
    graded = out / "samples" / "scores" / "graded.jsonl"
    if not graded.is_file():
        raise Long1kError(f"{graded}: missing (the sampling phase of scripts/miniature.sh writes it)")
    scores: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for line in graded.read_text().splitlines():
        row = json.loads(line)
        scores[row["model"]][row["id"]].append(1.0 if row["correct"] else 0.0)
    rows = []
    for model in sorted(scores, key=lambda m: STYLES.index(m) if m in STYLES else len(STYLES)):
        per_problem = list(scores[model].values())
        rates = [statistics.fmean(s) for s in per_problem]
        cvs = [cv for cv in map(coefficient_of_variation, per_problem) if cv is not None]
        mixed = sum(0 < r < 1 for r in rates)
        rows.append([model, len(per_problem), len(per_problem[0]), f"{100 * statistics.fmean(rates):.1f}",
                     f"{statistics.fmean(cvs):.2f}" if cvs else "n/a", f"{100 * mixed / len(rates):.0f}%"])
    return rows


def write_report(out: Path) -> str:
    phases, total = phase_times(out)
    parts = ["# The paper's experiments in miniature", "",
             f"`bash scripts/miniature.sh`: {total // 60} min {total % 60} s in all.", "",
             write_table(out, "phases", ["phase", "seconds"], phases), "", "## The length levels' training data", "",
             write_table(out, "levels", ["level", "rows", "mean response tokens", "same problems"], level_data(out)),
             ""]
    samples = write_table(out, "samples", ["model", "problems", "samples each", "pass rate %", "mean CV",
                                           "solved sometimes, not always"], sample_rows(out))
    for title, name, note in SECTIONS:
        path = out / name
        if not path.is_file():
            raise Long1kError(f"{path}: missing; rerun scripts/miniature.sh")
        text = samples if name == "samples.md" else path.read_text().strip()
        parts += [f"## {title}", "", f"{note}.", "", text, ""]
    report = "\n".join(parts)
    (out / "report.md").write_text(report)
    return report


def main(argv: list[str] | None = None) -> None:
    config = parse_config(MiniatureReportConfig, argv, description=__doc__)
    print(write_report(Path(config.out)))

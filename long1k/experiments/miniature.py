"""`python -m long1k miniature`: the paper's experiments in miniature, as an instrument.

Every arm (long1k/experiments/mini_arms.py) is fine-tuned from the mini base model at several seeds and
scored on held-out problems (long1k/experiments/mini_runs.py); each claim of the paper is then a difference
or a slope over seeds with its 95% interval and a verdict by the rule of long1k/experiments/verdicts.py.
Writes under --out: runs.jsonl (every run), arms.md/.csv (mean, std, min-max per arm and benchmark),
claims.md/.csv, figures (PNG) and report.md with each phase's time.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from long1k.configs import help_text, parse_config
from long1k.experiments.mini_arms import (
    BENCHMARK_ROWS,
    COMPOSITE_ARMS,
    EQUAL_DESIGN,
    STYLE_DESIGN,
    Arm,
    Plan,
    all_arms,
    fixed_design,
)
from long1k.experiments.mini_finetune import FineTuneRecipe
from long1k.experiments.verdicts import RULE, UNRESOLVED, Estimate, difference, mean_interval, slope, summary
from long1k.reporting import figure, log_x_axis, write_table

LEARNED_LOSS = 0.3
"""The most training loss (nats an answer token, over the last tenth of steps) of an arm that learned its rows:
single-problem arms end at 0.04-0.12; an arm far above did not learn to write its rows, and a claim resting on
it is not resolved, whatever its scores."""
STD_LIMIT = 5.0
"""The most points the minichain score may vary over seeds (std) for an arm to count as replicating."""


@dataclass
class MiniatureConfig:
    out: str = field(default="outputs/miniature", metadata=help_text("output folder"))
    base: str | None = field(default=None, metadata=help_text(
        "the model every arm starts from; unset: the mini base model, built on first use and cached"))
    seeds: int = field(default=5, metadata=help_text("training seeds per arm"))
    first_seed: int = field(default=0, metadata=help_text(
        "the seeds are first_seed, first_seed + 1, ...: another set replicates the run with fresh randomness"))
    problems: int = field(default=BENCHMARK_ROWS, metadata=help_text(
        "held-out problems a benchmark (composites: at most 100 prompts)"))
    workers: int = field(default=2, metadata=help_text("fine-tunes side by side (one torch thread each)"))
    steps: int = field(default=Plan.steps, metadata=help_text("optimizer steps of a fine-tune"))
    batch: int = field(default=Plan.batch, metadata=help_text(
        "rows a step (batch/k of them for stitched rows of k problems at equal tokens)"))
    fixed_rows: int = field(default=Plan.fixed_rows, metadata=help_text(
        "rows a step of the fixed-rows stitching design"))
    learning_rate: float = field(default=FineTuneRecipe.learning_rate, metadata=help_text("peak learning rate"))
    warmup: int = field(default=FineTuneRecipe.warmup, metadata=help_text(
        "warm-up steps of every fine-tune, counted in its steps (then a cosine to zero); an arm with fewer steps "
        "than this never reaches the peak"))
    rows: int = field(default=Plan.rows, metadata=help_text("training rows per arm"))
    threads: int = field(default=1, metadata=help_text(
        "torch threads a fine-tune (1 and 2 gave the same losses bit for bit on the 2-core machine measured)"))
    compare_with: str | None = field(default=None, metadata=help_text(
        "another run's output folder: the report says whether each arm's mean and each verdict replicate"))
    forcing: list[int] = field(default_factory=lambda: [1, 2, 4], metadata=help_text(
        "budget forcing of the style_none model: number of 'Wait' extensions"))


@dataclass
class Claim:
    name: str
    paper: str
    measured: str
    estimate: Estimate
    r2: float | None = None
    arms: tuple[str, ...] = ()
    unlearned: list[str] = field(default_factory=list)
    """Arms of the claim that did not learn their training rows (with their final loss)."""

    @property
    def outcome(self) -> str:
        """Supported, contradicted or not resolved: not resolved when an arm did not learn its rows, whatever
        the interval says."""
        return UNRESOLVED if self.unlearned else self.estimate.verdict

    @property
    def verdict(self) -> str:
        """The outcome, and why when an arm did not learn its rows."""
        if self.unlearned:
            return f"{UNRESOLVED}: did not learn their rows: {', '.join(self.unlearned)}"
        return self.outcome


class Phases:
    """Each phase's seconds, for the report."""

    def __init__(self) -> None:
        self.start, self.marks = time.perf_counter(), []

    def __call__(self, name: str) -> None:
        self.marks.append((name, time.perf_counter()))
        print(f"== [{self.elapsed():.0f} s] {name}", flush=True)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def rows(self) -> list[list]:
        ends = [t for _, t in self.marks[1:]] + [time.perf_counter()]
        return [[name, round(end - begin)] for (name, begin), end in zip(self.marks, ends, strict=True)]


Scores = dict[tuple[str, str], list[float]]
"""(arm, benchmark) -> scores in seed order."""


def scores_by(results: list[dict]) -> Scores:
    """(arm, benchmark) -> scores in seed order; forced runs as (arm@waitK, minichain)."""
    table: dict[tuple[str, str], list[float]] = defaultdict(list)
    for result in sorted(results, key=lambda r: r["seed"]):
        for benchmark, value in result["scores"].items():
            table[result["arm"], benchmark].append(value)
        for key, (value, _) in result["forced"].items():
            table[f"{result['arm']}@{key}", "minichain"].append(value)
    return table


def forced_thinking_tokens(results: list[dict]) -> dict[str, float]:
    """arm@forced_waitK -> its mean thinking tokens under budget forcing, over seeds."""
    thinking = defaultdict(list)
    for result in results:
        for key, (_, tokens) in result["forced"].items():
            thinking[f"{result['arm']}@{key}"].append(tokens)
    return {name: statistics.fmean(values) for name, values in thinking.items()}


def arm_rows(arms: list[Arm], results: list[dict], answer_tokens: dict[str, float]) -> list[list]:
    scores = scores_by(results)
    thinking = forced_thinking_tokens(results)
    extra = defaultdict(list)
    for result in results:
        for benchmark, share in result["extra_answers"].items():
            extra[result["arm"], benchmark].append(share)
    losses = final_losses(results)
    rows = [arm_row(arm.name, benchmark, scores[arm.name, benchmark], answer_tokens[arm.name],
                    statistics.fmean(extra[arm.name, benchmark]), arm, losses[arm.name])
            for arm in arms for benchmark in arm.benchmarks]
    rows += [arm_row(name, "minichain", scores[name, "minichain"], thinking[name], None, None,
                     None) for name in sorted(thinking)]
    return rows


def arm_row(name: str, benchmark: str, values: list[float], tokens: float, extra: float | None, arm: Arm | None,
            loss: float | None) -> list:
    s = summary(values)
    replicates = "" if benchmark != "minichain" else "yes" if s["std"] <= STD_LIMIT else "NO"
    return [name, benchmark, len(values), round(s["mean"], 1), round(s["std"], 1), f"{s['min']:.1f}-{s['max']:.1f}",
            replicates, "" if extra is None else round(extra, 1), round(tokens, 1), arm.batch if arm else "",
            arm.steps if arm else "", "" if loss is None else f"{loss:.3f}"]


ARM_HEADER = ["arm", "benchmark", "seeds", "mean", "std", "min-max", f"std <= {STD_LIMIT:.0f}",
              "% answering more than asked", "answer tokens a training row (forced: thinking tokens)", "rows a step",
              "steps", "final training loss"]


def fit_over(arms: list[str], scores: Scores, answer_tokens: dict[str, float]) -> tuple[Estimate, float | None]:
    """Points per tenfold answer length over the arms' mean minichain scores: one point a level, since the
    seeds of a level are repeats of one length (over every run the interval would leave out how far the
    levels lie from a straight line)."""
    return slope([answer_tokens[name] for name in arms],
                 [statistics.fmean(scores[name, "minichain"]) for name in arms])


def claims(plan: Plan, results: list[dict], answer_tokens: dict[str, float], forcing: list[int]) -> list[Claim]:
    s, losses = scores_by(results), final_losses(results)
    without, with_stitched = COMPOSITE_ARMS
    found = [
        claim("longer reasoning, same problems", "longer reasoning in training raises accuracy",
              "style_checked - style_none on minichain: the longest reasoning against the answer alone",
              ["style_checked", "style_none"],
              difference(s["style_checked", "minichain"], s["style_none", "minichain"])),
        claim("scaling law over reasoning length", "accuracy is a straight line in log(length)",
              "minichain points per tenfold answer length, the 4 styles' means", list(STYLE_DESIGN),
              *fit_over(list(STYLE_DESIGN), s, answer_tokens)),
        claim("scaling law by stitching (fixed rows)", "accuracy grows with the log of the training rows' length",
              f"the same over rows of 1/2/4/8 problems, {plan.fixed_rows} rows a step", fixed_design(plan),
              *fit_over(fixed_design(plan), s, answer_tokens)),
        claim("scaling law by stitching (equal tokens)", "(a control the paper lacks) length, not more tokens seen",
              f"the same at {plan.batch}/k rows a step, steps set for equal answer tokens", list(EQUAL_DESIGN),
              *fit_over(list(EQUAL_DESIGN), s, answer_tokens)),
        *(claim(f"length beats difficulty ({benchmark})", "long rows of easy problems train better than hard single "
                "ones", f"easy pairs - hard singles on {benchmark}, Long1K's mix, equal answer tokens",
                ["lvd_easy_pairs", "lvd_hard_singles"],
                difference(s["lvd_easy_pairs", benchmark], s["lvd_hard_singles", benchmark]))
          for benchmark in ("minichain_hard", "minichain")),
        *(claim(f"multi-question following ({benchmark})", "stitched rows teach answering several questions",
                f"{with_stitched} - {without} on {benchmark} (every question right), equal answer tokens",
                [with_stitched, without], difference(s[with_stitched, benchmark], s[without, benchmark]))
          for benchmark in ("minichain_x2", "minichain_x4")),
    ]
    if forcing:
        best = max(forcing, key=lambda k: statistics.fmean(s[f"style_none@forced_wait{k}", "minichain"]))
        found.append(claim("training length beats inference-only scaling",
                           "thinking longer at inference does not give what training on long reasoning gives",
                           f"style_full - style_none forced with its best extension count ({best} x Wait; chosen on "
                           "these scores, which favours the forced arm), minichain", ["style_full", "style_none"],
                           difference(s["style_full", "minichain"], s[f"style_none@forced_wait{best}", "minichain"])))
    for c in found:
        c.unlearned = [f"{arm} ({losses[arm]:.2f})" for arm in c.arms if losses[arm] > LEARNED_LOSS]
    return found


def claim(name: str, paper: str, measured: str, arms: list[str], estimate: Estimate,
          r2: float | None = None) -> Claim:
    return Claim(name, paper, measured, estimate, r2, tuple(arms))


def final_losses(results: list[dict]) -> dict[str, float]:
    """Arm -> its training loss over the last tenth of steps, mean over seeds."""
    losses = defaultdict(list)
    for result in results:
        losses[result["arm"]].append(result["final_loss"])
    return {arm: statistics.fmean(values) for arm, values in losses.items()}


def claim_rows(found: list[Claim]) -> list[list]:
    return [[c.name, c.paper, c.measured, f"{c.estimate.value:+.1f}",
             f"{c.estimate.low:+.1f} to {c.estimate.high:+.1f}", "" if c.r2 is None else f"{c.r2:.2f}",
             c.verdict] for c in found]


CLAIM_HEADER = ["claim", "the paper says", "measured as", "estimate", "95% interval", "R^2", "verdict"]


def score_line(ax, xs: list[float], names: list[str], scores: Scores, label: str, marker: str = "o") -> None:
    """Mean minichain score of each arm (+/- std over seeds) at its x."""
    stats = [summary(scores[name, "minichain"]) for name in names]
    ax.errorbar(xs, [t["mean"] for t in stats], yerr=[t["std"] for t in stats], marker=marker, capsize=3, label=label)


def finish_axes(ax, xlabel: str) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel("minichain % correct (mean +/- std over seeds)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8)


def plot_inference(path: Path, results: list[dict], answer_tokens: dict[str, float]) -> None:
    """The style arms at their training length, and style_none pushed to think longer at inference (at its
    mean thinking tokens)."""
    scores = scores_by(results)
    thinking = forced_thinking_tokens(results)
    names = sorted(thinking, key=thinking.get)
    with figure(path, figsize=(6.4, 4.2)) as (_, ax):
        trained = list(STYLE_DESIGN)
        score_line(ax, [answer_tokens[a] for a in trained], trained, scores,
                   "trained on longer reasoning (none, some, full, checked)")
        score_line(ax, [thinking[n] for n in names], names, scores,
                   "style_none, budget-forced to think longer", "s")
        finish_axes(ax, "tokens (training answer / forced thinking)")


def plot_lengths(path: Path, groups: dict[str, list[str]], scores: Scores, answer_tokens: dict[str, float]) -> None:
    """Mean minichain score (+/- std over seeds) against the rows' answer tokens, one line a design."""
    with figure(path, figsize=(6.4, 4.2)) as (_, ax):
        for label, arms in groups.items():
            score_line(ax, [answer_tokens[a] for a in arms], arms, scores, label)
        log_x_axis(ax)
        finish_axes(ax, "answer tokens a training row")


def replication_rows(results: list[dict], other: list[dict]) -> list[list]:
    """Per arm and benchmark: each run's mean with its 95% interval, and whether each mean lies in the
    other run's interval."""
    mine, theirs = scores_by(results), scores_by(other)
    rows = []
    for key in sorted(mine):
        if key not in theirs:
            continue
        a, b = mean_interval(mine[key]), mean_interval(theirs[key])
        both = b.low <= a.value <= b.high and a.low <= b.value <= a.high
        rows.append([key[0], key[1], f"{a.value:.1f} ({a.low:.1f} to {a.high:.1f})",
                     f"{b.value:.1f} ({b.low:.1f} to {b.high:.1f})", "yes" if both else "NO"])
    return rows


SETTINGS = "settings.json"
DESIGN_SETTINGS = ("base", "problems", "steps", "batch", "fixed_rows", "learning_rate", "warmup", "rows",
                   "forcing")
"""The settings that make the arms and their scoring: a replication must share them (seeds, workers and threads
it may change)."""
BEFORE_ITS_SETTING = {"warmup": 10}
"""What runs made before a design setting existed used (their settings.json lacks it)."""


def check_settings(config: MiniatureConfig) -> None:
    """Refuse settings the verdicts cannot be computed from, before any work."""
    from long1k.errors import Long1kError

    if config.seeds < 2:
        raise Long1kError(f"--seeds {config.seeds}: the intervals over seeds need at least 2 seeds an arm")
    if config.compare_with is None:
        return
    path = Path(config.compare_with) / SETTINGS
    if not path.is_file() or not (Path(config.compare_with) / "runs.jsonl").is_file():
        raise Long1kError(f"--compare_with {config.compare_with}: not a finished miniature run (no {SETTINGS} or "
                          "runs.jsonl)")
    theirs = {**BEFORE_ITS_SETTING, **json.loads(path.read_text())}
    differing = [f"{key} ({theirs.get(key)!r} there, {getattr(config, key)!r} here)" for key in DESIGN_SETTINGS
                 if theirs.get(key) != getattr(config, key)]
    if differing:
        raise Long1kError(f"--compare_with {config.compare_with} ran other arms or scoring: {', '.join(differing)}")


def replication_section(out: Path, config: MiniatureConfig, results: list[dict], found: list[Claim],
                        answer_tokens: dict[str, float]) -> list[str]:
    other_dir = Path(config.compare_with)
    other = [json.loads(line) for line in (other_dir / "runs.jsonl").read_text().splitlines() if line]
    theirs = claims(plan_of(config), other, answer_tokens, config.forcing)
    verdicts = [[c.name, c.outcome, t.outcome, "yes" if c.outcome == t.outcome else "NO"]
                for c, t in zip(found, theirs, strict=True)]
    return ["## Replication", "", f"Against `{other_dir}` (its runs.jsonl).", "",
            write_table(out, "replication", ["arm", "benchmark", "this run: mean (95% interval)",
                                             "other run: mean (95% interval)", "each mean in the other's interval"],
                        replication_rows(results, other)), "",
            write_table(out, "replication_verdicts", ["claim", "this run", "other run", "same verdict"], verdicts), ""]


def plan_of(config: MiniatureConfig) -> Plan:
    return Plan(rows=config.rows, batch=config.batch, fixed_rows=config.fixed_rows, steps=config.steps)


def write_report(out: Path, config: MiniatureConfig, arms: list[Arm], results: list[dict],
                 answer_tokens: dict[str, float], phases: Phases) -> str:
    plan = plan_of(config)
    found = claims(plan, results, answer_tokens, config.forcing)
    arms_table = write_table(out, "arms", ARM_HEADER, arm_rows(arms, results, answer_tokens))
    claims_table = write_table(out, "claims", CLAIM_HEADER, claim_rows(found))
    s = scores_by(results)
    plot_lengths(out / "lengths.png", {
        "reasoning style (none, some, full, checked)": list(STYLE_DESIGN),
        f"rows of 1/2/4/8 problems, {plan.fixed_rows} rows a step": fixed_design(plan),
        "rows of 1/2/4/8 problems, equal answer tokens": list(EQUAL_DESIGN)}, s, answer_tokens)
    if config.forcing:
        plot_inference(out / "inference.png", results, answer_tokens)
    phases("report")
    phase_table = write_table(out, "phases", ["phase", "seconds"], phases.rows())
    total = phases.elapsed()
    report = "\n".join([
        "# The paper's experiments in miniature", "",
        f"`python -m long1k miniature`: {total // 60:.0f} min {total % 60:.0f} s, {len(results)} fine-tunes from the "
        f"mini base model ({config.seeds} seeds an arm, {config.steps} steps, {config.workers} at a time).", "",
        phase_table, "", "## Claims", "", f"Verdict rule: {RULE}; and not resolved whenever an arm of the claim "
        f"did not learn its training rows (final training loss above {LEARNED_LOSS} nats a token, mean over "
        f"seeds).", "", claims_table, "",
        "## Every arm over seeds", "",
        f"Scores are % correct, greedy, on {config.problems} held-out problems (minichain: 2-5 operations; "
        f"minichain_hard: 5) or up to 100 prompts of 2 or 4 of them (minichain_x2, minichain_x4, right when every "
        f"question is). An arm replicates when its minichain std over seeds is at most {STD_LIMIT:.0f} points. "
        f"'Answering more than asked': responses that box more answers than the prompt has questions. "
        f"Figures: lengths.png (score against the training rows' length), inference.png (training length against "
        f"budget forcing).", "", arms_table, "",
        *(replication_section(out, config, results, found, answer_tokens) if config.compare_with else []),
        "## Settings", "", "```json", json.dumps(asdict(config), indent=1), "```", ""])
    (out / "report.md").write_text(report)
    return report


def miniature(config: MiniatureConfig) -> str:
    from long1k.experiments.mini_base import mini_base_dir
    from long1k.experiments.mini_finetune import count_answer_tokens, tokenize_rows
    from long1k.experiments.mini_runs import run_all
    from long1k.tokenizer import load_tokenizer

    check_settings(config)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / SETTINGS).write_text(json.dumps(asdict(config), indent=1) + "\n")
    phases = Phases()
    phases("the mini base model (built on first use, then cached)")
    base = Path(config.base) if config.base else mini_base_dir()
    phases("the arms' training rows")
    tokenizer = load_tokenizer(str(base))
    # arms share row lists: tokenize each list once, keyed by its identity (the rows are kept with their
    # examples so that no other list can take over a freed identity)
    tokenized: dict[int, tuple[list, list]] = {}

    def examples_of(rows: list) -> list:
        if id(rows) not in tokenized:
            tokenized[id(rows)] = rows, tokenize_rows(tokenizer, rows)
        return tokenized[id(rows)][1]

    def tokens_per_row(rows) -> float:
        return count_answer_tokens(examples_of(rows)) / len(rows)

    arms = all_arms(plan_of(config), tokens_per_row)
    answer_tokens = {arm.name: tokens_per_row(arm.rows) for arm in arms}
    examples = {arm.name: examples_of(arm.rows) for arm in arms}
    jobs = [(arm, seed, tuple(config.forcing) if arm.name == "style_none" else ())
            for seed in range(config.first_seed, config.first_seed + config.seeds) for arm in arms]
    phases(f"{len(jobs)} fine-tunes, each scored on its benchmarks")
    recipe = FineTuneRecipe(learning_rate=config.learning_rate, warmup=config.warmup, threads=config.threads)
    results = [asdict(r) for r in run_all(base, jobs, recipe, examples, config.workers, config.problems)]
    (out / "runs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in results))
    return write_report(out, config, arms, results, answer_tokens, phases)


def main(argv: list[str] | None = None) -> None:
    print(miniature(parse_config(MiniatureConfig, argv, description=__doc__)))

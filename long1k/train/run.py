"""`train/sft.py`: full SFT of a causal LM on Long1K rows, loss on the assistant tokens only."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import sys
from pathlib import Path

from long1k.configs import parse_config
from long1k.environment import library_versions
from long1k.errors import Long1kError
from long1k.formats import TRAINING_RECORD, dataset_format
from long1k.train import preflight
from long1k.train.config import SFTConfig
from long1k.train.data import PaddingCollator, TokenizedData, assistant_markers, load_rows, pack, tokenize_dataset
from long1k.train.model import SHAPES, build_random_model, default_tokenizer_for, shape_of

RUN_CONFIG = "run_config.json"
FINAL_DIR = "final"
IDENTITY_KEYS = ("model_name_or_path", "dataset", "block_size", "packing", "seed")


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
    """The checkpoint to resume from; refuse to mix two runs in one folder."""
    output_dir = Path(config.output_dir)
    previous = output_dir / RUN_CONFIG
    if not config.resume:
        if previous.is_file() or (output_dir.is_dir() and checkpoints(output_dir)):
            raise Long1kError(f"{output_dir}: holds another run; pass --resume to continue it, or choose "
                              "another --output_dir")
        return None
    if previous.is_file():
        earlier = json.loads(previous.read_text())["arguments"]
        changed = [k for k in IDENTITY_KEYS if earlier.get(k) != getattr(config, k)]
        if changed:
            raise Long1kError(f"{output_dir}: holds a run with different {changed}; --resume continues only "
                              "the same run")
    checkpoint = last_checkpoint(output_dir)
    if checkpoint is None:
        say(f"--resume: no checkpoint in {output_dir} yet, starting from step 0")
    return checkpoint


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
    if requested != "auto":
        return requested
    import torch

    try:
        import flash_attn  # noqa: F401

        return "flash_attention_2" if torch.cuda.is_available() else "sdpa"
    except ImportError:
        return "sdpa"


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


def model_shape(config: SFTConfig):
    if config.model_name_or_path in SHAPES:
        return shape_of(config.model_name_or_path)
    from transformers import AutoConfig

    try:
        return shape_of(AutoConfig.from_pretrained(config.model_name_or_path))
    except (OSError, ValueError) as err:
        raise Long1kError(f"cannot read the config of {config.model_name_or_path!r}: {err}") from None


def run_preflight(config: SFTConfig) -> preflight.MemoryPlan | None:
    if config.preflight == "off":
        return None
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
    plan = preflight.plan_memory(model_shape(config), world, local, config.block_size, config.deepspeed,
                                 config.per_device_train_batch_size, config.use_liger_kernel,
                                 config.gradient_checkpointing)
    say(plan.table())
    measured = preflight.gpu_memory_gb()
    gpu = config.gpu_memory_gb or measured
    on_cpu = measured is None and not config.gpu_memory_gb
    problems = preflight.verdict(plan, gpu, preflight.host_memory_gb(), on_cpu=on_cpu)
    for problem in problems:
        say(f"preflight: {problem}")
    if problems and config.preflight == "refuse":
        raise Long1kError("preflight: the configuration does not fit (see above); --preflight warn to try anyway")
    return plan


def train_dataset(config: SFTConfig, data: TokenizedData):
    from datasets import Dataset

    if config.packing:
        ids, labels, positions = pack(data, config.block_size)
        say(f"packing: {len(data.input_ids)} rows into {len(ids)} sequences of at most {config.block_size} tokens")
        return Dataset.from_dict({"input_ids": ids, "labels": labels, "position_ids": positions})
    return Dataset.from_dict({"input_ids": data.input_ids, "labels": data.labels})


def write_run_config(config: SFTConfig, data: TokenizedData, plan) -> None:
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
            "manifest_sha256": data.manifest_sha256,
            "token_ids_sha256": hashlib.sha256(json.dumps(data.input_ids).encode()).hexdigest(),
            "rows_read": data.rows_read,
            "rows_used": len(data.input_ids),
            "dropped_over_block_size": data.dropped_over_block_size,
            "dropped_without_assistant": data.dropped_without_assistant,
            "tokens": sum(data.lengths),
        },
        "preflight": None if plan is None else {k: round(v, 2) if isinstance(v, float) else v
                                                for k, v in vars(plan).items()},
    }
    (output_dir / RUN_CONFIG).write_text(json.dumps(record, indent=2) + "\n")


def train(config: SFTConfig) -> None:
    from transformers import Trainer

    from long1k.train.callbacks import LossHistory, MarkCompleteCheckpoints

    if config.use_liger_kernel:
        try:
            import liger_kernel  # noqa: F401
        except ImportError:
            raise Long1kError("--use_liger_kernel needs the liger-kernel package") from None
    resume_from = check_output_dir(config)
    tokenizer = load_tokenizer_for(config)
    rows = load_rows(config.dataset, config.dataset_split)
    data = tokenize_dataset(rows, tokenizer, config.block_size, config.dataset, config.loss_on)
    say(f"data: {data.rows_read} rows read, {len(data.input_ids)} used, {data.dropped_over_block_size} dropped "
        f"(longer than --block_size {config.block_size}), {data.dropped_without_assistant} without an assistant "
        f"turn; {sum(data.lengths):,} tokens")
    plan = run_preflight(config)
    write_run_config(config, data, plan)

    _ = config.device  # sets up torch.distributed, which ZeRO-3's partitioned model construction needs
    model = load_model(config)
    # No KV cache in training: besides wasting memory, a cache hides the row boundaries of packed batches.
    model.config.use_cache = False
    callbacks = [MarkCompleteCheckpoints(config.output_dir), LossHistory(config.output_dir)]
    trainer = Trainer(model=model, args=config, train_dataset=train_dataset(config, data),
                      data_collator=PaddingCollator(tokenizer.pad_token_id), processing_class=tokenizer,
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


def release_process_group() -> None:
    """Tear the process group down before exit: left to interpreter shutdown, a rank's communication
    threads can abort it (SIGABRT, "terminate called without an active exception") after the work is done."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def deepspeed_requested(argv: list[str] | None) -> bool:
    """Whether the run uses DeepSpeed (--deepspeed, else the recipe's, else the default), read before the
    config is built: on the CPU path the distributed state must exist first (init_cpu_distributed)."""
    import argparse

    import yaml

    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--config")
    parser.add_argument("--deepspeed")
    known = parser.parse_known_args(sys.argv[1:] if argv is None else argv)[0]
    if known.deepspeed is None and known.config:
        with contextlib.suppress(OSError, yaml.YAMLError, AttributeError):  # parse_config reports these
            known.deepspeed = (yaml.safe_load(Path(known.config).read_text(encoding="utf-8")) or {}).get("deepspeed")
    if known.deepspeed is None:
        known.deepspeed = next(f.default for f in dataclasses.fields(SFTConfig) if f.name == "deepspeed")
    return bool(known.deepspeed)


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

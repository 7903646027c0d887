#!/usr/bin/env python
"""Training throughput, MFU and peak memory per configuration, plus the paper-scale projection.

    python scripts/bench_train.py                          # CPU: the mini model as the learning check trains it
    python scripts/bench_train.py --shape qwen2.5-1.5b --block-sizes 8192 16384 32768   # on a GPU
    python scripts/bench_train.py --project-only --data outputs/long1k                  # calculator only

Model configurations, each a full forward + backward + AdamW step on a randomly initialised model with
gradient checkpointing: `baseline` (the original recipe: rows padded into a micro-batch of 2, SDPA, the
full fp32 logits), `chunked` (TRL's chunked LM-head loss, what `train/sft.sh` uses on GPUs), `packing`
(the same rows concatenated, no padding), `packing+chunked`, and with flash-attention 2 where installed
`flash+packing+chunked`. Tokens per second count real (non-padding) tokens; MFU uses the model FLOPs of
those tokens and the GPU's dense bf16 peak. Rows get Long1K-like lengths (uniform between a quarter of
the block and the block). Results as markdown and CSV.

Trainer configurations (`--trainers true`, the default on CPU): the same rows through the whole trainer
stack, side by side in one process: `Trainer (before)` (transformers' Trainer with a padding collator and
the model's own loss, as training ran before TRL), and TRL's `SFTTrainer` as `train/sft.sh` runs it, with
each `--lm_head_loss`.
"""

from __future__ import annotations

import csv
import json
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from long1k.configs import parse_config
from long1k.reporting import markdown_table
from long1k.train.config import deepspeed_config_path
from long1k.train.flops import flops_for_rows, peak_tflops, project
from long1k.train.model import SHAPES, build_random_model
from long1k.train.preflight import LOSSES, Setting, plan_memory


def available(module: str) -> bool:
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def configurations(on_gpu: bool) -> dict[str, dict]:
    configs = {name: {"attention": "sdpa", "chunked": "chunked" in name, "packing": "packing" in name}
               for name in ("baseline", "chunked", "packing", "packing+chunked")}
    if on_gpu and available("flash_attn"):
        configs["flash+packing+chunked"] = {"attention": "flash_attention_2", "chunked": True, "packing": True}
    return configs


def batches(block: int, rows_per_batch: int, packing: bool, rng: random.Random, steps: int, vocab: int):
    """(input_ids, position_ids or None, real token count, row lengths) per step."""
    import torch

    for _ in range(steps):
        lengths = [rng.randint(block // 4, block) for _ in range(rows_per_batch)]
        if packing:  # as many whole rows as fit in one block
            kept, total = [], 0
            for length in lengths + [rng.randint(block // 4, block) for _ in range(8)]:
                if total + length <= block:
                    kept.append(length)
                    total += length
            ids = torch.randint(0, vocab, (1, total))
            positions = torch.cat([torch.arange(n) for n in kept]).unsqueeze(0)
            yield ids, positions, total, kept
        else:
            width = max(lengths)
            ids = torch.randint(0, vocab, (rows_per_batch, width))
            yield ids, None, sum(lengths), lengths


def measure(shape_name: str, block: int, config: dict, steps: int, device: str, rows_per_batch: int = 2,
            checkpointing: bool = True) -> dict:
    import torch

    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    model = build_random_model(shape_name, 0, config["attention"], dtype).to(device)
    loss_kwargs = {}
    if config["chunked"]:
        from trl.trainer.utils import add_fused_lm_head

        add_fused_lm_head(model)
        loss_kwargs["fused_lm_head"] = True
    model.config.use_cache = False
    if checkpointing:
        model.gradient_checkpointing_enable()
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=device == "cuda")
    rng = random.Random(0)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    timings, tokens, flops = [], 0, 0.0
    for index, (ids, positions, real, lengths) in enumerate(
            batches(block, rows_per_batch, config["packing"], rng, steps + 1, SHAPES[shape_name].vocab_size)):
        ids = ids.to(device)
        kwargs = {"position_ids": positions.to(device)} if positions is not None else {}
        if device == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        labels = ids.clone()
        if positions is not None:
            labels[kwargs["position_ids"] == 0] = -100  # a packed row does not learn from the row before it
        loss = model(input_ids=ids, labels=labels, **kwargs, **loss_kwargs).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device == "cuda":
            torch.cuda.synchronize()
        if index:  # the first step warms up kernels and allocators
            timings.append(time.perf_counter() - started)
            tokens += real
            flops += flops_for_rows(SHAPES[shape_name], lengths)
    seconds = sum(timings)
    peak = torch.cuda.max_memory_allocated() / 1024**3 if device == "cuda" else _rss_gb()
    return {"tokens_per_s": tokens / seconds, "tflops": flops / seconds / 1e12, "peak_gb": peak,
            "step_s": statistics.median(timings)}


def trainer_rows(block: int, rows: int, vocab: int, seed: int = 0) -> list[dict]:
    """Chat-like rows: a prompt without loss, then an answer with loss, of lengths up to the block."""
    rng = random.Random(seed)
    out = []
    for _ in range(rows):
        length = rng.randint(block // 4, block)
        ids = [rng.randrange(vocab) for _ in range(length)]
        cut = length // 2
        out.append({"input_ids": ids, "labels": [-100] * cut + ids[cut:]})
    return out


def measure_trainer(shape_name: str, block: int, kind: str, steps: int, rows_per_batch: int, out: Path) -> dict:
    """Tokens/s of whole optimizer steps through a trainer (one process), the first step excluded."""
    import torch
    from datasets import Dataset
    from transformers import Trainer, TrainerCallback
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    from long1k.train.config import SFTConfig
    from long1k.train.trainer import Long1kSFTTrainer

    rows = trainer_rows(block, rows_per_batch * (steps + 1), SHAPES[shape_name].vocab_size)
    loss = kind.split()[-1] if kind.startswith("SFTTrainer") else "full"
    config = SFTConfig(output_dir=str(out / "trainer"), model_name_or_path=shape_name, bf16=False, deepspeed="",
                       gradient_checkpointing=False, per_device_train_batch_size=rows_per_batch,
                       max_steps=steps + 1, save_strategy="no", logging_steps=10**6, report_to=[],
                       disable_tqdm=True, block_size=block, lm_head_loss=loss, learning_rate=1e-4,
                       dataloader_num_workers=0, dataloader_pin_memory=False, use_cpu=not torch.cuda.is_available())
    model = build_random_model(shape_name, 0, "sdpa", None)
    model.config.use_cache = False
    times: list[float] = []

    class StepTimes(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            self.started = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            times.append(time.perf_counter() - self.started)

    dataset = Dataset.from_list(rows)
    if kind.startswith("Trainer"):
        trainer = Trainer(model=model, args=config, train_dataset=dataset, callbacks=[StepTimes()],
                          data_collator=DataCollatorForLanguageModeling(pad_token_id=0))
    else:
        from long1k.tokenizer import load_tokenizer

        tokenizer = load_tokenizer(SHAPES[shape_name].tokenizer)
        trainer = Long1kSFTTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer,
                                   callbacks=[StepTimes()])
    trainer.train()
    tokens = sum(len(r["input_ids"]) for r in rows[rows_per_batch:])
    return {"tokens_per_s": tokens / sum(times[1:]), "step_s": statistics.median(times[1:])}


TRAINERS = ("Trainer (before)", "SFTTrainer full", "SFTTrainer chunked")


def _rss_gb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def long1k_lengths(data: str | None) -> tuple[list[int], str]:
    """Token lengths of a synthesized set (its manifest), else of a 1k-row set like the paper's."""
    if data and (Path(data) / "manifest.jsonl").is_file():
        rows = [json.loads(line) for line in (Path(data) / "manifest.jsonl").open()]
        return [r["tokens"]["text"] for r in rows], f"{data}/manifest.jsonl"
    rng = random.Random(0)  # 1,000 rows, mean about 16k tokens, capped at the 32k block
    return [min(32768, int(rng.lognormvariate(9.55, 0.6))) for _ in range(1000)], "synthetic Long1K-like lengths"


def print_projection(data: str | None) -> None:
    lengths, origin = long1k_lengths(data)
    shape = SHAPES["qwen2.5-32b"]
    print(f"\n## Paper-scale projection: Qwen2.5-32B, 8 x H100, {len(lengths)} rows from {origin} "
          f"(mean {statistics.mean(lengths):,.0f} tokens)\n")
    hours = [[epochs, f"{mfu:.0%}", f"{project(shape, lengths, epochs, 8, mfu).hours:.2f}"]
             for epochs in (4, 5) for mfu in (0.25, 0.40)]
    print(markdown_table(["epochs", "MFU", "hours"], hours))
    print("(the original run took 10-11 h: 120 s per optimizer step of 16 rows)")
    for name, config in (("ZeRO-3 + CPU offload (paper)", "z3_offload"), ("ZeRO-3, no offload", "z3")):
        for loss in LOSSES:
            plan = plan_memory(shape, Setting(8, 8, 32768, str(deepspeed_config_path(config)), loss=loss))
            print(f"\n### preflight at 32k: {name}, {loss} LM-head loss\n{plan.table()}")


@dataclass
class BenchTrainOptions:
    shape: str | None = field(default=None, metadata={
        "help": "named shape (default: qwen2.5-1.5b on GPU, mini-qwen2 on CPU)"})
    block_sizes: list[int] | None = field(default=None, metadata={
        "help": "default: 8k 16k 32k on GPU, 128 256 on CPU (the mini world's rows)"})
    rows_per_batch: int | None = field(default=None, metadata={
        "help": "rows per micro-batch (default: 2 on GPU, 16 on CPU as the mini recipe)"})
    gradient_checkpointing: bool | None = field(default=None, metadata={
        "help": "recompute activations (default: on GPU, off on CPU as the mini recipe)"})
    steps: int = field(default=3, metadata={"help": "measured steps per configuration (after one warm-up step)"})
    out: str = field(default="outputs/bench_train", metadata={"help": "folder for results.csv / results.md"})
    data: str | None = field(default=None, metadata={
        "help": "a synthesized set, for the length distribution of the projection"})
    project_only: bool = field(default=False, metadata={"help": "print only the paper-scale projection"})
    trainers: bool | None = field(default=None, metadata={
        "help": "also the whole trainer stack, before and after TRL, side by side (default: on CPU)"})
    trainer_steps: int = field(default=100, metadata={"help": "measured optimizer steps per trainer and round"})
    trainer_rounds: int = field(default=3, metadata={"help": "rounds of the trainers, in rotating order (median)"})


def main() -> None:
    args = parse_config(BenchTrainOptions, description=__doc__)
    if not args.project_only:
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
        shape = args.shape or ("qwen2.5-1.5b" if device == "cuda" else "mini-qwen2")
        blocks = args.block_sizes or ([8192, 16384, 32768] if device == "cuda" else [128, 256])
        rows_per_batch = args.rows_per_batch or (2 if device == "cuda" else 16)
        checkpointing = device == "cuda" if args.gradient_checkpointing is None else args.gradient_checkpointing
        name = torch.cuda.get_device_name(0) if device == "cuda" else "CPU"
        peak = peak_tflops(name)
        rows = []
        for block in blocks:
            for config_name, config in configurations(device == "cuda").items():
                try:
                    result = measure(shape, block, config, args.steps, device, rows_per_batch, checkpointing)
                except Exception as err:  # an out-of-memory configuration is a result too
                    print(f"{config_name} at {block}: failed ({type(err).__name__}: {str(err)[:120]})", file=sys.stderr)
                    result = {"tokens_per_s": 0.0, "tflops": 0.0, "peak_gb": float("nan"), "step_s": float("nan")}
                mfu = result["tflops"] / peak if peak else None
                rows.append({"device": name, "shape": shape, "block": block, "config": config_name, **result,
                             "mfu": mfu})
                print(f"{config_name:>8} @ {block}: {result['tokens_per_s']:,.0f} tok/s, {result['tflops']:.2f} TFLOP/s"
                      f", peak {result['peak_gb']:.2f} GB", flush=True)
        write_results(rows, Path(args.out))
        if args.trainers if args.trainers is not None else device == "cpu":
            compare_trainers(shape, blocks, rows_per_batch, args.trainer_steps, Path(args.out),
                                 args.trainer_rounds)
    print_projection(args.data)


def compare_trainers(shape: str, blocks: list[int], rows_per_batch: int, steps: int, out: Path,
                     rounds: int = 3) -> None:
    """Each trainer `rounds` times, in a rotating order (the first runs of a process are slower): the median."""
    records = []
    for block in blocks:
        results: dict[str, list[dict]] = {kind: [] for kind in TRAINERS}
        for round_index in range(rounds):
            for kind in TRAINERS[round_index % 3:] + TRAINERS[:round_index % 3]:
                results[kind].append(measure_trainer(shape, block, kind, steps, rows_per_batch, out))
        for kind, runs in results.items():
            median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
            records.append({"shape": shape, "block": block, "trainer": kind, **median, "rounds": rounds})
            print(f"{kind:>20} @ {block}: {median['tokens_per_s']:,.0f} tok/s (median of {rounds})", flush=True)
    before = {r["block"]: r["tokens_per_s"] for r in records if r["trainer"] == TRAINERS[0]}
    for record in records:
        record["x_before"] = record["tokens_per_s"] / before[record["block"]]
    with (out / "trainers.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    lines = [[r["shape"], r["block"], r["trainer"], f"{r['tokens_per_s']:,.0f}", f"{r['x_before']:.2f}",
              f"{r['step_s'] * 1000:.1f}"] for r in records]
    table = markdown_table(["shape", "block", "trainer", "tokens/s", "x before", "step ms"], lines)
    (out / "trainers.md").write_text(table + "\n")
    print("\n" + table)


def write_results(rows: list[dict], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / "results.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    baseline = {r["block"]: r["tokens_per_s"] for r in rows if r["config"] == "baseline"}
    lines = []
    for r in rows:
        speedup = r["tokens_per_s"] / baseline[r["block"]] if baseline.get(r["block"]) else float("nan")
        mfu = f"{r['mfu']:.1%}" if r["mfu"] is not None else "n/a (CPU)"
        lines.append([r["device"], r["shape"], r["block"], r["config"], f"{r['tokens_per_s']:,.0f}", f"{speedup:.2f}",
                      f"{r['tflops']:.3f}", mfu, f"{r['peak_gb']:.2f}"])
    table = markdown_table(["device", "shape", "block", "config", "tokens/s", "x baseline", "TFLOP/s", "MFU",
                            "peak GB"], lines)
    (out / "results.md").write_text(table + "\n")
    print("\n" + table)


if __name__ == "__main__":
    main()

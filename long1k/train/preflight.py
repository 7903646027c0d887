"""Memory arithmetic before the first step: will the chosen configuration fit?

Per rank, mixed-precision AdamW keeps 16 bytes per parameter (bf16 weights 2, bf16 gradients 2,
fp32 master weights 4, Adam moments 8). ZeRO-3 shards all of it over the ranks; offloading moves
the optimizer part (and the weights) to pinned host memory. Activations with gradient checkpointing
keep one bf16 hidden state per layer per token, plus one layer's working set during recomputation;
the fp32 logits (and their gradient) are the other large term at long context, which Liger's fused
cross-entropy avoids.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from long1k.reporting import markdown_table
from long1k.train.model import ModelShape

GB = 1024**3


@dataclass
class MemoryPlan:
    parameters: int
    world_size: int
    ranks_per_node: int
    block_size: int
    gpu_states_gb: float
    gpu_activations_gb: float
    gpu_logits_gb: float
    host_pinned_per_node_gb: float

    @property
    def gpu_total_gb(self) -> float:
        return self.gpu_states_gb + self.gpu_activations_gb + self.gpu_logits_gb + 2.0  # + CUDA context, buffers

    def table(self) -> str:
        rows = [
            ("parameters", f"{self.parameters / 1e9:.2f} B"),
            ("ranks (per node)", f"{self.world_size} ({self.ranks_per_node})"),
            ("block size", f"{self.block_size}"),
            ("GPU: model states per rank", f"{self.gpu_states_gb:.1f} GiB"),
            ("GPU: checkpointed activations + one layer", f"{self.gpu_activations_gb:.1f} GiB"),
            ("GPU: fp32 logits + gradient", f"{self.gpu_logits_gb:.1f} GiB"),
            ("GPU: total per rank (with 2 GiB overhead)", f"{self.gpu_total_gb:.1f} GiB"),
            ("host: pinned memory per node", f"{self.host_pinned_per_node_gb:.1f} GiB"),
        ]
        return markdown_table(["preflight", "estimate"], rows)


def zero_settings(deepspeed: str | dict | None) -> tuple[int, bool, bool]:
    """(ZeRO stage, parameters offloaded, optimizer offloaded) of a DeepSpeed config."""
    if not deepspeed:
        return 0, False, False
    config = deepspeed if isinstance(deepspeed, dict) else json.loads(Path(deepspeed).read_text())
    zero = config.get("zero_optimization", {})
    offloaded = lambda key: zero.get(key, {}).get("device", "none") in ("cpu", "nvme")  # noqa: E731
    return int(zero.get("stage", 0)), offloaded("offload_param"), offloaded("offload_optimizer")


def plan_memory(shape: ModelShape, world_size: int, ranks_per_node: int, block_size: int, deepspeed,
                micro_batch: int = 1, liger: bool = False, gradient_checkpointing: bool = True) -> MemoryPlan:
    p = shape.num_parameters()
    stage, offload_param, offload_optimizer = zero_settings(deepspeed)
    shard = world_size if stage >= 1 else 1
    weights = 2 * p / (world_size if stage >= 3 else 1)
    grads = 2 * p / (world_size if stage >= 2 else 1)
    optimizer = 12 * p / shard
    host = 0.0
    if offload_param:
        host += weights
        weights = 5e8 * 2  # at most stage3_max_live_parameters (5e8) bf16 weights gathered at once
    if offload_optimizer:
        host += optimizer + 2 * grads  # fp32 master + moments, fp32 gradient copy
        optimizer = 0.0
    tokens = micro_batch * block_size
    h, layers = shape.hidden_size, shape.num_hidden_layers
    if gradient_checkpointing:
        activations = layers * tokens * h * 2 + tokens * (16 * h + 6 * shape.intermediate_size) * 2
    else:
        activations = layers * tokens * (16 * h + 6 * shape.intermediate_size) * 2
    logits = 0.0 if liger else tokens * shape.vocab_size * 4 * 2
    return MemoryPlan(p, world_size, ranks_per_node, block_size, (weights + grads + optimizer) / GB,
                      activations / GB, logits / GB, host * ranks_per_node / GB)


def host_memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        return None
    return None


def gpu_memory_gb() -> float | None:
    try:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.get_device_properties(0).total_memory / GB
    except Exception:  # no usable CUDA runtime
        return None
    return None


def verdict(plan: MemoryPlan, gpu_gb: float | None, host_gb: float | None, on_cpu: bool = False) -> list[str]:
    """Human-readable reasons the plan does not fit (empty when it fits). On CPU every rank's
    "GPU" share lives in host memory too."""
    problems = []
    if on_cpu and host_gb is not None:
        needed = plan.gpu_total_gb * plan.ranks_per_node + plan.host_pinned_per_node_gb
        if needed > 0.9 * host_gb:
            problems.append(f"CPU run: about {needed:.0f} GiB of host memory for {plan.ranks_per_node} ranks, the "
                            f"machine has {host_gb:.0f} GiB (lower --block_size or NPROC_PER_NODE)")
        return problems
    if gpu_gb is not None and plan.gpu_total_gb > gpu_gb:
        problems.append(f"needs about {plan.gpu_total_gb:.0f} GiB per GPU, the GPU has {gpu_gb:.0f} GiB "
                        "(use the offload config, Liger kernels, or a smaller --block_size)")
    if host_gb is not None and plan.host_pinned_per_node_gb > 0.9 * host_gb:
        problems.append(f"needs about {plan.host_pinned_per_node_gb:.0f} GiB of pinned host memory per node, "
                        f"the node has {host_gb:.0f} GiB (the original run died of host memory at step 20): use "
                        "more nodes, or --deepspeed z3 (no offload) on GPUs that hold the states")
    return problems

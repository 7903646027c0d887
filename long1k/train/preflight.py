"""Memory arithmetic before the first step: will the chosen configuration fit?

Per rank, mixed-precision AdamW keeps 16 bytes per parameter (bf16 weights 2, bf16 gradients 2,
fp32 master weights 4, Adam moments 8). ZeRO-3 shards all of it over the ranks; offloading moves
the optimizer part (and the weights) to pinned host memory. Activations with gradient checkpointing
keep one bf16 hidden state per layer per token, plus one layer's working set during recomputation.
The loss is TRL's chunked LM head (`SFTTrainer`'s default): it never builds the (tokens x vocabulary)
logits, only a tile of 4,096 tokens x 32,768 vocabulary entries, plus fp32 accumulators for the
gradients of the hidden states and of the gathered LM-head weight. `loss="full"` gives the cost of the
full fp32 logits and their gradient instead (the plain `Trainer`'s loss), for comparison.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

from long1k.reporting import markdown_table
from long1k.train.model import ModelShape

GB = 1024**3
OVERHEAD_GB = 2.0
"""CUDA context, NCCL and allocator buffers per rank."""
LOSS_TILE_TOKENS, LOSS_TILE_VOCAB = 4096, 32768
"""TRL's chunked log-prob tile (trl/kernels/chunked_logprob.py TOKEN_CHUNK_SIZE, trainer/utils.py chunk size)."""
LIVE_PARAMETERS = 5e8
"""The shipped configs' stage3_max_live_parameters: bf16 weights gathered at once under parameter offload."""
LOSSES = ("chunked", "full")


@dataclass(frozen=True)
class Setting:
    """What the estimate depends on, besides the model."""

    world_size: int
    ranks_per_node: int
    tokens: int
    """Tokens in one micro-batch: the longest row times the batch size, or the block when packing."""
    deepspeed: str | dict | None
    gradient_checkpointing: bool = True
    loss: str = "chunked"
    mask_width: int = 0
    """Keys per query of a materialised attention mask (SDPA with packed or padded rows: the packed length, or
    the padded row's); 0 when none is built (flash-attention, or one unpadded row)."""


def training_setting(world_size: int, ranks_per_node: int, longest_row: int, block_size: int, micro_batch: int,
                     packing: bool, attention: str, deepspeed, gradient_checkpointing: bool, loss: str) -> Setting:
    """The largest micro-batch of a run: packed, `micro_batch` blocks joined into one row (TRL's padding-free
    collator); else the longest row padded across the batch. SDPA and eager build a boolean mask for packed
    or padded rows; flash-attention builds none."""
    tokens = (block_size if packing else longest_row) * micro_batch
    builds_mask = attention != "flash_attention_2" and (packing or micro_batch > 1)
    width = (tokens if packing else longest_row) if builds_mask else 0
    return Setting(world_size, ranks_per_node, tokens, deepspeed, gradient_checkpointing, loss, width)


@dataclass
class MemoryPlan:
    parameters: int
    setting: Setting
    gpu_states_gb: float
    gpu_activations_gb: float
    gpu_loss_gb: float
    host_pinned_per_node_gb: float

    @property
    def gpu_total_gb(self) -> float:
        return self.gpu_states_gb + self.gpu_activations_gb + self.gpu_loss_gb + OVERHEAD_GB

    def rows(self) -> list[tuple[str, str]]:
        loss = "LM-head loss, TRL chunked" if self.setting.loss == "chunked" else "fp32 logits + gradient (full)"
        return [
            ("parameters", f"{self.parameters / 1e9:.2f} B"),
            ("ranks (per node)", f"{self.setting.world_size} ({self.setting.ranks_per_node})"),
            ("tokens per micro-batch", f"{self.setting.tokens}"),
            ("GPU: model states per rank", f"{self.gpu_states_gb:.1f} GiB"),
            ("GPU: checkpointed activations + one layer", f"{self.gpu_activations_gb:.1f} GiB"),
            (f"GPU: {loss}", f"{self.gpu_loss_gb:.1f} GiB"),
            (f"GPU: total per rank (with {OVERHEAD_GB:.0f} GiB overhead)", f"{self.gpu_total_gb:.1f} GiB"),
            ("host: pinned memory per node", f"{self.host_pinned_per_node_gb:.1f} GiB"),
        ]

    def table(self) -> str:
        return markdown_table(["preflight", "estimate"], self.rows())

    def record(self) -> dict:
        """The figures for the run's record (run_config.json)."""
        return {"parameters": self.parameters, "world_size": self.setting.world_size,
                "ranks_per_node": self.setting.ranks_per_node, "tokens": self.setting.tokens,
                "loss": self.setting.loss, "gpu_states_gb": round(self.gpu_states_gb, 2),
                "gpu_activations_gb": round(self.gpu_activations_gb, 2), "gpu_loss_gb": round(self.gpu_loss_gb, 2),
                "gpu_total_gb": round(self.gpu_total_gb, 2),
                "host_pinned_per_node_gb": round(self.host_pinned_per_node_gb, 2)}


def zero_settings(deepspeed: str | dict | None) -> tuple[int, bool, bool]:
    """(ZeRO stage, parameters offloaded, optimizer offloaded) of a DeepSpeed config."""
    if not deepspeed:
        return 0, False, False
    config = deepspeed if isinstance(deepspeed, dict) else json.loads(Path(deepspeed).read_text())
    zero = config.get("zero_optimization", {})
    offloaded = lambda key: zero.get(key, {}).get("device", "none") in ("cpu", "nvme")  # noqa: E731
    return int(zero.get("stage", 0)), offloaded("offload_param"), offloaded("offload_optimizer")


def resolve_lm_head_loss(requested: str, on_gpus: bool) -> str:
    """What --lm_head_loss auto means: TRL's chunked head on GPUs, the full logits on CPU (docs/training.md)."""
    if requested != "auto":
        return requested
    return "chunked" if on_gpus else "full"


def loss_bytes(shape: ModelShape, tokens: int, loss: str) -> float:
    if loss == "full":
        return tokens * shape.vocab_size * 4 * 2  # fp32 logits and their gradient
    head = shape.vocab_size * shape.hidden_size
    tile = min(tokens, LOSS_TILE_TOKENS) * min(shape.vocab_size, LOSS_TILE_VOCAB) * 2
    # the gathered bf16 head, its fp32 gradient accumulator and that gradient's bf16 copy (both live at the end
    # of the backward), the fp32 gradient of the hidden states and the saved bf16 hidden states
    return tile + head * (2 + 4 + 2) + tokens * shape.hidden_size * (4 + 2)


def plan_memory(shape: ModelShape, setting: Setting) -> MemoryPlan:
    if setting.loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, not {setting.loss!r}")
    p, world = shape.num_parameters(), setting.world_size
    stage, offload_param, offload_optimizer = zero_settings(setting.deepspeed)
    shard = world if stage >= 1 else 1
    weights = 2 * p / (world if stage >= 3 else 1)
    grads = 2 * p / (world if stage >= 2 else 1)
    optimizer = 12 * p / shard
    host = 0.0
    if offload_param:
        host += weights
        # a parameter is gathered whole, however large: the embedding (vocabulary x hidden) can exceed the cap
        weights = max(LIVE_PARAMETERS, shape.vocab_size * shape.hidden_size) * 2
    if offload_optimizer:
        host += optimizer + 2 * grads  # fp32 master + moments, fp32 gradient copy
        optimizer = 0.0
    tokens = setting.tokens
    h, layers = shape.hidden_size, shape.num_hidden_layers
    layer_working_set = tokens * (16 * h + 6 * shape.intermediate_size) * 2
    if setting.gradient_checkpointing:
        activations = layers * tokens * h * 2 + layer_working_set
    else:
        activations = layers * layer_working_set
    activations += tokens * setting.mask_width  # one boolean per query and key
    return MemoryPlan(p, setting, (weights + grads + optimizer) / GB, activations / GB,
                      loss_bytes(shape, tokens, setting.loss) / GB, host * setting.ranks_per_node / GB)


def fitting_settings(shape: ModelShape, setting: Setting, gpu_gb: float, micro_batch: int,
                     offload_config: str) -> list[str]:
    """Single changes that bring the per-rank estimate under gpu_gb, as flags or environment a user sets."""
    fits = lambda changed: plan_memory(shape, changed).gpu_total_gb <= gpu_gb  # noqa: E731
    found = []
    if setting.loss == "full" and fits(replace(setting, loss="chunked")):
        found.append("--lm_head_loss chunked")
    stage, offload_param, offload_optimizer = zero_settings(setting.deepspeed)
    if not (offload_param and offload_optimizer) and fits(replace(setting, deepspeed=offload_config)):
        found.append("--deepspeed z3_offload")
    if not setting.gradient_checkpointing and fits(replace(setting, gradient_checkpointing=True)):
        found.append("--gradient_checkpointing true")
    tokens = setting.tokens
    while tokens > 256 and not fits(shorter(setting, tokens)):
        tokens //= 2
    if tokens < setting.tokens and fits(shorter(setting, tokens)):
        found.append(f"--block_size {tokens // micro_batch} (longer rows are dropped)")
    if stage >= 1:
        nodes = max(1, setting.world_size // setting.ranks_per_node)
        for factor in (2, 4, 8):
            if fits(replace(setting, world_size=setting.world_size * factor)):
                found.append(f"NNODES={nodes * factor} ({setting.world_size * factor} ranks)")
                break
    return found


def shorter(setting: Setting, tokens: int) -> Setting:
    """The setting with micro-batches of `tokens` tokens (and a mask shortened alike)."""
    width = setting.mask_width * tokens // setting.tokens if setting.mask_width else 0
    return replace(setting, tokens=tokens, mask_width=width)


def host_memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        return None
    return None


def visible_gpu() -> tuple[str, float] | None:
    """(name, GiB) of this rank's GPU (LOCAL_RANK), or None without a usable CUDA device."""
    try:
        import torch

        if torch.cuda.is_available():
            index = int(os.environ.get("LOCAL_RANK", "0")) % torch.cuda.device_count()
            props = torch.cuda.get_device_properties(index)
            return props.name, props.total_memory / GB
    except Exception:  # no usable CUDA runtime
        return None
    return None


def cpu_problem(plan: MemoryPlan, host_gb: float | None) -> str | None:
    """On CPU every rank's "GPU" share lives in host memory too."""
    if host_gb is None:
        return None
    needed = plan.gpu_total_gb * plan.setting.ranks_per_node + plan.host_pinned_per_node_gb
    if needed > 0.9 * host_gb:
        return (f"CPU run: about {needed:.0f} GiB of host memory for {plan.setting.ranks_per_node} ranks, the "
                f"machine has {host_gb:.0f} GiB (lower --block_size or NPROC_PER_NODE)")
    return None


def host_problem(plan: MemoryPlan, host_gb: float | None) -> str | None:
    if host_gb is None or plan.host_pinned_per_node_gb <= 0.9 * host_gb:
        return None
    return (f"needs about {plan.host_pinned_per_node_gb:.0f} GiB of pinned host memory per node, the node has "
            f"{host_gb:.0f} GiB (the original run died of host memory at step 20): use more nodes, or "
            "--deepspeed z3 (no offload) on GPUs that hold the states")


def gpu_refusal(plan: MemoryPlan, gpu: tuple[str, float], suggestions: list[str]) -> str | None:
    """The one line that stops a run whose estimate exceeds the GPU it sees (None when it fits)."""
    name, gpu_gb = gpu
    if plan.gpu_total_gb <= gpu_gb:
        return None
    would_fit = "; would fit: " + ", or ".join(suggestions) if suggestions else "; no single setting here fits"
    return (f"preflight: about {plan.gpu_total_gb:.1f} GiB per rank at {plan.setting.tokens} tokens, the GPU "
            f"({name}) has {gpu_gb:.1f} GiB{would_fit}; --force to go on anyway")

"""`train/sft.py` options: the Trainer's own arguments plus the Long1K ones, with the published defaults.

The defaults follow the published launch script (lr 2e-5, 4 epochs); the released model's trainer
state says lr 1e-5, 5 epochs: `train/recipes/long1k_released.yaml` (docs/training.md: "Two hyperparameter sets").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from transformers import TrainingArguments

from long1k.errors import Long1kError
from long1k.train.data import LOSS_ON

DEEPSPEED_DIR = Path(__file__).resolve().parent / "deepspeed"


def deepspeed_config_path(name_or_path: str) -> Path:
    """A shipped DeepSpeed config by name (z3_offload, z3), or a JSON file."""
    shipped = DEEPSPEED_DIR / f"{name_or_path}.json"
    if shipped.is_file():
        return shipped
    path = Path(name_or_path).expanduser()
    if not path.is_file():
        names = sorted(p.stem for p in DEEPSPEED_DIR.glob("*.json"))
        raise Long1kError(f"{name_or_path}: DeepSpeed config not found (--deepspeed: one of {names} or a JSON file)")
    return path.resolve()


def _help(text: str) -> dict:
    return {"help": text}


@dataclass
class SFTConfig(TrainingArguments):
    # --- Long1K options
    model_name_or_path: str = field(default="Qwen/Qwen2.5-32B-Instruct", metadata=_help(
        "hub id or local folder, or a named random-initialised shape (tiny-qwen2, qwen2.5-1.5b, ...): no download"))
    tokenizer_name: str | None = field(default=None, metadata=_help(
        "tokenizer (default: the model's; 'offline' Qwen2.5 for the named random shapes)"))
    dataset: str = field(default="outputs/long1k", metadata=_help(
        "the --out folder of data/synthesize.py, a json/jsonl/parquet file, or a hub id"))
    dataset_split: str = field(default="train", metadata=_help("split, for a hub dataset"))
    block_size: int = field(default=32768, metadata=_help(
        "longest row in tokens; longer rows are dropped and counted before training, never truncated"))
    packing: bool = field(default=False, metadata=_help(
        "padding-free packing: concatenate rows up to --block_size per micro-batch (changes the number of "
        "optimizer steps, hence off by default)"))
    attn_implementation: str = field(default="auto", metadata=_help(
        "auto (flash_attention_2 when installed on GPU, else sdpa), flash_attention_2, sdpa or eager"))
    resume: bool = field(default=False, metadata=_help("continue from the last checkpoint in --output_dir"))
    preflight: str = field(default="warn", metadata=_help(
        "memory check before loading the model: warn, refuse (exit when it cannot fit) or off"))
    gpu_memory_gb: float | None = field(default=None, metadata=_help(
        "GPU memory per rank for the preflight (default: measured, else 80)"))

    # --- Trainer arguments whose defaults follow the original run (REFERENCE section 3)
    output_dir: str | None = field(default="outputs/sft", metadata=_help("checkpoints, logs, final model"))
    learning_rate: float = field(default=2e-5, metadata=_help("peak learning rate (launch script: 2e-5)"))
    num_train_epochs: float = field(default=4.0, metadata=_help("epochs (launch script: 4)"))
    per_device_train_batch_size: int = field(default=1, metadata=_help("rows per GPU per micro-step"))
    gradient_accumulation_steps: int = field(default=2, metadata=_help("global batch = 8 GPUs x 1 x 2 = 16"))
    lr_scheduler_type: str = field(default="cosine", metadata=_help("learning-rate schedule"))
    warmup_steps: float = field(default=0.05, metadata=_help("warmup: a ratio of all steps when < 1"))
    weight_decay: float = field(default=1e-4, metadata=_help("AdamW weight decay"))
    adam_beta1: float = field(default=0.9, metadata=_help("Adam beta1"))
    adam_beta2: float = field(default=0.95, metadata=_help("Adam beta2"))
    bf16: bool = field(default=True, metadata=_help("bfloat16 mixed precision"))
    gradient_checkpointing: bool = field(default=True, metadata=_help("recompute activations in backward"))
    logging_steps: float = field(default=1, metadata=_help("log every N steps"))
    save_steps: float = field(default=62, metadata=_help("checkpoint every N steps (launch script: 62)"))
    save_total_limit: int | None = field(default=3, metadata=_help("keep at most N checkpoints"))
    remove_unused_columns: bool = field(default=False, metadata=_help("keep position_ids for packing"))
    deepspeed: str | None = field(default="z3_offload", metadata=_help(
        "DeepSpeed config: z3_offload (the paper's: ZeRO-3, parameters and optimizer on the CPU), z3 (no offload), "
        "a JSON file, or '' for none"))
    loss_on: str = field(default="assistant", metadata=_help(
        "which tokens carry loss: assistant (every assistant turn), last_turn (the last assistant turn) or all; "
        "turns are found from the tokenizer's own chat template (assistant_without_end: an ablation that leaves "
        "the end-of-turn token out)"))

    def __post_init__(self):
        # Checked before the Trainer's own set-up, which would fail with a traceback (or start
        # distributed communication) on a bad path.
        if self.deepspeed == "":
            self.deepspeed = None
        if isinstance(self.deepspeed, str):
            self.deepspeed = str(deepspeed_config_path(self.deepspeed))
        if self.loss_on not in LOSS_ON:
            raise Long1kError(f"--loss_on must be one of {', '.join(LOSS_ON)}, not {self.loss_on!r}")
        if self.preflight not in ("warn", "refuse", "off"):
            raise Long1kError(f"--preflight must be warn, refuse or off, not {self.preflight!r}")
        if self.block_size < 1:
            raise Long1kError("--block_size must be positive")
        from accelerate import PartialState

        if PartialState._shared_state and self.accelerator_config is None:
            # Keep the distributed state set up before the config (see run.init_cpu_distributed).
            self.accelerator_config = {"use_configured_state": True}
        super().__post_init__()

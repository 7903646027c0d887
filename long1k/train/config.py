"""`train/sft.py` options: TRL's `SFTConfig` (the Trainer's arguments and TRL's) plus the Long1K ones, with the
published defaults.

The defaults follow the published launch script (lr 2e-5, 4 epochs); the released model's trainer
state says lr 1e-5, 5 epochs: `train/recipes/long1k_released.yaml` (docs/training.md: "Two hyperparameter sets").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from trl import SFTConfig as TRLSFTConfig

from long1k.configs import help_text, one_of, raise_problems
from long1k.errors import Long1kError
from long1k.train.data import LOSS_ON
from long1k.train.preflight import LOSSES as LM_HEAD_LOSSES
from long1k.train.preflight import resolve_lm_head_loss

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



@dataclass
class SFTConfig(TRLSFTConfig):
    # --- Long1K options
    model_name_or_path: str = field(default="Qwen/Qwen2.5-32B-Instruct", metadata=help_text(
        "hub id or local folder, or a named random-initialised shape (tiny-qwen2, qwen2.5-1.5b, ...): no download"))
    tokenizer_name: str | None = field(default=None, metadata=help_text(
        "tokenizer (default: the model's; 'offline' Qwen2.5 for the named random shapes)"))
    dataset: str = field(default="outputs/long1k", metadata=help_text(
        "the --out folder of data/synthesize.py, a json/jsonl/parquet file, or a hub id"))
    dataset_split: str = field(default="train", metadata=help_text("split, for a hub dataset"))
    block_size: int = field(default=32768, metadata=help_text(
        "longest row in tokens; longer rows are dropped and counted before training, never truncated "
        "(TRL's max_length is set from it)"))
    max_length: int | None = field(default=None, metadata=help_text(
        "TRL's name for the row limit, which truncates: use --block_size, which drops and counts instead"))
    packing: bool = field(default=False, metadata=help_text(
        "padding-free packing (TRL's best-fit decreasing): rows share micro-batches of up to --block_size tokens "
        "without attending to each other (changes the number of optimizer steps, hence off by default)"))
    attn_implementation: str = field(default="auto", metadata=help_text(
        "auto (flash_attention_2 when installed on GPU, else sdpa), flash_attention_2, sdpa or eager"))
    resume: bool = field(default=False, metadata=help_text("continue from the last checkpoint in --output_dir"))
    preflight: str = field(default="refuse", metadata=help_text(
        "memory check before loading the model, at the longest row of the data: refuse (stop when a rank's "
        "estimate exceeds its GPU; never on CPU), warn (say so and go on) or off"))
    force: bool = field(default=False, metadata=help_text("go on when the preflight refuses (as --preflight warn)"))
    gpu_memory_gb: float | None = field(default=None, metadata=help_text(
        "GPU memory per rank for the preflight (default: the GPU this rank sees)"))

    # --- Trainer arguments whose defaults follow the original run (REFERENCE section 3)
    output_dir: str | None = field(default="outputs/sft", metadata=help_text("checkpoints, logs, final model"))
    learning_rate: float = field(default=2e-5, metadata=help_text("peak learning rate (launch script: 2e-5)"))
    num_train_epochs: float = field(default=4.0, metadata=help_text("epochs (launch script: 4)"))
    per_device_train_batch_size: int = field(default=1, metadata=help_text("rows per GPU per micro-step"))
    gradient_accumulation_steps: int = field(default=2, metadata=help_text("global batch = 8 GPUs x 1 x 2 = 16"))
    lr_scheduler_type: str = field(default="cosine", metadata=help_text("learning-rate schedule"))
    warmup_steps: float = field(default=0.05, metadata=help_text("warmup: a ratio of all steps when < 1"))
    weight_decay: float = field(default=1e-4, metadata=help_text("AdamW weight decay"))
    adam_beta1: float = field(default=0.9, metadata=help_text("Adam beta1"))
    adam_beta2: float = field(default=0.95, metadata=help_text("Adam beta2"))
    bf16: bool = field(default=True, metadata=help_text("bfloat16 mixed precision"))
    gradient_checkpointing: bool = field(default=True, metadata=help_text("recompute activations in backward"))
    logging_steps: float = field(default=1, metadata=help_text("log every N steps"))
    save_steps: float = field(default=62, metadata=help_text("checkpoint every N steps (launch script: 62)"))
    save_total_limit: int | None = field(default=3, metadata=help_text("keep at most N checkpoints"))
    remove_unused_columns: bool = field(default=False, metadata=help_text(
        "keep the dataset's columns (input_ids, labels)"))
    deepspeed: str | None = field(default="z3_offload", metadata=help_text(
        "DeepSpeed config: z3_offload (the paper's: ZeRO-3, parameters and optimizer on the CPU), z3 (no offload), "
        "a JSON file, or '' for none"))
    lm_head_loss: str = field(default="auto", metadata=help_text(
        "chunked (TRL's fused LM head: never builds the tokens x vocabulary logits), full (the model's own loss over "
        "the full fp32 logits: faster on CPU, docs/training.md) or auto (chunked on GPUs, full on CPU)"))
    loss_on: str = field(default="assistant", metadata=help_text(
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
        problems = (one_of("loss_on", self.loss_on, LOSS_ON) + one_of("lm_head_loss", self.lm_head_loss,
                                                                       ("auto", *LM_HEAD_LOSSES))
                    + one_of("preflight", self.preflight, ("refuse", "warn", "off")))
        if self.block_size < 1:
            problems.append("--block_size must be positive")
        if self.max_length not in (None, self.block_size):
            problems.append("--max_length truncates rows: use --block_size, which drops longer rows and counts them")
        raise_problems(problems)
        self.max_length = self.block_size
        raise_problems(self.trl_options_that_bypass_the_labels())
        from accelerate import PartialState

        if PartialState._shared_state and self.accelerator_config is None:
            # Keep the distributed state set up before the config (see run.init_cpu_distributed).
            self.accelerator_config = {"use_configured_state": True}
        super().__post_init__()

    def trl_options_that_bypass_the_labels(self) -> list[str]:
        """TRL options that would change which tokens carry loss, truncate or join rows, or apply to one LM-head
        loss only: the labels come from --loss_on and the tokenizer's template, rows are whole."""
        refused = [
            (self.packing_strategy != "bfd", f"--packing_strategy {self.packing_strategy} cuts rows or lets them "
             "attend to each other: --packing uses bfd, which keeps every row whole"),
            (self.padding_free and not self.packing, "--padding_free without --packing: use --packing true"),
            (self.assistant_only_loss or self.completion_only_loss is not None,
             "--assistant_only_loss / --completion_only_loss: the tokens carrying loss are chosen by --loss_on"),
            (self.chat_template_path is not None, "--chat_template_path: the labels are computed with the "
             "tokenizer's own template; give a --tokenizer_name whose template you want"),
            (self.loss_type != "nll" and self.resolved_lm_head_loss == "full",
             f"--loss_type {self.loss_type} needs --lm_head_loss chunked (the full-logits loss is plain NLL)"),
        ]
        return [message for is_set, message in refused if is_set]

    @property
    def resolved_lm_head_loss(self) -> str:
        """chunked or full: what --lm_head_loss auto means on this machine."""
        import torch

        return resolve_lm_head_loss(self.lm_head_loss, torch.cuda.is_available())

"""Trainer callbacks: the loss history (CSV + PNG) and the completion mark of checkpoints."""

from __future__ import annotations

from pathlib import Path

from transformers import TrainerCallback

from long1k.reporting import write_csv


class LossHistory(TrainerCallback):
    """Writes loss_history.csv and loss.png into the output folder at the end of training."""

    def __init__(self, output_dir: str):
        self.output_dir = Path(output_dir)

    def on_train_end(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        rows = [(e["step"], e["loss"], e.get("learning_rate"), e.get("epoch")) for e in state.log_history
                if "loss" in e]
        write_csv(self.output_dir / "loss_history.csv", ["step", "loss", "learning_rate", "epoch"], rows)
        if rows:
            plot_loss(rows, self.output_dir / "loss.png", run_name(self.output_dir))


def run_name(output_dir: Path) -> str:
    """A run's name for its figures: its output folder's (outputs/sft/long1k_launch -> long1k_launch)."""
    resolved = output_dir.resolve()
    return resolved.parent.name if resolved.name == "sft" and resolved.parent.name else resolved.name


def plot_loss(rows: list[tuple], path: Path, run: str) -> None:
    from long1k.reporting import figure

    with figure(path, figsize=(7, 4)) as (_, ax):
        ax.plot([r[0] for r in rows], [r[1] for r in rows], marker="." if len(rows) < 50 else None)
        ax.set_xlabel("optimizer step")
        ax.set_ylabel("training loss (tokens carrying loss)")
        ax.set_title(f"{run}: training loss (SFT)")
        ax.grid(alpha=0.3)


COMPLETE_MARK = "long1k_complete.json"
"""Written into checkpoint-N/ once every rank has saved all of it: what --resume trusts."""


class MarkCompleteCheckpoints(TrainerCallback):
    """The Trainer's on_save comes after model, optimizer (every DeepSpeed shard), scheduler, RNG and
    trainer state are written; after a barrier, rank 0 marks the checkpoint complete. (Its kill points
    serve the fault suite: mid-step and between a checkpoint's files and its mark.)"""

    def __init__(self, output_dir: str):
        self.output_dir = Path(output_dir)

    def on_step_end(self, args, state, control, **kwargs):
        from long1k.faults import kill_point

        if state.is_world_process_zero:
            kill_point("train-step-end")

    def on_save(self, args, state, control, **kwargs):
        import json

        from long1k.faults import kill_point
        from long1k.train.ranks import wait_for_every_rank

        wait_for_every_rank()
        if state.is_world_process_zero:
            kill_point("checkpoint-saved-unmarked")
            folder = self.output_dir / f"checkpoint-{state.global_step}"
            if folder.is_dir():
                (folder / COMPLETE_MARK).write_text(json.dumps({"step": state.global_step}) + "\n")

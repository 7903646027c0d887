"""TRL's `SFTTrainer`, with the LM-head loss chosen by `--lm_head_loss`."""

from __future__ import annotations

from trl import SFTTrainer


class Long1kSFTTrainer(SFTTrainer):
    """With `--lm_head_loss full`, the loss is the model's own over the full logits (the plain Trainer's): TRL's
    chunked head has no fast kernel off CUDA, and on 2 CPU cores it slows the mini model by about half
    (docs/training.md); on GPUs the chunked head is what makes 32k rows fit."""

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if self.args.resolved_lm_head_loss == "full":
            return super(SFTTrainer, self).compute_loss(model, inputs, return_outputs=return_outputs,
                                                        num_items_in_batch=num_items_in_batch)
        return super().compute_loss(model, inputs, return_outputs=return_outputs,
                                    num_items_in_batch=num_items_in_batch)

"""Training FLOPs and the time projection of a run.

Per trained token of a causal decoder: 6 x (parameters that multiply activations, i.e. all but the
input embedding) for the forward and backward matmuls, plus 6 x layers x hidden x sequence length
for causal attention (half of the full 12 x l x h x L). For Qwen2.5-32B: 1.92e11 + 1.97e6 x L.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from long1k.train.model import ModelShape

# Dense bf16 peak per GPU (vendor figures, no sparsity), for MFU.
PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0, "B200": 2250.0}


def matmul_parameters(shape: ModelShape) -> int:
    """Parameters used in matrix multiplications: everything but the input embedding table."""
    return shape.num_parameters() - shape.vocab_size * shape.hidden_size * (0 if shape.tie_word_embeddings else 1)


def flops_per_token(shape: ModelShape, sequence_length: int) -> float:
    return 6.0 * matmul_parameters(shape) + 6.0 * shape.num_hidden_layers * shape.hidden_size * sequence_length


def flops_for_rows(shape: ModelShape, lengths: Sequence[int]) -> float:
    """FLOPs of one pass over rows of the given token lengths (attention grows with each row's length)."""
    return sum(length * flops_per_token(shape, length) for length in lengths)


def peak_tflops(device_name: str) -> float | None:
    for key, value in PEAK_BF16_TFLOPS.items():
        if key in device_name.upper():
            return value
    return None


@dataclass
class Projection:
    rows: int
    tokens_per_epoch: int
    epochs: float
    total_flops: float
    gpus: int
    mfu: float
    peak_tflops: float

    @property
    def hours(self) -> float:
        return self.total_flops / (self.gpus * self.mfu * self.peak_tflops * 1e12) / 3600


def project(shape: ModelShape, lengths: Sequence[int], epochs: float, gpus: int, mfu: float,
            peak: float = PEAK_BF16_TFLOPS["H100"]) -> Projection:
    return Projection(len(lengths), int(sum(lengths)), epochs, epochs * flops_for_rows(shape, lengths), gpus, mfu,
                      peak)

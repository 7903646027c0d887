"""Output folders written whole or not at all.

A stage builds its folder in a hidden sibling (`.NAME.partial-PID`) and swaps it in when everything,
the stats and manifests included, is written: a kill at any point leaves either the old complete
folder or the new complete one. The swap is two renames (old aside, new in); a kill between them
leaves the old folder aside as `.NAME.previous-PID`, which the next run puts back before it starts.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

PARTIAL = ".partial-"
PREVIOUS = ".previous-"


def leftovers(out: Path, kind: str) -> list[Path]:
    return sorted(out.parent.glob(f".{out.name}{kind}*")) if out.parent.is_dir() else []


def recover(out: Path) -> None:
    """Clean what a killed writer left: unfinished builds go, a folder set aside comes back."""
    for partial in leftovers(out, PARTIAL):
        shutil.rmtree(partial, ignore_errors=True)
    for previous in leftovers(out, PREVIOUS):
        if out.exists():
            shutil.rmtree(previous, ignore_errors=True)
        else:
            previous.rename(out)


@contextlib.contextmanager
def replaced_folder(out: Path) -> Iterator[Path]:
    """Yield an empty build folder; on success it becomes `out` (replacing what was there)."""
    out = Path(out)
    recover(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    build = out.parent / f".{out.name}{PARTIAL}{os.getpid()}"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir()
    try:
        yield build
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    aside = out.parent / f".{out.name}{PREVIOUS}{os.getpid()}"
    if out.exists():
        out.rename(aside)
    build.rename(out)
    shutil.rmtree(aside, ignore_errors=True)

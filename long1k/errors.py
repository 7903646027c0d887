"""User-facing errors: one exception type, printed without a traceback by the entry scripts."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable


class Long1kError(Exception):
    """A problem with the user's input or environment, explained in the message."""


def close_names(name: str, known, n: int = 3, cutoff: float = 0.6) -> list[str]:
    """The known names nearest to `name` (difflib's ratio at least `cutoff`), nearest first."""
    import difflib

    return difflib.get_close_matches(str(name), [str(k) for k in known], n=n, cutoff=cutoff)


def did_you_mean(name: str, known) -> str:
    """'; did you mean 'x'?' for the closest known names, else the known names (at most 20)."""
    known = sorted(known)
    close = close_names(name, known)
    if close:
        return "; did you mean " + " or ".join(repr(c) for c in close) + "?"
    listed = ", ".join(known[:20]) + (f", ... ({len(known)} in all)" if len(known) > 20 else "")
    return f"; known: {listed}"


def run_main(main: Callable[[list[str] | None], object], argv: list[str] | None = None) -> None:
    """Run an entry point; a Long1kError exits with status 2 and its message, never a traceback."""
    try:
        main(argv)
    except Long1kError as err:
        rank = os.environ.get("RANK", "0")
        # under torchrun a rank may fail alone (a file or a GPU only it touches): each says so, named
        print(f"error: {err}" if rank == "0" else f"error: [rank {rank}] {err}", file=sys.stderr, flush=True)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)

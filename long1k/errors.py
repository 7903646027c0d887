"""User-facing errors: one exception type, printed without a traceback by the entry scripts."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable


class Long1kError(Exception):
    """A problem with the user's input or environment, explained in the message."""


def run_main(main: Callable[[list[str] | None], object], argv: list[str] | None = None) -> None:
    """Run an entry point; a Long1kError exits with status 2 and its message, never a traceback."""
    try:
        main(argv)
    except Long1kError as err:
        if os.environ.get("RANK", "0") == "0":  # under torchrun every rank fails alike: say it once
            print(f"error: {err}", file=sys.stderr, flush=True)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)

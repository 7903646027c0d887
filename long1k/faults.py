"""Testing aid for the fault-injection suite (tests/faults): `LONG1K_KILL_AT=POINT` or `POINT@N` makes
the process SIGKILL itself the first (or N-th) time it reaches `kill_point(POINT)`, as a preemption or
an OOM killer would, at a place a test can name. Unset, a kill point costs one dictionary lookup."""

from __future__ import annotations

import os
import signal
from collections import Counter

KILL_AT = "LONG1K_KILL_AT"
_reached: Counter = Counter()


def kill_point(name: str) -> None:
    wanted = os.environ.get(KILL_AT)
    if not wanted:
        return
    point, _, nth = wanted.partition("@")
    if point != name:
        return
    _reached[name] += 1
    if _reached[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)

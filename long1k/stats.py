"""Small descriptive statistics shared by the reports."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def describe(values: Sequence[float]) -> dict[str, float]:
    """count, total, mean, min, p10, median, p90, max (empty input gives count 0 only)."""
    if len(values) == 0:
        return {"count": 0}
    array = np.asarray(values, dtype=float)
    p10, median, p90 = np.percentile(array, [10, 50, 90])
    return {
        "count": int(array.size),
        "total": int(array.sum()),
        "mean": round(float(array.mean()), 1),
        "min": int(array.min()),
        "p10": round(float(p10), 1),
        "median": round(float(median), 1),
        "p90": round(float(p90), 1),
        "max": int(array.max()),
    }

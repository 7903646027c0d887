"""Tables and figures, written the same way by every stage: markdown for reading, CSV for tools,
PNG through matplotlib's file backend (no display needed, no timestamp in the file)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = [f"| {' | '.join(map(str, header))} |", f"|{'---|' * len(header)}"]
    lines += [f"| {' | '.join(map(str, row))} |" for row in rows]
    return "\n".join(lines)


def data_frame(header: Sequence[str], rows: Sequence[Sequence[Any]]):
    """A pandas table of the rows, for the analyses that read results back."""
    import pandas as pd

    return pd.DataFrame([list(row) for row in rows], columns=list(header), dtype=object)  # 1 stays 1, not 1.0


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data_frame(header, rows).to_csv(path, index=False)
    return path


def write_table(out: Path, stem: str, header: Sequence[str], rows: Sequence[Sequence[Any]],
                csv_rows: Sequence[Sequence[Any]] | None = None, csv_header: Sequence[str] | None = None) -> str:
    """OUT/STEM.md and OUT/STEM.csv (the CSV may carry unformatted values and its own column names);
    returns the markdown."""
    table = markdown_table(header, rows)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.md").write_text(table + "\n")
    write_csv(out / f"{stem}.csv", csv_header or header, rows if csv_rows is None else csv_rows)
    return table


@contextmanager
def figure(path: Path, **subplots: Any) -> Iterator[tuple[Any, Any]]:
    """`with figure(path, figsize=(6, 4)) as (fig, ax): ...` draws, lays out and saves to PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(**{"dpi": 110, **subplots})
    try:
        yield fig, ax
        fig.tight_layout()
        fig.savefig(path, metadata={"Software": None})
    finally:
        plt.close(fig)


def log_x_axis(ax: Any) -> None:
    """A log x axis labelled in plain numbers (20, 30, 50, 100), not 2x10^1."""
    from matplotlib.ticker import LogFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(LogFormatter(labelOnlyBase=False))
    ax.xaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))

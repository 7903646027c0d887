"""Decontamination: the n-gram index of benchmark problems (index.py, a library used by the synthesis
and the builders) and the `decontaminate` stage that scores any dataset against it (stage.py)."""

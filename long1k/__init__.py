"""long1k: open reproduction toolkit for the Long1K paper (length vs difficulty in reasoning SFT)."""

__version__ = "0.1.0"

#!/usr/bin/env python
"""Write the generated offline sources (OpenThoughts / s1K-1.1 / benchmark schemas) to a folder."""

from long1k.errors import run_main
from long1k.fixtures.cli import main

if __name__ == "__main__":
    run_main(main)

#!/usr/bin/env python
"""Write the generated offline sources (OpenThoughts / s1K-1.1 / benchmark schemas) to a folder.

An alias of `python -m long1k make-fixtures`.
"""

from long1k.cli import run_stage

if __name__ == "__main__":
    run_stage("make-fixtures")

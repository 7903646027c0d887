#!/usr/bin/env python
"""Benchmark predictions (vLLM, transformers or an OpenAI-compatible server); see eval/predict.sh.

An alias of `python -m long1k predict`.
"""

from long1k.cli import run_stage

if __name__ == "__main__":
    run_stage("predict")

#!/usr/bin/env python
"""Benchmark predictions (vLLM, transformers or an OpenAI-compatible server); see eval/predict.sh."""

from long1k.errors import run_main
from long1k.generation.predict import main

if __name__ == "__main__":
    run_main(main)

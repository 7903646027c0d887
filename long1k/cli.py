"""One command line for every stage: `python -m long1k STAGE [FLAGS]` (or the `long1k` console
script). Each stage takes `--config RECIPE.yaml` and flags (flags win) and `--help`; the scripts
under data/, train/, eval/ and scripts/ are aliases of these stages."""

from __future__ import annotations

import importlib
import sys

from long1k.errors import run_main

# stage -> (module holding its `main(argv)`, what it does)
STAGES: dict[str, tuple[str, str]] = {
    "env": ("long1k.train.readiness",
            "what this machine has (torch, CUDA, vLLM, DeepSpeed, Liger) and what training will use"),
    "make-fixtures": ("long1k.fixtures.make", "write the generated offline sources (the embedded default)"),
    "tasks": ("long1k.tasks.listing", "list the registered benchmarks and where each is defined"),
    "prepare-benchmarks": ("long1k.tasks.prepare", "normalised benchmark files from the hub, local files or fixtures"),
    "decontaminate": ("long1k.decontamination.stage", "score any dataset's overlap with the benchmarks; report copies"),
    "synthesize": ("long1k.synthesis.run", "build a Long1K set: stitched OpenThoughts pairs + length-filtered s1.1"),
    "train": ("long1k.train.run", "SFT in this process (one rank; under torchrun, one of many)"),
    "launch-train": ("long1k.train.launch", "SFT under torchrun on NPROC_PER_NODE x NNODES processes"),
    "predict": ("long1k.generation.predict", "predictions on the prepared benchmarks (vllm, hf, openai)"),
    "score": ("long1k.scoring.report", "grade predictions and report Table 4 scores"),
    "build-length-levels": ("long1k.experiments.levels", "the same questions at several reasoning lengths"),
    "build-length-vs-difficulty": ("long1k.experiments.designs", "easy composite vs hard single rows, equal length"),
    "sweep": ("long1k.experiments.sweep", "datasets x training x benchmarks x seeds, resumable"),
    "inference-scaling": ("long1k.experiments.inference_scaling",
                          "accuracy vs inference tokens: trained-longer vs budget-forced lines, slopes"),
    "scaling-law": ("long1k.experiments.scaling", "fit accuracy against log length and draw the figure"),
    "analyze-traces": ("long1k.experiments.trace_analysis", "lengths and frequent words of correct vs wrong answers"),
    "grade-difficulty": ("long1k.experiments.difficulty", "pass rate and CV per question; select a training set"),
    "learning-check": ("long1k.experiments.learning_check",
                       "the miniature world through every stage: does the trained model answer held-out problems?"),
    "mini-base": ("long1k.experiments.mini_base",
                  "build (or find in the cache) the mini base model the miniature's fine-tunes start from"),
    "miniature": ("long1k.experiments.miniature",
                  "the paper's experiments in miniature: every arm fine-tuned from the mini base over seeds, verdicts"),
    "offline-tokenizer": ("long1k.tokenizer", "write the offline Qwen2.5 tokenizer as a Hugging Face folder"),
}


def usage() -> str:
    width = max(map(len, STAGES))
    lines = [f"  {name:<{width}}  {summary}" for name, (_, summary) in STAGES.items()]
    return "usage: python -m long1k STAGE [--config RECIPE.yaml] [FLAGS]   (STAGE --help for its flags)\n\n" \
           "stages:\n" + "\n".join(lines)


def run_stage(stage: str, argv: list[str] | None = None) -> None:
    """Run one stage's `main` with Long1kError reported as a one-line error (exit 2)."""
    module = importlib.import_module(STAGES[stage][0])
    run_main(module.main, argv)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return
    stage, rest = argv[0], argv[1:]
    if stage not in STAGES:
        print(f"error: unknown stage {stage!r}\n\n{usage()}", file=sys.stderr)
        sys.exit(2)
    sys.argv = [f"long1k {stage}", *rest]  # so that each stage's --help names itself
    run_stage(stage, rest)

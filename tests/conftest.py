"""Offline, isolated test environment: a private cache for the generated tokenizer and fixtures."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def free_port() -> int:
    """A TCP port nobody listens on now (a fixed torchrun port collides with anything else using it)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def failure_report(done, *logs: Path) -> str:
    """Why a subprocess failed, in its own words: every `error:` line and the first traceback of its output and
    logs (a rank's error comes first, before torchrun's own report), then the output's tail."""
    texts = [done.stdout or "", done.stderr or ""] + [p.read_text(errors="replace") for p in logs if p.is_file()]
    lines = [line for text in texts for line in text.splitlines()]
    errors = [line for line in lines if line.startswith("error: ") or "Error: " in line]
    first_traceback: list[str] = []
    for text in texts:
        if "Traceback (most recent call last)" in text:
            block = text[text.index("Traceback (most recent call last)"):].splitlines()
            first_traceback = block[:60]
            break
    tail = "\n".join(lines[-40:])
    return "\n".join([f"exit status {done.returncode}", *errors[:20], *first_traceback, "--- tail:", tail])


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    cache = tmp_path_factory.mktemp("long1k_cache")
    os.environ["LONG1K_CACHE"] = str(cache)
    os.environ["HF_DATASETS_CACHE"] = str(tmp_path_factory.mktemp("hf_datasets"))
    return cache


@pytest.fixture(scope="session")
def tokenizer(private_cache):
    from long1k.tokenizer import load_tokenizer

    return load_tokenizer()


@pytest.fixture(scope="session")
def fixtures_dir(private_cache):
    from long1k.fixtures import default_fixtures_dir

    return default_fixtures_dir()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, tokenizer) -> Path:
    """A randomly initialised tiny Qwen2 model folder with the offline tokenizer (for generation tests)."""
    from long1k.train.model import build_random_model

    folder = tmp_path_factory.mktemp("tiny") / "tiny-model"
    build_random_model("tiny-qwen2", seed=0).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@dataclass
class LearnedMini:
    """The learning check's run: the mini model trained through the real stages, and its hf predictions."""

    out: Path
    problems: list[str]

    @property
    def model(self) -> Path:
        return self.out / "sft" / "final"

    @property
    def benchmarks(self) -> Path:
        return self.out / "benchmarks"

    @property
    def predictions(self) -> Path:
        return self.out / "predictions"


@pytest.fixture(scope="session")
def learned_mini(tmp_path_factory, private_cache) -> LearnedMini:
    """One learning check per test session (about 4 minutes), shared by its test and the real-engine tests."""
    from long1k.experiments.learning_check import LearningCheckConfig, learning_check

    out = tmp_path_factory.mktemp("learning_check") / "check"
    return LearnedMini(out, learning_check(LearningCheckConfig(out=str(out))))


def real_benchmark_sources(aime24: str = "aime24_qwen25math.jsonl", aime25: str = "aime25_qwq.jsonl") -> list[str]:
    """--source values for the real benchmark files in ../shared/benchmarks (present in CI, never committed)."""
    real = SHARED / "benchmarks"
    return [f"math500={real / 'math500' / 'math500_hf_schema.jsonl'}", f"aime24={real / 'aime24' / aime24}",
            f"aime25={real / 'aime25' / aime25}", f"gpqa_diamond={real / 'gpqa_diamond' / 'gpqa_diamond_original.csv'}"]

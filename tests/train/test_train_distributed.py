"""`train/sft.sh` for real on CPU: torchrun with 2 processes, DeepSpeed ZeRO-3 with parameter and
optimizer offload (gloo, the DeepSpeed CPU accelerator), the tiny random Qwen2 model, fixture data."""

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from long1k.synthesis.config import SynthesisConfig
from long1k.synthesis.run import synthesize

REPO = Path(__file__).resolve().parents[2]
STEPS, SAVE_AT = 8, 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sft(data: Path, out: Path, *flags: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, NPROC_PER_NODE="2", DS_ACCELERATOR="cpu", MASTER_PORT=str(free_port()),
               RECIPE=str(REPO / "train" / "recipes" / "tiny_cpu.yaml"), DATA=str(data), OUTPUT_DIR=str(out))
    common = ["--max_steps", str(STEPS), "--save_steps", str(SAVE_AT), "--learning_rate", "5e-3",
              "--block_size", "1024"]
    return subprocess.run(["bash", str(REPO / "train" / "sft.sh"), *common, *flags], env=env,
                          capture_output=True, text=True, timeout=1200)


def log_history(out: Path) -> dict[int, dict]:
    state = json.loads((out / f"checkpoint-{STEPS}" / "trainer_state.json").read_text())
    return {entry["step"]: entry for entry in state["log_history"] if "loss" in entry}


@pytest.fixture(scope="module")
def data(tmp_path_factory, fixtures_dir) -> Path:
    out = tmp_path_factory.mktemp("sft_data") / "long1k"
    # Short rows (a few hundred tokens) and a few that exceed the 1024-token block, to be dropped.
    synthesize(SynthesisConfig(out=str(out), num_samples=8, s1_share=0.25, s1_min_tokens=0, s1_max_tokens=3000,
                               pair_max_tokens=700))
    return out


@pytest.fixture(scope="module")
def full_run(tmp_path_factory, data) -> Path:
    out = tmp_path_factory.mktemp("sft") / "full"
    result = sft(data, out)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return out


def test_loss_falls_on_the_repeated_batches(full_run):
    losses = [entry["loss"] for _, entry in sorted(log_history(full_run).items())]
    assert len(losses) == STEPS
    assert losses[-1] < 0.9 * losses[0]
    assert (full_run / "loss.png").is_file() and (full_run / "loss_history.csv").is_file()


def test_run_config_records_the_run(full_run, data):
    record = json.loads((full_run / "run_config.json").read_text())
    assert record["world_size"] == 2
    assert record["deepspeed"]["zero_optimization"]["stage"] == 3
    assert record["deepspeed"]["zero_optimization"]["offload_optimizer"]["device"] == "cpu"
    assert record["data"]["rows_read"] == 8
    assert record["data"]["dropped_over_block_size"] >= 1  # the s1.1 rows are longer than 1024 tokens
    assert record["data"]["rows_used"] + record["data"]["dropped_over_block_size"] == 8
    assert record["versions"]["deepspeed"] and record["data"]["manifest_sha256"]
    log = (full_run / "train-node0.log").read_text()
    assert "dropped (longer than --block_size 1024)" in log


def test_interrupted_run_resumes_like_an_uninterrupted_one(full_run, data, tmp_path):
    out = tmp_path / "interrupted"
    crashed = sft(data, out, "--interrupt_after_step", str(SAVE_AT))
    assert crashed.returncode != 0
    assert (out / f"checkpoint-{SAVE_AT}").is_dir() and not (out / "final").exists()
    again = sft(data, out)  # without --resume the folder is refused
    assert again.returncode != 0 and "holds another run; pass --resume" in again.stdout + again.stderr
    resumed = sft(data, out, "--resume", "true")
    assert resumed.returncode == 0, resumed.stdout[-4000:] + resumed.stderr[-4000:]
    reference, continued = log_history(full_run), log_history(out)
    assert sorted(continued) == list(range(1, STEPS + 1))
    for step in range(SAVE_AT + 1, STEPS + 1):
        assert continued[step]["learning_rate"] == pytest.approx(reference[step]["learning_rate"], rel=1e-9)
        assert continued[step]["loss"] == pytest.approx(reference[step]["loss"], rel=1e-3)


def test_saved_model_loads_and_generates(full_run):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(full_run / "final")
    tokenizer = AutoTokenizer.from_pretrained(full_run / "final")
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "What is 2+2?"}], add_generation_prompt=True,
                                           return_tensors="pt", return_dict=True)
    with torch.no_grad():
        output = model.generate(**prompt, max_new_tokens=5, do_sample=False)
    assert output.shape[1] == prompt["input_ids"].shape[1] + 5

"""`train/sft.sh` for real on CPU: torchrun with 2 processes, DeepSpeed ZeRO-3 with parameter and
optimizer offload (gloo, the DeepSpeed CPU accelerator), the tiny random Qwen2 model, fixture data."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import failure_report, free_port

from long1k.synthesis.config import SynthesisConfig
from long1k.synthesis.run import synthesize

REPO = Path(__file__).resolve().parents[2]
STEPS, SAVE_AT = 8, 4


COMMON = ["--max_steps", str(STEPS), "--save_steps", str(SAVE_AT), "--learning_rate", "5e-3", "--block_size", "1024"]


def sft(data: Path, out: Path, *flags: str, kill_at: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, NPROC_PER_NODE="2", DS_ACCELERATOR="cpu", MASTER_PORT=str(free_port()),
               RECIPE=str(REPO / "train" / "recipes" / "tiny_cpu.yaml"), DATA=str(data), OUTPUT_DIR=str(out))
    if kill_at:
        env["LONG1K_KILL_AT"] = kill_at
    return subprocess.run(["bash", str(REPO / "train" / "sft.sh"), *COMMON, *flags], env=env,
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
def benchmarks(tmp_path_factory, fixtures_dir) -> Path:
    from long1k.tasks.prepare import PrepareConfig, prepare_benchmarks

    folder = tmp_path_factory.mktemp("bench") / "benchmarks"
    prepare_benchmarks(PrepareConfig(out=str(folder), fixtures=True))
    return folder


@pytest.fixture(scope="module")
def full_run(tmp_path_factory, data) -> Path:
    out = tmp_path_factory.mktemp("sft") / "full"
    result = sft(data, out)
    assert result.returncode == 0, failure_report(result, out / "train-node0.log")
    return out


def test_loss_falls_on_the_repeated_batches(full_run):
    losses = [entry["loss"] for _, entry in sorted(log_history(full_run).items())]
    assert len(losses) == STEPS
    assert losses[-1] < 0.9 * losses[0]
    assert (full_run / "loss.png").is_file() and (full_run / "loss_history.csv").is_file()


def test_trl_chunked_loss_under_zero3_equals_the_full_logits_loss(full_run, data, tmp_path):
    """tiny_cpu.yaml trains with TRL's chunked LM head (its weight gathered under ZeRO-3 across the 2 ranks); the
    same 8 steps with the full fp32 logits log the same losses and gradient norms."""
    out = tmp_path / "full_logits"
    result = sft(data, out, "--lm_head_loss", "full")
    assert result.returncode == 0, failure_report(result, out / "train-node0.log")
    chunked, full = log_history(full_run), log_history(out)
    assert sorted(chunked) == sorted(full) == list(range(1, STEPS + 1))
    for step in chunked:
        assert chunked[step]["loss"] == pytest.approx(full[step]["loss"], rel=1e-4)
        assert chunked[step]["grad_norm"] == pytest.approx(full[step]["grad_norm"], rel=1e-3)
    assert "loss: chunked LM head" in (full_run / "train-node0.log").read_text()
    assert "loss: full LM head" in (out / "train-node0.log").read_text()


def test_run_config_records_the_run(full_run, data):
    record = json.loads((full_run / "run_config.json").read_text())
    assert record["world_size"] == 2
    assert record["deepspeed"]["zero_optimization"]["stage"] == 3
    assert record["deepspeed"]["zero_optimization"]["offload_optimizer"]["device"] == "cpu"
    assert record["data"]["rows_read"] == 8
    assert record["data"]["dropped_over_block_size"] >= 1  # the s1.1 rows are longer than 1024 tokens
    assert record["data"]["rows_used"] + record["data"]["dropped_over_block_size"] == 8
    assert record["versions"]["deepspeed"] and record["versions"]["trl"] and record["data"]["manifest_sha256"]
    assert {"token_ids_sha256", "labels_sha256", "tokenizer_sha256"} <= set(record["data"])
    assert record["preflight"]["loss"] == "chunked" and record["preflight"]["gpu_total_gb"] > 0
    log = (full_run / "train-node0.log").read_text()
    assert "dropped (longer than --block_size 1024)" in log


def assert_continues_the_reference(reference_run: Path, out: Path) -> None:
    """Every step logged once, and steps after the checkpoint with the reference's learning rate and loss."""
    reference, continued = log_history(reference_run), log_history(out)
    assert sorted(continued) == list(range(1, STEPS + 1))
    for step in range(SAVE_AT + 1, STEPS + 1):
        assert continued[step]["learning_rate"] == pytest.approx(reference[step]["learning_rate"], rel=1e-9)
        assert continued[step]["loss"] == pytest.approx(reference[step]["loss"], rel=1e-3)


def test_sweep_killed_mid_step_and_mid_save_resumes_and_an_edit_reruns_only_what_changed(full_run, data, tmp_path,
                                                                                         benchmarks):
    """A sweep whose training is SIGKILLed at step 6 (after the complete checkpoint of step 4), then, on
    the rerun, between writing checkpoint-8 and marking it complete: each rerun resumes the training by
    itself from checkpoint-4 (checkpoint-8 named and skipped) and it ends exactly where an uninterrupted
    run ends; an edited predict setting then reruns predict and score only."""
    recipe = {"out": str(tmp_path / "sweep"), "datasets": {"d": str(data)},
              "training": {"t": {"recipe": str(REPO / "train" / "recipes" / "tiny_cpu.yaml"),
                                 "flags": {"max_steps": STEPS, "save_steps": SAVE_AT, "learning_rate": "5e-3",
                                           "block_size": 1024}}},
              "benchmarks": ["math500"], "seeds": [1],
              "predict": {"backend": "hf", "max_tokens": 4, "limit": 2, "benchmarks_dir": str(benchmarks)},
              "env": {"NPROC_PER_NODE": 2, "DS_ACCELERATOR": "cpu"}}

    def sweep(kill_at: str | None = None, **predict) -> subprocess.CompletedProcess:
        path = tmp_path / "recipe.yaml"
        path.write_text(yaml.safe_dump({**recipe, "predict": {**recipe["predict"], **predict}}))
        env = dict(os.environ, MASTER_PORT=str(free_port()))
        if kill_at:
            env["LONG1K_KILL_AT"] = kill_at
        return subprocess.run([sys.executable, "-m", "long1k", "sweep", str(path)], env=env, capture_output=True,
                              text=True, timeout=1200)

    sft_dir = tmp_path / "sweep" / "runs" / "d__t" / "sft"
    killed = sweep(kill_at="train-step-end@6")
    assert killed.returncode != 0 and (sft_dir / f"checkpoint-{SAVE_AT}" / "long1k_complete.json").is_file()
    assert not (sft_dir / f"checkpoint-{STEPS}").exists() and not (sft_dir / "final").exists()
    # the folder holds a run: the train stage without --resume refuses it, before starting any worker
    again = subprocess.run([sys.executable, "-m", "long1k", "train", "--config", str(REPO / "train" / "recipes" /
                            "tiny_cpu.yaml"), "--dataset", str(data), "--output_dir", str(sft_dir), *COMMON],
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "holds another run; pass --resume" in again.stderr
    killed = sweep(kill_at="checkpoint-saved-unmarked@1")
    assert killed.returncode != 0 and (sft_dir / f"checkpoint-{STEPS}").is_dir()
    assert not (sft_dir / f"checkpoint-{STEPS}" / "long1k_complete.json").exists()
    resumed = sweep()
    assert resumed.returncode == 0, failure_report(resumed, sft_dir / "train-node0.log")
    assert "killed while running: resumed with --resume true" in resumed.stdout
    assert f"skipping {sft_dir / f'checkpoint-{STEPS}'}: incomplete" in resumed.stdout
    assert_continues_the_reference(full_run, sft_dir)
    scores = tmp_path / "sweep" / "runs" / "d__t" / "scores" / "results.json"
    assert scores.is_file()
    edited = sweep(max_tokens=6)
    assert edited.returncode == 0, failure_report(edited, sft_dir / "train-node0.log")
    assert edited.stdout.count("settings changed since it ran") == 2 and "train: " in edited.stdout
    assert "launch-train" in next(line for line in edited.stdout.splitlines() if "(done)" in line and "train" in line)
    rows = [json.loads(line) for p in (scores.parent.parent / "predictions").rglob("*.jsonl")
            for line in p.read_text().splitlines()]
    assert len(rows) == 2 and {r["response_tokens"] for r in rows} <= set(range(7))


def test_user_errors_are_one_line_and_help_starts_nothing(data, tmp_path):
    bad = sft(tmp_path / "no-such-data", tmp_path / "bad")
    text = bad.stdout + bad.stderr
    assert bad.returncode == 2, text[-3000:]
    assert text.count("error: ") == 1 and "training data folder not found" in text and "Traceback" not in text
    shown = subprocess.run(["bash", str(REPO / "train" / "sft.sh"), "--help"], capture_output=True, text=True,
                           env=dict(os.environ, OUTPUT_DIR=str(tmp_path / "help")), timeout=120)
    assert shown.returncode == 0 and "--learning_rate" in shown.stdout
    assert not (tmp_path / "help").exists()  # no worker started, no log written


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

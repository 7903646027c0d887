"""The openai backend against servers as they fail: 5xx, dropped connections, malformed replies, a dead
server among several, refusals, Ctrl-C; exact per-sample token counts; served model names."""

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from fake_server import FakeServer, dead_url, fake_completion

from long1k.errors import Long1kError
from long1k.generation.predict import PredictConfig, predict
from long1k.generation.sampling import Request, Sampling
from long1k.generation.server import Transient, parse_completion
from long1k.tasks.prepare import PrepareConfig, prepare_benchmarks


@pytest.fixture(scope="module")
def benchmarks(tmp_path_factory, fixtures_dir) -> Path:
    folder = tmp_path_factory.mktemp("bench")
    prepare_benchmarks(PrepareConfig(out=str(folder), fixtures=True))
    return folder


def served(tiny_model, benchmarks, out, urls, **overrides) -> PredictConfig:
    options = {"model": "served", "tokenizer": str(tiny_model), "backend": "openai", "base_urls": list(urls),
               "benchmarks_dir": str(benchmarks), "out": str(out), "max_tokens": 50, "limit": 3, "n_samples": 2,
               "seeds": [1, 2], "benchmarks": ["math500", "gpqa_diamond"], "retry_backoff": 0.01, "max_retries": 3}
    options.update(overrides)
    return PredictConfig(**options)


def rows_of(paths) -> list[dict]:
    return [json.loads(line) for path in paths for line in Path(path).read_text().splitlines()]


def test_a_run_through_a_misbehaving_server_has_every_sample_exactly_once(tiny_model, benchmarks, tmp_path):
    # faults spaced out so that no request meets more than --max_retries of them
    faults = {2: "503", 5: "drop", 9: "not_json", 13: "no_choices", 17: "abort", 21: "500", 25: "503", 29: "drop"}
    with FakeServer(faults) as server:
        paths = predict(served(tiny_model, benchmarks, tmp_path / "p", [server.url, dead_url()],
                               server_concurrency=2))
        bodies = server.bodies
    rows = rows_of(paths)
    keys = Counter((r["benchmark"], r["seed"], str(r["id"]), r["sample"]) for r in rows)
    assert len(keys) == 2 * 2 * 3 * 2 and set(keys.values()) == {1}  # benchmarks x seeds x problems x samples
    assert len(bodies) == len(rows) + len(faults)  # every fault retried once, nothing sent twice otherwise
    assert all(b["n"] == 1 for b in bodies)
    # exact lengths: the server's token ids for this very sample, not an average over samples
    assert all((r["response"], r["response_tokens"]) == fake_completion(r["prompt"], r["sample_seed"], 50, [])[::2]
               for r in rows)


@pytest.mark.parametrize("fault, message", [
    ("503", r"request \d+ failed 4 times, last: HTTP 503: fault 503"),
    ("not_json", r"failed 4 times, last: malformed reply \(not JSON\)"),
    ("400", "the server refused the request: HTTP 400: fault 400"),
])
def test_faults_that_persist_end_the_run_with_one_line(tiny_model, benchmarks, tmp_path, fault, message):
    with FakeServer(dict.fromkeys(range(1, 100), fault)) as server, pytest.raises(Long1kError, match=message) as err:
        predict(served(tiny_model, benchmarks, tmp_path / "p", [server.url], server_concurrency=1))
    assert "\n" not in str(err.value)


def test_no_server_left_and_bad_urls(tiny_model, benchmarks, tmp_path):
    with pytest.raises(Long1kError, match="no server left"):
        predict(served(tiny_model, benchmarks, tmp_path / "p", [dead_url(), dead_url()]))
    with pytest.raises(Long1kError, match="not an http"):
        predict(served(tiny_model, benchmarks, tmp_path / "p", ["localhost:8000/v1"]))


def test_served_model_name_finds_its_tokenizer_on_the_server(tiny_model, benchmarks, tmp_path):
    with FakeServer(root=str(tiny_model), max_model_len=4096) as server:
        (path, *_) = predict(served(tiny_model, benchmarks, tmp_path / "p", [server.url], tokenizer=None))
    manifest = json.loads((path.parent / "run_manifest.shard0.json").read_text())
    assert manifest["settings"]["tokenizer"] == str(tiny_model) and manifest["context"] == 4096
    with FakeServer(root="/nowhere/weights") as server, pytest.raises(Long1kError, match="pass --tokenizer"):
        predict(served(tiny_model, benchmarks, tmp_path / "q", [server.url], tokenizer=None))
    with FakeServer() as server, pytest.raises(Long1kError, match="--hf-overrides"):
        predict(served(tiny_model, benchmarks, tmp_path / "r", [server.url], max_model_len=40960,
                       rope_scaling='{"rope_type": "yarn", "factor": 2.0}'))


def test_token_counts_without_token_ids():
    def count(text):
        return 99

    reply = {"choices": [{"text": "a b", "finish_reason": "stop"}], "usage": {"completion_tokens": 3}}
    assert parse_completion(reply, count).tokens == 3  # one sample per request: usage is that sample's
    reply.pop("usage")
    assert parse_completion(reply, count).tokens == 99  # else the tokenizer on the text
    for bad in ({"choices": []}, {"choices": [{"finish_reason": "stop"}]}, [1, 2], {"choices": [{"text": 1}]}):
        with pytest.raises(Transient, match="malformed reply"):
            parse_completion(bad, count)


def test_server_sampling_is_explicit_and_seeds_are_per_sample():
    from long1k.generation.server import completion_request

    body = completion_request("m", Request("p", 42_000_003, Sampling(0.6, 0.95, max_tokens=100)))
    assert body == {"model": "m", "prompt": "p", "n": 1, "temperature": 0.6, "top_p": 0.95, "top_k": 0, "min_p": 0.0,
                    "repetition_penalty": 1.0, "max_tokens": 100, "seed": 42_000_003, "stop": [],
                    "skip_special_tokens": False, "return_token_ids": True}


def test_ctrl_c_returns_promptly_and_keeps_what_was_written(tiny_model, benchmarks, tmp_path):
    out = tmp_path / "p"
    with FakeServer({3: "hang"}) as server:
        command = [sys.executable, "-m", "long1k", "predict", "--backend", "openai", "--model", "served",
                   "--tokenizer", str(tiny_model), "--base_urls", server.url, "--benchmarks_dir", str(benchmarks),
                   "--out", str(out), "--benchmarks", "math500", "--limit", "3", "--max_tokens", "50",
                   "--server_concurrency", "1"]
        process = subprocess.Popen(command, env={**os.environ, "HF_HUB_OFFLINE": "1"}, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        path = out / "served" / "math500_seed42.jsonl"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (path.is_file() and len(path.read_text().splitlines()) >= 2):
            assert process.poll() is None, process.communicate()
            time.sleep(0.1)
        time.sleep(0.3)  # the third request is now hanging on the server
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
        waited = time.monotonic() - started
    assert process.returncode == 130 and "interrupted" in stderr
    assert waited < 5, f"Ctrl-C took {waited:.1f} s"
    assert len([json.loads(line) for line in path.read_text().splitlines()]) == 2

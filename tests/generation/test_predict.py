"""eval/predict.py: the hf backend on a tiny model, resume after a kill, the context guard, the vLLM
argument construction, the OpenAI-compatible backend against a local server, templates."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import yaml

from long1k.errors import Long1kError
from long1k.generation.backends import (
    EngineSettings,
    OpenAIBackend,
    Sampling,
    make_backend,
    vllm_engine_kwargs,
    vllm_sampling_kwargs,
)
from long1k.generation.predict import PredictConfig, check_context, predict
from long1k.generation.prompts import TEMPLATES, load_template
from long1k.prepare import PrepareConfig, prepare_benchmarks
from long1k.scoring.report import ScoreConfig, score

FIELDS = {"benchmark", "id", "sample", "seed", "prompt", "response", "answer", "finish_reason", "response_tokens"}


@pytest.fixture(scope="module")
def benchmarks(tmp_path_factory, fixtures_dir) -> Path:
    folder = tmp_path_factory.mktemp("bench")
    prepare_benchmarks(PrepareConfig(out=str(folder), fixtures=True))
    return folder


def config(tiny_model, benchmarks, out, **overrides) -> PredictConfig:
    options = {"model": str(tiny_model), "backend": "hf", "benchmarks_dir": str(benchmarks), "out": str(out),
               "max_tokens": 6, "limit": 2, "seeds": [1, 2], "benchmarks": ["math500", "gpqa_diamond"]}
    options.update(overrides)
    return PredictConfig(**options)


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_hf_predictions_resume_and_score(tiny_model, benchmarks, tmp_path):
    paths = predict(config(tiny_model, benchmarks, tmp_path / "p", n_samples=2))
    assert len(paths) == 4  # 2 benchmarks x 2 seeds
    rows = read(paths[0])
    assert len(rows) == 4 and all(set(r) >= FIELDS for r in rows)  # 2 problems x 2 samples
    assert {r["finish_reason"] for r in rows} <= {"stop", "length"}
    manifest = json.loads((tmp_path / "p" / "tiny-model" / "run_manifest.shard0.json").read_text())
    assert manifest["template"]["name"] == "deepseek-qwen" and manifest["config"]["temperature"] == 0.95

    # A killed run: the last row torn mid-write, another never written. The rerun fills in only those.
    lines = paths[0].read_text().splitlines()
    paths[0].write_text("\n".join(lines[:2]) + "\n" + lines[2][:40])
    predict(config(tiny_model, benchmarks, tmp_path / "p", n_samples=2))
    again = read(paths[0])  # every line whole again
    assert sorted((r["id"], r["sample"]) for r in again) == sorted((r["id"], r["sample"]) for r in rows)
    size = paths[1].stat().st_size
    predict(config(tiny_model, benchmarks, tmp_path / "p", n_samples=2))
    assert paths[1].stat().st_size == size  # nothing left to do

    results = score(ScoreConfig(predictions=[str(tmp_path / "p")], out=str(tmp_path / "s")))["rule"]
    assert set(results["tiny-model"]) == {"math500", "gpqa_diamond"}
    assert results["tiny-model"]["math500"]["samples_per_question"] == 4  # 2 seeds x 2 samples


def test_context_guard():
    cfg = PredictConfig(max_tokens=35768, max_model_len=40960)
    with pytest.raises(Long1kError, match="exceeds the model's native context 32768"):
        check_context(cfg, 500, native=32768)
    cfg.rope_scaling = '{"rope_type": "yarn", "factor": 2.0, "original_max_position_embeddings": 32768}'
    assert check_context(cfg, 500, native=32768) == 40960
    with pytest.raises(Long1kError, match="exceeds the context 32768"):
        check_context(PredictConfig(max_tokens=32500), 500, native=32768)


def test_vllm_arguments():
    settings = EngineSettings(model="m", tensor_parallel_size=2, gpu_memory_utilization=0.85, max_model_len=32768,
                              rope_scaling={"rope_type": "yarn", "factor": 2.0})
    engine = vllm_engine_kwargs(settings, seed=42)
    assert engine == {"model": "m", "tokenizer": "m", "tensor_parallel_size": 2, "gpu_memory_utilization": 0.85,
                      "dtype": "auto", "seed": 42, "trust_remote_code": False, "max_model_len": 32768,
                      "hf_overrides": {"rope_scaling": {"rope_type": "yarn", "factor": 2.0}}}
    assert vllm_sampling_kwargs(Sampling(0.95, 1.0, 35768, 1, 42)) == {
        "n": 1, "temperature": 0.95, "top_p": 1.0, "max_tokens": 35768, "seed": 42, "skip_special_tokens": False}
    with pytest.raises(Long1kError, match="needs vLLM"):
        make_backend("vllm", settings, 42)
    with pytest.raises(Long1kError, match="unknown backend"):
        make_backend("tgi", settings, 42)


class FakeCompletions(BaseHTTPRequestHandler):
    seen: list = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeCompletions.seen.append((self.server.server_port, body))
        reply = {"choices": [{"index": i, "text": f"\\boxed{{{i}}}", "finish_reason": "length" if i else "stop"}
                             for i in range(body["n"])], "usage": {"completion_tokens": 3 * body["n"]}}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_openai_backend_spreads_prompts_over_servers():
    servers = [HTTPServer(("127.0.0.1", 0), FakeCompletions) for _ in range(2)]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    try:
        urls = tuple(f"http://127.0.0.1:{s.server_port}/v1" for s in servers)
        backend = OpenAIBackend(EngineSettings(model="served", base_urls=urls), seed=0)
        out = backend.generate(["p0", "p1", "p2", "p3"], Sampling(0.6, 0.95, 100, 2, 7))
    finally:
        for server in servers:
            server.shutdown()
    assert [[g.text for g in samples] for samples in out] == [["\\boxed{0}", "\\boxed{1}"]] * 4
    assert [g.finish_reason for g in out[0]] == ["stop", "length"] and out[0][0].tokens == 3
    ports = {port for port, _ in FakeCompletions.seen}
    assert ports == {s.server_port for s in servers}
    assert all(body["seed"] == 7 and body["top_p"] == 0.95 and body["model"] == "served"
               for _, body in FakeCompletions.seen)


def test_templates(tmp_path, tokenizer):
    prompt = TEMPLATES["deepseek-qwen"].render(tokenizer, "What is 1+1?", "latex")
    assert "<|begin_of_thought|>" in prompt and prompt.endswith("<|im_start|>assistant\n")
    assert "\\boxed{}" in prompt
    assert TEMPLATES["s1"].render(tokenizer, "Q", "letter").endswith("<|im_start|>assistant\n<|im_start|>think\n")
    custom = tmp_path / "mine.yaml"
    custom.write_text(yaml.safe_dump({"system": "Be brief.", "user": "Problem: {problem}\n{instruction}",
                                      "instructions": {"letter": "Letter only."}}))
    template = load_template(str(custom))
    assert template.messages("Q?", "letter") == [{"role": "system", "content": "Be brief."},
                                                 {"role": "user", "content": "Problem: Q?\nLetter only."}]
    (tmp_path / "bad.yaml").write_text("user: no placeholder\n")
    with pytest.raises(Long1kError, match="must contain"):
        load_template(str(tmp_path / "bad.yaml"))


def test_auto_template_follows_the_format_the_model_was_trained_on(tiny_model, benchmarks, tmp_path):
    import shutil

    from long1k.formats import TRAINING_RECORD

    model = tmp_path / "s1-model"
    shutil.copytree(tiny_model, model)
    (model / TRAINING_RECORD).write_text(json.dumps({"reasoning_format": "s1"}))
    (path,) = predict(PredictConfig(model=str(model), backend="hf", benchmarks_dir=str(benchmarks),
                                    out=str(tmp_path / "p"), max_tokens=4, limit=1, seeds=[1], benchmarks=["math500"]))
    manifest = json.loads((tmp_path / "p" / "s1-model" / "run_manifest.shard0.json").read_text())
    assert manifest["template"]["name"] == "s1"
    assert read(path)[0]["prompt"].endswith("<|im_start|>assistant\n<|im_start|>think\n")

"""Seeds per sample, disjoint across run seeds on every backend, and one sampling definition sent
whole to each of them (the model's generation_config.json decides nothing)."""

import json
import shutil
import sys
from pathlib import Path

import pytest
from fake_server import FakeServer

from long1k.errors import Long1kError
from long1k.generation.backends import EngineSettings, HFBackend, hf_generation_config, vllm_sampling_kwargs
from long1k.generation.predict import PredictConfig, predict
from long1k.generation.sampling import Request, Sampling, sample_seed
from long1k.generation.server import completion_request
from long1k.tasks.prepare import PrepareConfig, prepare_benchmarks

SAMPLING = Sampling(0.6, top_p=0.95, top_k=20, min_p=0.05, repetition_penalty=1.05, max_tokens=8, stop=("END",))


@pytest.fixture(scope="module")
def benchmarks(tmp_path_factory, fixtures_dir) -> Path:
    folder = tmp_path_factory.mktemp("bench")
    prepare_benchmarks(PrepareConfig(out=str(folder), fixtures=True))
    return folder


def run(tiny_model, benchmarks, out, **overrides) -> list[dict]:
    options = {"model": str(tiny_model), "benchmarks_dir": str(benchmarks), "out": str(out), "max_tokens": 5,
               "limit": 2, "seeds": [42, 43], "n_samples": 4, "benchmarks": ["math500"], "temperature": 0.6}
    options.update(overrides)
    paths = predict(PredictConfig(**options))
    return [json.loads(line) for path in paths for line in path.read_text().splitlines()]


def assert_disjoint(seeds_by_run: dict[int, list[int]]) -> None:
    first, second = (set(seeds) for seeds in seeds_by_run.values())
    assert not first & second
    assert all(len(set(seeds)) == 4 for seeds in seeds_by_run.values())  # 4 samples, 4 seeds, per problem


def per_run(rows: list[dict], problem) -> dict[int, list[int]]:
    seeds: dict[int, list[int]] = {}
    for row in rows:
        if row["id"] == problem:
            seeds.setdefault(row["seed"], []).append(row["sample_seed"])
    return seeds


def test_sample_seeds():
    assert sample_seed(42, 0) == 42_000_000 and sample_seed(42, 3) == 42_000_003
    runs = {run_seed: [sample_seed(run_seed, s) for s in range(4)] for run_seed in (42, 43)}
    assert_disjoint(runs)


def test_hf_seeds_are_disjoint_and_are_the_seeds_used(tiny_model, benchmarks, tmp_path):
    rows = run(tiny_model, benchmarks, tmp_path / "p", backend="hf")
    assert len(rows) == 2 * 2 * 4
    for problem in {r["id"] for r in rows}:
        assert_disjoint(per_run(rows, problem))
    backend = HFBackend(EngineSettings(model=str(tiny_model)), seed=0)
    row = rows[5]
    again = backend.generate_one(Request(row["prompt"], row["sample_seed"], Sampling(0.6, max_tokens=5)))
    assert again.text == row["response"]  # the row's seed reproduces the row, whatever the chunking
    assert len({r["response"] for r in rows if r["id"] == row["id"]}) > 1


def test_vllm_seeds_are_disjoint_and_sampling_explicit(tiny_model, benchmarks, tmp_path, monkeypatch):
    import fake_vllm

    monkeypatch.setitem(sys.modules, "vllm", fake_vllm.module())
    fake_vllm.LLM.instances.clear()
    rows = run(tiny_model, benchmarks, tmp_path / "p", backend="vllm", chunk=3)
    (llm,) = fake_vllm.LLM.instances
    sent = [params for call in llm.calls for params in call]
    assert len(sent) == len(rows) == 16 and {p["n"] for p in sent} == {1}
    assert sorted(p["seed"] for p in sent) == sorted(r["sample_seed"] for r in rows)
    for problem in {r["id"] for r in rows}:
        assert_disjoint(per_run(rows, problem))
    assert {(p["temperature"], p["top_p"], p["top_k"], p["min_p"], p["repetition_penalty"]) for p in sent} == {
        (0.6, 1.0, 0, 0.0, 1.0)}


def test_vllm_runs_the_models_dtype_and_on_cpu_prefills_whole(tiny_model, benchmarks, tmp_path, monkeypatch):
    """vLLM's own dtype auto runs a float32 model in bfloat16: it gets the model's dtype by name, recorded in the
    settings; its CPU build gets whole prefills (a split seeded prompt crashes it) and --engine_args on top."""
    import fake_vllm

    for cpu, out in ((False, tmp_path / "gpu"), (True, tmp_path / "cpu")):
        monkeypatch.setitem(sys.modules, "vllm", fake_vllm.module(cpu=cpu))
        fake_vllm.LLM.instances.clear()
        run(tiny_model, benchmarks, out, backend="vllm", engine_args='{"enforce_eager": true}')
        (llm,) = fake_vllm.LLM.instances
        assert llm.kwargs["dtype"] == "float32" and llm.kwargs["enforce_eager"] is True
        assert llm.kwargs.get("enable_chunked_prefill") is (False if cpu else None)
        manifest = json.loads(next(out.rglob("run_manifest.shard0.json")).read_text())
        assert manifest["settings"]["dtype"] == "float32"
        assert manifest["config"]["engine_args"] == '{"enforce_eager": true}'
    fake_vllm.LLM.instances.clear()
    run(tiny_model, benchmarks, tmp_path / "bf16", backend="vllm", dtype="bfloat16")
    assert fake_vllm.LLM.instances[0].kwargs["dtype"] == "bfloat16"
    with pytest.raises(Long1kError, match="dtype: .float32. -> .bfloat16."):  # another dtype, another configuration
        run(tiny_model, benchmarks, tmp_path / "cpu", backend="vllm", dtype="bfloat16")
    # Engine arguments that change what is computed are part of the configuration; how it runs is not.
    run(tiny_model, benchmarks, tmp_path / "cpu", backend="vllm", engine_args='{"max_num_seqs": 4}', seeds=[7])
    with pytest.raises(Long1kError, match="engine_args.kv_cache_dtype: null -> .fp8."):
        run(tiny_model, benchmarks, tmp_path / "cpu", backend="vllm", engine_args='{"kv_cache_dtype": "fp8"}')


def test_a_dtype_long1k_does_not_run_is_an_error_not_a_silent_float32(tiny_model, tmp_path):
    import types

    from long1k.generation.backends import resolve_dtype

    assert resolve_dtype("auto", types.SimpleNamespace(dtype="bfloat16")) == "bfloat16"
    assert resolve_dtype("auto", None) == "float32"  # transformers' own default for a config naming none
    assert resolve_dtype("float16", types.SimpleNamespace(dtype="bfloat16")) == "float16"
    with pytest.raises(Long1kError, match="names dtype 'float64'.*pass --dtype, one of float32, bfloat16, float16"):
        resolve_dtype("auto", types.SimpleNamespace(dtype="float64"))


def test_openai_seeds_are_disjoint(tiny_model, benchmarks, tmp_path):
    with FakeServer() as server:
        rows = run(tiny_model, benchmarks, tmp_path / "p", backend="openai", model="served",
                   tokenizer=str(tiny_model), base_urls=[server.url])
        bodies = server.bodies
    assert sorted(b["seed"] for b in bodies) == sorted(r["sample_seed"] for r in rows)
    for problem in {r["id"] for r in rows}:
        assert_disjoint(per_run(rows, problem))


def test_one_sampling_definition_on_every_backend():
    request = Request("p", 7, SAMPLING)
    vllm = vllm_sampling_kwargs(request)
    server = completion_request("m", request)
    hf = hf_generation_config(request, eos_ids=[1], pad_id=0)
    fields = ("temperature", "top_p", "top_k", "min_p", "repetition_penalty")
    assert [vllm[f] for f in fields] == [server[f] for f in fields] == [getattr(hf, f) for f in fields] == [
        0.6, 0.95, 20, 0.05, 1.05]
    assert vllm["max_tokens"] == server["max_tokens"] == hf.max_new_tokens == 8
    assert vllm["stop"] == server["stop"] == hf.stop_strings == ["END"]
    assert vllm["seed"] == server["seed"] == 7 and vllm["n"] == server["n"] == 1


def test_hf_ignores_the_models_generation_config(tiny_model, tmp_path):
    """Qwen2.5-Instruct derivatives ship top_k 20 and repetition_penalty 1.05: they must not apply."""
    shipped = tmp_path / "with-generation-config"
    shutil.copytree(tiny_model, shipped)
    (shipped / "generation_config.json").write_text(json.dumps({"top_k": 2, "repetition_penalty": 5.0,
                                                                "temperature": 0.1, "do_sample": True, "typical_p": 0.3,
                                                                "no_repeat_ngram_size": 1}))
    request = Request("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", 3, Sampling(1.0, max_tokens=12))
    plain = HFBackend(EngineSettings(model=str(tiny_model)), seed=0).generate_one(request)
    other = HFBackend(EngineSettings(model=str(shipped)), seed=0).generate_one(request)
    assert plain == other

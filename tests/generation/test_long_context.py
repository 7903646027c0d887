"""Long context: the RoPE override keeps the model's theta and raises the maximum positions, checked
against vLLM 0.33's own config handling (its module when installed, else fake_vllm's mirror of it)
and a transformers Qwen2Config round trip; the context guard."""

import json
import sys

import pytest
from fake_vllm import check_rope, vllm_max_len, vllm_model_config

from long1k.errors import Long1kError
from long1k.generation.long_context import apply_overrides, check_context, parse_rope_scaling, rope_overrides
from long1k.generation.predict import PredictConfig, predict
from long1k.tasks.prepare import PrepareConfig, prepare_benchmarks

YARN = '{"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768}'


@pytest.fixture(scope="module")
def benchmarks(tmp_path_factory, fixtures_dir):
    folder = tmp_path_factory.mktemp("bench")
    prepare_benchmarks(PrepareConfig(out=str(folder), fixtures=True))
    return folder


def overrides_for(model) -> dict:
    from transformers import AutoConfig

    return rope_overrides(AutoConfig.from_pretrained(model), parse_rope_scaling(YARN))


def test_override_keeps_theta_and_raises_positions(tiny_model):
    from transformers import Qwen2Config
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

    overrides = overrides_for(tiny_model)
    assert overrides == {"max_position_embeddings": 131072, "rope_parameters": {
        "rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768, "rope_theta": 1_000_000.0}}
    config = vllm_model_config(str(tiny_model), overrides)  # as vLLM 0.33 builds it
    check_rope(config)
    assert vllm_max_len(config, 40960) == 40960
    again = Qwen2Config(**json.loads(json.dumps(config.to_dict())))  # saved and loaded by transformers
    assert again.rope_parameters["rope_theta"] == 1_000_000.0 and again.max_position_embeddings == 131072
    inv_freq, attention_factor = ROPE_INIT_FUNCTIONS["yarn"](again, "cpu")
    assert inv_freq.isfinite().all() and attention_factor > 1
    # the same config through long1k's own application (the hf backend) is identical
    mine = apply_overrides(Qwen2Config.from_pretrained(tiny_model), overrides)
    assert mine.rope_parameters == config.rope_parameters and mine.max_position_embeddings == 131072


def test_the_old_override_fails_as_vllm_033_fails(tiny_model):
    """The defect: {"rope_scaling": {...}} replaces the rope parameters whole (theta gone) and leaves
    max_position_embeddings at 32768, below max_model_len 40960."""
    old = {"rope_scaling": json.loads(YARN)}
    config = vllm_model_config(str(tiny_model), old)
    with pytest.raises(KeyError, match="rope_theta"):
        check_rope(config)
    with pytest.raises(ValueError, match="max_model_len"):
        vllm_max_len(config, 40960)


def test_vllm_itself_accepts_the_override(tiny_model):
    """Where vLLM 0.33 is installed (GPU nodes): its own ModelConfig builds the extended context."""
    pytest.importorskip("vllm", reason="vLLM's GPU build in the main environment (GPU nodes); the CPU suite's "
                                       "vLLM tests run in .venv-vllm")
    from vllm.config import ModelConfig

    config = ModelConfig(model=str(tiny_model), hf_overrides=overrides_for(tiny_model), max_model_len=40960)
    assert config.max_model_len == 40960
    assert config.hf_config.rope_parameters["rope_theta"] == 1_000_000.0


def test_vllm_backend_builds_the_extended_engine(tiny_model, benchmarks, tmp_path, monkeypatch):
    import fake_vllm

    monkeypatch.setitem(sys.modules, "vllm", fake_vllm.module())
    fake_vllm.LLM.instances.clear()
    predict(PredictConfig(model=str(tiny_model), backend="vllm", benchmarks_dir=str(benchmarks),
                          out=str(tmp_path / "p"), benchmarks=["math500"], limit=2, max_tokens=35000,
                          max_model_len=40960, rope_scaling=YARN, tensor_parallel_size=2))
    (llm,) = fake_vllm.LLM.instances
    assert llm.max_model_len == 40960 and llm.kwargs["tensor_parallel_size"] == 2
    assert llm.hf_config.rope_parameters["rope_theta"] == 1_000_000.0
    manifest = json.loads((tmp_path / "p" / "tiny-model" / "run_manifest.shard0.json").read_text())
    assert manifest["settings"]["config_overrides"]["max_position_embeddings"] == 131072


def test_hf_backend_runs_the_extended_model(tiny_model, benchmarks, tmp_path):
    (path,) = predict(PredictConfig(model=str(tiny_model), backend="hf", benchmarks_dir=str(benchmarks),
                                    out=str(tmp_path / "p"), benchmarks=["math500"], limit=1, max_tokens=4,
                                    max_model_len=40960, rope_scaling=YARN))
    assert len(path.read_text().splitlines()) == 1


def test_context_guard():
    yarn = parse_rope_scaling('{"type": "yarn", "factor": 2.0, "original_max_position_embeddings": 32768}')
    with pytest.raises(Long1kError, match="exceeds the model's native context 32768"):
        check_context(500, 35768, 32768, 40960, None)
    assert check_context(500, 35768, 32768, 40960, yarn) == 40960
    assert check_context(500, 35768, 32768, None, yarn) == 36268  # what the run needs, within the scaled window
    with pytest.raises(Long1kError, match="exceeds the scaled context 65536"):
        check_context(500, 35768, 32768, 70000, yarn)
    with pytest.raises(Long1kError, match="exceeds the context 32768"):
        check_context(500, 32500, 32768, None, None)

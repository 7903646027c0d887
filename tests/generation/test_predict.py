"""eval/predict.py: the hf backend on a tiny model, resume after a kill, one configuration per
folder, option validation, templates."""

import json
from pathlib import Path

import pytest
import yaml

from long1k.errors import Long1kError
from long1k.generation.predict import PredictConfig, predict
from long1k.generation.prompts import TEMPLATES, load_template
from long1k.scoring.report import ScoreConfig, score
from long1k.tasks.prepare import PrepareConfig, prepare_benchmarks

FIELDS = {"benchmark", "id", "sample", "seed", "sample_seed", "settings", "prompt", "prefill", "response", "answer",
          "finish_reason", "response_tokens"}


@pytest.fixture(scope="module")
def benchmarks(tmp_path_factory, fixtures_dir) -> Path:
    folder = tmp_path_factory.mktemp("bench")
    prepare_benchmarks(PrepareConfig(out=str(folder), fixtures=True))
    return folder


def config(tiny_model, bench_dir, out, **overrides) -> PredictConfig:
    options = {"model": str(tiny_model), "backend": "hf", "benchmarks_dir": str(bench_dir), "out": str(out),
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
    assert manifest["settings"]["template"]["name"] == "deepseek-qwen"
    assert manifest["settings"]["sampling"] == {"temperature": 0.95, "top_p": 1.0, "top_k": 0, "min_p": 0.0,
                                                "repetition_penalty": 1.0, "max_tokens": 6, "stop": []}
    assert {r["settings"] for r in rows} == {manifest["fingerprint"]}

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

    from long1k.artifacts import TRAINING_RECORD

    model = tmp_path / "s1-model"
    shutil.copytree(tiny_model, model)
    (model / TRAINING_RECORD).write_text(json.dumps({"reasoning_format": "s1"}))
    (path,) = predict(PredictConfig(model=str(model), backend="hf", benchmarks_dir=str(benchmarks),
                                    out=str(tmp_path / "p"), max_tokens=4, limit=1, seeds=[1], benchmarks=["math500"]))
    manifest = json.loads((tmp_path / "p" / "s1-model" / "run_manifest.shard0.json").read_text())
    assert manifest["settings"]["template"]["name"] == "s1"
    assert read(path)[0]["prompt"].endswith("<|im_start|>assistant\n<|im_start|>think\n")


def test_a_folder_is_one_configuration(tiny_model, benchmarks, tmp_path):
    """Rerunning into the same folder with another temperature, template or budget is refused with a
    message that says how to keep both; more seeds or samples with the same settings are accepted."""
    out = tmp_path / "p"
    predict(config(tiny_model, benchmarks, out, seeds=[1], benchmarks=["math500"]))
    with pytest.raises(Long1kError, match=r"other settings \(sampling.temperature: 0.95 -> 0.6\).*--model_name"):
        predict(config(tiny_model, benchmarks, out, seeds=[1], benchmarks=["math500"], temperature=0.6))
    with pytest.raises(Long1kError, match=r"template.name: \"deepseek-qwen\" -> \"s1\""):
        predict(config(tiny_model, benchmarks, out, seeds=[2], benchmarks=["aime24"], template="s1"))
    with pytest.raises(Long1kError, match="budget_forcing"):
        predict(config(tiny_model, benchmarks, out, seeds=[1], benchmarks=["math500"], template="deepseek-qwen",
                       thinking_budget=3))
    # the same settings, more seeds and samples: extended, not refused
    paths = predict(config(tiny_model, benchmarks, out, seeds=[1, 2], benchmarks=["math500"], n_samples=2))
    assert [len(read(p)) for p in paths] == [4, 4]
    # the suggested way to keep both works
    predict(config(tiny_model, benchmarks, out, seeds=[1], benchmarks=["math500"], temperature=0.6,
                   model_name="tiny-model-2"))
    # rows without a fingerprint (an older long1k) cannot be checked: refused too
    legacy = out / "old-model" / "math500_seed1.jsonl"
    legacy.parent.mkdir()
    row = read(paths[0])[0]
    row.pop("settings")
    legacy.write_text(json.dumps(row) + "\n")
    with pytest.raises(Long1kError, match="without a settings fingerprint"):
        predict(config(tiny_model, benchmarks, out, seeds=[1], benchmarks=["math500"], model_name="old-model"))


@pytest.mark.parametrize("overrides, message", [
    ({"max_tokens": 0}, "max_tokens must be >= 1"),
    ({"chunk": 0}, "--chunk must be >= 1"),
    ({"n_samples": 0}, "--n_samples must lie in"),
    ({"limit": 0}, "--limit must be >= 1"),
    ({"temperature": -0.1}, "temperature must be >= 0"),
    ({"top_p": 0.0}, "top_p must lie in"),
    ({"seeds": [1, 1]}, "distinct integers"),
    ({"extend": 2}, "--extend needs --thinking_budget"),
    ({"thinking_budget": 6}, r"--thinking_budget must lie in \[1, --max_tokens\)"),
    ({"template": "chat", "thinking_budget": 3}, "needs a template with a reasoning section"),
    ({"rope_scaling": '{"rope_type": "yarn"}'}, "needs a factor > 1"),
    ({"rope_scaling": "yarn"}, "not valid JSON"),
    ({"dtype": "fp32"}, "--dtype 'fp32' is not one of auto, float32, bfloat16, float16"),
    ({"backend": "openai", "dtype": "float32"}, "a server runs the dtype it was started with"),
    ({"backend": "vllm", "engine_args": '{"dtype": "half", "enforce_eager": true}'},
     r"--engine_args sets what predict's own flags set: dtype \(use --dtype\)"),
    ({"backend": "vllm", "engine_args": "[1]"}, "--engine_args must be a JSON object"),
    ({"engine_args": '{"enforce_eager": true}'}, "--engine_args applies to the vllm backend only"),
])
def test_bad_options_are_one_line_errors(tiny_model, benchmarks, tmp_path, overrides, message):
    with pytest.raises(Long1kError, match=message):
        predict(config(tiny_model, benchmarks, tmp_path / "p", **overrides))
    assert not (tmp_path / "p").exists()  # refused before any work


def test_a_composite_benchmark_is_predicted_and_scored_like_any(tiny_model, tmp_path, fixtures_dir, tokenizer):
    bench = tmp_path / "bench"
    prepare_benchmarks(PrepareConfig(out=str(bench), fixtures=True, benchmarks=["math500"], composite=[2, 4]))
    paths = predict(config(tiny_model, bench, tmp_path / "p", seeds=[1],
                           benchmarks=["math500", "math500_x2", "math500_x4"]))
    rows = {path.name.split("_seed")[0]: read(path) for path in paths}
    for name, parts in (("math500_x2", 2), ("math500_x4", 4)):
        assert all(len(r["parts"]) == parts and r["answer_kind"] == "composite" for r in rows[name])
        assert f"There are {parts} questions above" in rows[name][0]["prompt"]
        assert rows[name][0]["prompt_tokens"] == len(tokenizer(rows[name][0]["prompt"],
                                                               add_special_tokens=False)["input_ids"])
    tokens = {name: sum(r["prompt_tokens"] for r in rs) / len(rs) for name, rs in rows.items()}
    assert tokens["math500"] < tokens["math500_x2"] < tokens["math500_x4"]
    results = score(ScoreConfig(predictions=[str(tmp_path / "p")], out=str(tmp_path / "s"), workers=1))["rule"]
    assert results["tiny-model"]["math500_x4"]["composite"]["parts"] == 4
    assert "math500_x4 (" in (tmp_path / "s" / "results.md").read_text()


@pytest.mark.parametrize(("overrides", "message"), [
    ({"composite": [1]}, "joins 2 to 10 problems, not 1"),
    ({"composite": [11]}, "joins 2 to 10 problems, not 11"),
    ({"composite_benchmarks": ["math500"]}, "needs --composite K"),
    ({"composite": [2], "composite_benchmarks": ["amc23"]}, "not in --benchmarks"),
    ({"composite": [2], "composite_rows": 0}, "--composite_rows must lie in 1..40"),
    ({"composite": [2], "benchmarks": ["aime24"], "composite_rows": 16}, "--composite_rows must lie in 1..15"),
])
def test_bad_composite_options_are_one_line_errors(tmp_path, fixtures_dir, overrides, message):
    options = {"out": str(tmp_path / "b"), "fixtures": True, "benchmarks": ["math500"], **overrides}
    with pytest.raises(Long1kError, match=message):
        prepare_benchmarks(PrepareConfig(**options))
    assert not (tmp_path / "b").exists()


def test_an_explicit_flag_beats_the_preset(tmp_path):
    from long1k.configs import parse_config

    def sampling(*argv: str) -> tuple:
        config = parse_config(PredictConfig, list(argv))
        config.apply_preset()
        return config.temperature, config.top_p, config.n_samples

    assert sampling("--preset", "peers", "--temperature", "0.7", "--n_samples", "4") == (0.7, 0.95, 4)
    assert sampling("--preset", "peers") == (0.6, 0.95, 8)
    assert sampling() == (0.95, 1.0, 1)
    assert sampling("--preset", "original", "--top_p", "0.9") == (0.95, 0.9, 1)
    recipe = tmp_path / "r.yaml"
    recipe.write_text("preset: peers\nn_samples: 2\n")
    assert sampling("--config", str(recipe)) == (0.6, 0.95, 2)  # a recipe's value is explicit too


def test_a_training_runs_final_model_is_named_after_the_run():
    from long1k.generation.predict import default_model_name

    assert default_model_name("outputs/sft/long1k_launch/final") == "long1k_launch"
    assert default_model_name("outputs/sft/long1k_launch/final/") == "long1k_launch"
    assert default_model_name("outputs/sft/long1k_launch/checkpoint-62") == "long1k_launch-checkpoint-62"
    assert default_model_name("Qwen/Qwen2.5-32B-Instruct") == "Qwen2.5-32B-Instruct"


def test_an_unknown_backend_is_refused_before_any_work(tmp_path, monkeypatch):
    import long1k.tokenizer

    def no_tokenizer(*args, **kwargs):
        raise AssertionError("the tokenizer was loaded before the options were checked")

    monkeypatch.setattr(long1k.tokenizer, "load_tokenizer", no_tokenizer)
    with pytest.raises(Long1kError, match="--backend 'vlm' is not one of vllm, hf, openai"):
        predict(PredictConfig(model=str(tmp_path), backend="vlm", out=str(tmp_path / "out")))
    assert not (tmp_path / "out").exists()


def test_a_mistyped_model_folder_is_said_as_such_not_as_a_hub_id(tmp_path, benchmarks):
    (tmp_path / "outputs" / "sft" / "long1k_launch").mkdir(parents=True)
    typo = str(tmp_path / "outputs" / "sft" / "long1k_lanch" / "final")
    with pytest.raises(Long1kError, match=f"{typo}: no such folder .the nearest folder that exists: "
                                          f"{tmp_path / 'outputs' / 'sft'}"):
        predict(PredictConfig(model=typo, backend="hf", benchmarks_dir=str(benchmarks), out=str(tmp_path / "p"),
                              benchmarks=["math500"]))
    with pytest.raises(Long1kError, match="outputs/x/final: no such folder"):
        predict(PredictConfig(model="outputs/x/final", backend="hf", benchmarks_dir=str(benchmarks),
                              out=str(tmp_path / "p"), benchmarks=["math500"]))

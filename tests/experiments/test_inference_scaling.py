"""Inference scaling: lines of trained models and of budget forcing, fitted on known points; the
sweep's thinking_budgets dimension."""

import json

import pytest
import yaml

from long1k.errors import Long1kError
from long1k.experiments.inference_scaling import TRAINED_LINE, InferenceScalingConfig, inference_scaling
from long1k.experiments.sweep import expand, load_recipe


def results(path, models: dict[str, tuple[float, float]]) -> None:
    """A score-stage results.json: model -> (mean tokens, pass@1) on math500."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"results": {"rule": {
        model: {"math500": {"pass@1": accuracy, "tokens_mean": tokens}} for model, (tokens, accuracy) in models.items()
    }}}))


def test_lines_and_slopes_per_tenfold_tokens(tmp_path):
    results(tmp_path / "a" / "results.json", {"short": (1000, 40.0), "short@budget3000": (3162.3, 45.0),
                                              "short@budget10000": (10000, 50.0)})
    results(tmp_path / "b" / "results.json", {"long": (10000, 60.0), "longer": (100000, 80.0)})
    fits = dict(inference_scaling(InferenceScalingConfig(scores=[str(tmp_path / "a"), str(tmp_path / "b")],
                                                         out=str(tmp_path / "out"))))
    assert set(fits) == {"short (budget forcing)", TRAINED_LINE}
    assert fits["short (budget forcing)"].b == pytest.approx(10.0, abs=1e-3)  # 45 -> 50 over 10^0.5: +10 per 10x
    assert fits[TRAINED_LINE].b == pytest.approx(20.0, abs=1e-6) and fits[TRAINED_LINE].n == 3  # short, long, longer
    assert (tmp_path / "out" / "inference_scaling.png").stat().st_size > 0
    table = (tmp_path / "out" / "inference_scaling.md").read_text()
    assert "| short (budget forcing) | math500 | 2 | +10.00 |" in table
    grouped = dict(inference_scaling(InferenceScalingConfig(scores=[str(tmp_path)], out=str(tmp_path / "o2"),
                                                            line=["long-trained=long*"])))
    assert grouped["long-trained"].n == 2 and TRAINED_LINE not in grouped  # "short" alone: drawn, not fitted
    with pytest.raises(Long1kError, match="no results.json"):
        inference_scaling(InferenceScalingConfig(scores=[str(tmp_path / "none")]))


def test_sweep_predicts_each_budget_and_scores_them_together(tmp_path):
    recipe = {"out": str(tmp_path / "s"), "datasets": {"d": str(tmp_path)}, "training": {"t": {}},
              "thinking_budgets": [1000, 4000], "extend": 2, "answer_tokens": 500,
              "predict": {"backend": "hf", "max_tokens": 30000}}
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(recipe))
    steps = expand(load_recipe(tmp_path / "r.yaml"))
    assert [s.name for s in steps] == ["data", "train", "predict", "predict@budget1000", "predict@budget4000", "score"]
    plain, forced = steps[2].command, steps[3].command
    assert "--model_name d__t@budget1000" in forced and "--thinking_budget 1000 --extend 2" in forced
    assert forced.endswith("--max_tokens 30000 --thinking_budget 1000 --extend 2 --max_tokens 1500")  # the last wins
    assert forced.split("--model_name")[0] == plain.split("--model_name")[0]  # the same model
    assert steps[3].outputs == (str(tmp_path / "s" / "runs" / "d__t" / "predictions" / "d__t@budget1000"),)


def test_staged_training_starts_from_the_other_runs_model(tmp_path):
    """The AM two-stage recipe: stage 2 (on B) starts from stage 1's model (on A), whatever the order."""
    recipe = {"out": str(tmp_path / "s"), "datasets": {"B": str(tmp_path / "b"), "A": str(tmp_path / "a")},
              "training": {"stage2": {"datasets": ["B"], "init_from": "A__stage1", "flags": {"learning_rate": 8e-5}},
                           "stage1": {"datasets": ["A"], "flags": {"learning_rate": 8e-5}}}}
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(recipe))
    steps = expand(load_recipe(tmp_path / "r.yaml"))
    assert [s.run for s in steps if s.name == "train"] == ["A__stage1", "B__stage2"]
    stage2 = next(s for s in steps if s.run == "B__stage2" and s.name == "train")
    assert stage2.env["MODEL"] == str(tmp_path / "s" / "runs" / "A__stage1" / "sft" / "final")
    assert stage2.upstream == "A__stage1"
    recipe["training"]["stage2"]["init_from"] = "nowhere"
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(recipe))
    with pytest.raises(Long1kError, match="init_from names 'B__nowhere'"):
        expand(load_recipe(tmp_path / "r.yaml"))


def test_a_changed_first_stage_retrains_the_second(tmp_path):
    from long1k.experiments.sweep import Step, run_steps

    log = tmp_path / "log"

    def steps(rate: str) -> list[Step]:
        return [Step("up", "train", f"echo up {rate} >> {log}"), Step("down", "train", f"echo down >> {log}",
                                                                      upstream="up")]

    assert run_steps(steps("1e-5"), tmp_path) == 2
    assert run_steps(steps("1e-5"), tmp_path) == 0
    assert run_steps(steps("2e-5"), tmp_path) == 2  # the first stage changed: the second follows
    assert log.read_text().split("\n")[:-1] == ["up 1e-5", "down", "up 2e-5", "down"]

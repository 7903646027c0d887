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

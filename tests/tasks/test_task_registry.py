"""The task registry: a benchmark added by one YAML file in a folder of the user's runs through
prepare, predict (hf) and score with no other change; bad task files are named errors."""

import json

import pytest
import yaml

from long1k.errors import Long1kError
from long1k.generation.predict import PredictConfig, predict
from long1k.scoring.report import ScoreConfig, score
from long1k.tasks import all_tasks, default_benchmarks, get_task
from long1k.tasks.prepare import PrepareConfig, prepare_benchmarks

TOY_TASK = {
    "name": "toy_amc",
    "description": "a benchmark defined outside the package",
    "answer_kind": "latex",
    "hub": {"id": "example/toy-amc", "split": "test"},
    "layout": "fields",
    "fields": {"id": "qid", "problem": ["question"], "answer": "final", "keep": ["url"]},
    "fixture": {"generate": "aime", "rows": 4, "columns": {"id": "qid", "problem": "question", "answer": "final"}},
}


@pytest.fixture
def task_dir(tmp_path, monkeypatch):
    folder = tmp_path / "my_tasks"
    folder.mkdir()
    (folder / "toy_amc.yaml").write_text(yaml.safe_dump(TOY_TASK))
    monkeypatch.setenv("LONG1K_TASKS_DIR", str(folder))
    return folder


def test_builtin_registry_holds_the_paper_benchmarks_and_amc23():
    assert default_benchmarks() == ["math500", "aime24", "aime25", "gpqa_diamond"]
    amc = get_task("amc23")
    assert (amc.hub_id, amc.answer_kind, amc.default) == ("math-ai/amc23", "latex", False)
    assert {t.answer_kind for t in all_tasks().values()} == {"latex", "integer", "letter"}


def test_yaml_task_runs_prepare_predict_and_score(task_dir, tmp_path, tiny_model):
    manifest = prepare_benchmarks(PrepareConfig(out=str(tmp_path / "bench"), fixtures=True,
                                                benchmarks=["toy_amc", "math500"]))
    assert manifest["toy_amc"]["rows"] == 4 and manifest["toy_amc"]["answer_kind"] == "latex"
    rows = [json.loads(line) for line in (tmp_path / "bench" / "toy_amc.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["1", "2", "3", "4"] and all(r["answer_kind"] == "latex" for r in rows)

    paths = predict(PredictConfig(model=str(tiny_model), backend="hf", benchmarks_dir=str(tmp_path / "bench"),
                                  out=str(tmp_path / "pred"), benchmarks=["toy_amc"], max_tokens=4, limit=2))
    predictions = [json.loads(line) for line in paths[0].read_text().splitlines()]
    assert len(predictions) == 2 and {p["answer_kind"] for p in predictions} == {"latex"}
    assert "\\boxed{}" in predictions[0]["prompt"]  # the answer kind's instruction

    # A prediction file that answers correctly scores 100: grading goes by the rows' answer kind.
    gold = tmp_path / "gold" / "toy_amc_seed0.jsonl"
    gold.parent.mkdir(parents=True)
    gold.write_text("".join(json.dumps({**p, "model": "gold", "response": f"\\boxed{{{p['answer']}}}"}) + "\n"
                            for p in predictions))
    results = score(ScoreConfig(predictions=[str(tmp_path / "pred"), str(gold)], out=str(tmp_path / "scores")))
    assert results["rule"]["gold"]["toy_amc"]["pass@1"] == 100.0
    assert "toy_amc" in (tmp_path / "scores" / "results.md").read_text()


def test_bad_task_files_are_named_errors(tmp_path, monkeypatch):
    folder = tmp_path / "bad"
    folder.mkdir()
    monkeypatch.setenv("LONG1K_TASKS_DIR", str(folder))
    (folder / "typo.yaml").write_text(yaml.safe_dump({**TOY_TASK, "answer_kind": "fraction"}))
    with pytest.raises(Long1kError, match=r"typo\.yaml: unknown answer kind 'fraction'"):
        get_task("toy_amc")
    (folder / "typo.yaml").write_text(yaml.safe_dump({**TOY_TASK, "answr": "x"}))
    with pytest.raises(Long1kError, match=r"typo\.yaml: unknown key 'answr'; did you mean"):
        all_tasks()
    (folder / "typo.yaml").write_text(yaml.safe_dump({**TOY_TASK, "name": "math500"}))
    with pytest.raises(Long1kError, match="task 'math500' is defined twice"):
        all_tasks()

"""Builders' invariants (same questions across length levels, targets met within tolerance, equal
lengths across difficulty sets), the sweep expansion and its resume, and stitching beyond math."""

import json
import statistics
from pathlib import Path

import pytest
import yaml

from long1k.errors import Long1kError
from long1k.experiments.designs import DesignConfig, build_designs
from long1k.experiments.levels import LevelsConfig, build_levels
from long1k.experiments.sweep import Step, expand, load_recipe, run_steps
from long1k.synthesis.config import SynthesisConfig
from long1k.synthesis.run import synthesize

REPO = Path(__file__).resolve().parents[2]
TOLERANCE = 0.1


def manifest(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def levels(tmp_path_factory, fixtures_dir):
    out = tmp_path_factory.mktemp("levels")
    summary = build_levels(LevelsConfig(out=str(out), questions=25, levels=[1000, 2000, 6000], tolerance=TOLERANCE))
    return out, summary


def test_same_questions_at_every_level(levels):
    out, _ = levels
    bases = [[m["sources"][0]["problem_key"] for m in manifest(out / f"level_{n}")] for n in (1000, 2000, 6000)]
    assert bases[0] == bases[1] == bases[2] and len(set(bases[0])) == 25


def test_levels_meet_their_targets_within_tolerance(levels):
    out, summary = levels
    for entry in summary:
        target = entry["level"]
        lengths = [m["tokens"]["response"] for m in manifest(out / f"level_{target}")]
        assert abs(statistics.fmean(lengths) - target) <= TOLERANCE * target
        assert sum(abs(n - target) <= TOLERANCE * target for n in lengths) >= 0.8 * len(lengths)
        stats = json.loads((out / f"level_{target}" / "stats.json").read_text())
        assert stats["target_tokens"] == target and stats["tokens"]["all"]["response_tokens"]["count"] == 25
    assert summary[0]["parts_mean"] < summary[1]["parts_mean"] < summary[2]["parts_mean"]


def test_rows_are_well_formed_chats(levels):
    out, _ = levels
    row = json.loads((out / "level_6000" / "data" / "train-00000-of-00001.jsonl").read_text().splitlines()[0])
    content = row["messages"][2]["content"]
    assert content.count("<|begin_of_thought|>") == 1 and content.count("<|end_of_solution|>") == 1
    assert row["text"].endswith("<|end_of_solution|><|im_end|>\n")


def test_easy_and_hard_sets_have_equal_length_and_different_difficulty(tmp_path, fixtures_dir):
    results = build_designs(DesignConfig(out=str(tmp_path), rows=15, target_tokens=2500, tolerance=0.15))
    easy, hard = results["easy_composite"], results["hard_single"]
    assert easy["rows"] == hard["rows"] == 15
    assert abs(easy["mean_tokens"] - hard["mean_tokens"]) <= 0.15 * 2500
    assert easy["difficulty_mean"] <= 2 < 3 <= hard["difficulty_mean"]
    assert easy["problems_per_row"] >= 2 and hard["problems_per_row"] == 1
    assert all(len(m["sources"]) == 1 for m in manifest(tmp_path / "hard_single"))
    # The format is recorded, so training records it and prediction uses its template (found missing by
    # the miniature: its design models were prompted in another format and scored 0-3%).
    from long1k.formats import dataset_format

    stats = json.loads((tmp_path / "hard_single" / "stats.json").read_text())
    assert stats["reasoning_format"] == "openthoughts" == dataset_format(str(tmp_path / "hard_single"))
    stats.pop("reasoning_format")
    (tmp_path / "hard_single" / "stats.json").write_text(json.dumps(stats))
    assert dataset_format(str(tmp_path / "hard_single")) == "openthoughts"  # read off the rows' markers


def test_design_needs_a_difficulty(tmp_path, fixtures_dir):
    with pytest.raises(Long1kError, match="records no difficulty level"):
        build_designs(DesignConfig(out=str(tmp_path), source="openthoughts", rows=5))


def test_sweep_expands_datasets_x_training(tmp_path):
    recipe = load_recipe(REPO / "scripts" / "recipes" / "length_levels_paper.yaml")
    steps = expand(recipe)
    assert len({s.run for s in steps}) == 6 and [s.name for s in steps[:4]] == ["data", "train", "predict", "score"]
    train = steps[1]
    assert train.env["RECIPE"] == str(REPO / "train" / "recipes" / "long1k_launch.yaml")  # wherever launched
    assert train.command == "python -m long1k launch-train"  # the package, not a repository path
    assert "--seeds 42 43 44 45 46" in steps[2].command and "--tensor_parallel_size 2" in steps[2].command
    (tmp_path / "bad.yaml").write_text("out: x\ndatasets: {a: b}\ntraining: {t: {}}\nbenchmark: [math500]\n")
    with pytest.raises(Long1kError, match=r"unknown option 'benchmark'; did you mean 'benchmarks'\?"):
        load_recipe(tmp_path / "bad.yaml")


def test_sweep_stops_at_a_failure_and_resumes(tmp_path, capsys):
    log = tmp_path / "log"
    flag = tmp_path / "fixed"
    steps = [Step("r", "data", f"echo data >> {log}"),
             Step("r", "train", f"test -e {flag} && echo train >> {log}"),
             Step("r", "score", f"echo score >> {log}")]
    with pytest.raises(Long1kError, match=r"\[r\] train failed"):
        run_steps(steps, tmp_path)
    flag.touch()
    assert run_steps(steps, tmp_path) == 2  # data is not run again
    assert log.read_text().split() == ["data", "train", "score"]
    capsys.readouterr()
    assert run_steps(steps, tmp_path, dry_run=True) == 0
    assert capsys.readouterr().out.count("(done)") == 3


def test_an_edited_recipe_reruns_the_changed_step_and_those_after_it(tmp_path, capsys):
    log, output = tmp_path / "log", tmp_path / "predictions"

    def steps(max_tokens: int) -> list[Step]:
        return [Step("r", "data", f"echo data >> {log}"),
                Step("r", "predict", f"mkdir -p {output} && echo {max_tokens} >> {output}/rows && "
                                     f"echo predict >> {log}", outputs=(str(output),)),
                Step("r", "score", f"echo score >> {log}")]

    assert run_steps(steps(32), tmp_path) == 3
    capsys.readouterr()
    assert run_steps(steps(64), tmp_path) == 2  # predict changed, score follows it; data is kept
    printed = capsys.readouterr().out
    assert printed.count("settings changed since it ran") == 2 and "(done)" in printed
    assert (output / "rows").read_text().split() == ["64"]  # the old predictions were cleared, not mixed in
    assert log.read_text().split() == ["data", "predict", "score", "predict", "score"]
    assert run_steps(steps(64), tmp_path) == 0


def test_a_killed_training_step_resumes(tmp_path, capsys):
    log = tmp_path / "log"
    train = Step("r", "train", f"echo train >> {log}; test -e {tmp_path}/ok",
                 resume_flag=f"&& echo resumed >> {log}")
    with pytest.raises(Long1kError):  # as if killed: it never finished
        run_steps([train], tmp_path)
    (tmp_path / "ok").touch()
    assert run_steps([train], tmp_path) == 1
    assert "killed while running: resumed" in capsys.readouterr().out
    assert log.read_text().split() == ["train", "train", "resumed"]


def test_sweep_paths_resolve_the_same_from_any_folder(tmp_path, monkeypatch):
    recipe_path = REPO / "scripts" / "recipes" / "length_levels_tiny.yaml"
    monkeypatch.chdir(tmp_path)
    recipe = load_recipe(recipe_path)
    assert recipe["out"] == str(REPO / "outputs" / "sweeps" / "length_levels_tiny")
    assert recipe["predict"]["benchmarks_dir"] == str(REPO / "outputs" / "experiments" / "benchmarks")
    assert all(step.marker(Path(recipe["out"])).is_relative_to(REPO) for step in expand(recipe))


def test_stitching_beyond_math_records_the_domain(tmp_path, fixtures_dir):
    stats = synthesize(SynthesisConfig(out=str(tmp_path / "science"), domains=["science", "code", "puzzle"],
                                       num_samples=6, s1_share=0.0))
    assert stats["rows_by_kind"]["pair"] == 6
    domains = {m["domain"] for m in manifest(tmp_path / "science")}
    assert domains <= {"science", "code", "puzzle", "mixed"} and domains


def test_builders_read_the_hub_source_with_its_configuration(monkeypatch):
    seen = []

    def hub(hub_id, config, split):
        seen.append((hub_id, config, split))
        raise Long1kError("no network in tests")

    monkeypatch.setattr("long1k.sources._load_hub", hub)
    with pytest.raises(Long1kError, match="no network in tests"):
        build_levels(LevelsConfig(openthoughts="open-thoughts/OpenThoughts-114k", levels=[1000], questions=1))
    assert seen == [("open-thoughts/OpenThoughts-114k", "metadata", "train")]  # not the default config


def test_builders_enforce_the_block_size(tmp_path, fixtures_dir):
    config = LevelsConfig(out=str(tmp_path / "lv"), questions=5, levels=[1000, 3000], block_size=2000)
    with pytest.raises(Long1kError, match=r"level_3000: no row fits --block_size 2000"):
        build_levels(config)
    stats = json.loads((tmp_path / "lv" / "level_1000" / "stats.json").read_text())
    assert stats["dropped_over_block_size"] == 0 and stats["tokens"]["all"]["text_tokens"]["max"] <= 2000


def test_runs_go_side_by_side_with_their_own_port_and_threads(tmp_path):
    """--jobs 2: two runs overlap in time, each has its own MASTER_PORT and a share of the cores, a run
    that starts from another's model waits for it, and each step's output lands in RUN/logs/."""
    def run(name: str, upstream: str = "") -> list[Step]:
        started, ended = tmp_path / f"{name}.start", tmp_path / f"{name}.end"
        body = (f"date +%s.%N > {started}; echo $MASTER_PORT $OMP_NUM_THREADS; "
                f"{'test -e ' + str(tmp_path / (upstream + '.end')) + ' && ' if upstream else ''}"
                f"sleep 1; date +%s.%N > {ended}")
        return [Step(name, "train", body, upstream=upstream), Step(name, "score", "echo scored")]

    steps = run("a") + run("b") + run("c", upstream="a")
    assert run_steps(steps, tmp_path, jobs=2) == 6
    times = {n: [float((tmp_path / f"{n}.{e}").read_text()) for e in ("start", "end")] for n in "abc"}
    assert times["b"][0] < times["a"][1] and times["a"][0] < times["b"][1]  # a and b overlapped
    assert times["c"][0] >= times["a"][1]  # c started from a's model: after a ended
    ports = {(tmp_path / "runs" / n / "logs" / "train.log").read_text().split()[0] for n in "abc"}
    assert len(ports) == 3
    assert (tmp_path / "runs" / "b" / "logs" / "score.log").read_text().strip() == "scored"
    assert run_steps(steps, tmp_path, jobs=2) == 0  # all done: nothing reruns


def test_a_failed_run_among_parallel_ones_names_its_log(tmp_path):
    steps = [Step("good", "train", "true"), Step("bad", "train", "echo broken; exit 3")]
    with pytest.raises(Long1kError, match=r"\[bad\] train failed \(exit 3\); its output: .*bad/logs/train.log"):
        run_steps(steps, tmp_path, jobs=2)
    assert (tmp_path / "runs" / "bad" / "logs" / "train.log").read_text().strip() == "broken"
    assert run_steps([steps[0]], tmp_path, jobs=2) == 0  # the good run finished and is not run again


def test_a_dataset_built_again_with_other_contents_retrains(tmp_path):
    stats, log = tmp_path / "stats.json", tmp_path / "log"
    stats.write_text('{"data_sha256": "a"}')
    steps = [Step("r", "data", f"echo data >> {log}", inputs=(str(stats),)), Step("r", "train", f"echo train >> {log}")]
    assert run_steps(steps, tmp_path) == 2
    assert run_steps(steps, tmp_path) == 0  # same command, same data: done
    stats.write_text('{"data_sha256": "b"}')
    assert run_steps(steps, tmp_path) == 2  # same command, other data: both again
    assert log.read_text().split() == ["data", "train", "data", "train"]


def test_an_edited_training_recipe_retrains(tmp_path):
    """The train step's fingerprint covers its recipe's contents, not only its path."""
    training = tmp_path / "train.yaml"
    training.write_text("model_name_or_path: tiny-qwen2\nlearning_rate: 1.0e-3\n")
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump({
        "out": str(tmp_path / "out"), "datasets": {"d": str(tmp_path / "data")},
        "training": {"t": {"recipe": str(training)}}, "benchmarks": ["math500"]}))

    def train_fingerprint() -> str:
        step = next(s for s in expand(load_recipe(tmp_path / "sweep.yaml")) if s.name == "train")
        return step.fingerprint("")

    before = train_fingerprint()
    assert train_fingerprint() == before
    training.write_text("model_name_or_path: tiny-qwen2\nlearning_rate: 2.0e-3\n")
    assert train_fingerprint() != before

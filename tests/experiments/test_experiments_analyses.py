"""Scaling law, trace analysis and difficulty grading on hand-computed and exactly known cases."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from long1k.errors import Long1kError
from long1k.experiments.difficulty import QuestionScore, coefficient_of_variation, cv_for, score_questions, select
from long1k.experiments.scaling import fit_all, fit_log_linear, read_points_csv, summarize_levels
from long1k.experiments.trace_analysis import analyze

REPO = Path(__file__).resolve().parents[2]


def test_fit_recovers_exact_log_linear_data():
    lengths = [1000, 1500, 2000, 3000, 6000, 12000]
    fit = fit_log_linear("x", lengths, [40.0 + 7.5 * math.log10(x) for x in lengths])
    assert fit.a == pytest.approx(40.0) and fit.b == pytest.approx(7.5)
    assert fit.r2 == pytest.approx(1.0)
    assert fit.b_low == pytest.approx(7.5) and fit.b_high == pytest.approx(7.5)


def test_fit_interval_widens_with_noise_and_uses_the_t_distribution():
    lengths = [1000, 2000, 4000, 8000]
    noisy = fit_log_linear("x", lengths, [50.0, 53.0, 55.0, 59.0])
    assert noisy.b_low < noisy.b < noisy.b_high and 0.9 < noisy.r2 < 1.0
    # Hand check: with 4 points the half-width is t(0.975, 2) = 4.303 standard errors.
    xs = [math.log10(x) for x in lengths]
    mean_x = sum(xs) / 4
    sxx = sum((x - mean_x) ** 2 for x in xs)
    residuals = [y - (noisy.a + noisy.b * x) for x, y in zip(xs, noisy.accuracies, strict=True)]
    se = math.sqrt(sum(r * r for r in residuals) / 2 / sxx)
    assert noisy.b_high - noisy.b == pytest.approx(4.3027 * se, rel=1e-4)


def test_the_papers_points_reproduce_the_papers_fit():
    fits = {f.benchmark: f for f in fit_all(read_points_csv(REPO / "scripts" / "data" / "paper_points.csv"))}
    levels = fits["MATH500 (length levels)"]
    # 85.8 at 1k to 94.1 at 12k: 8.3 points over log10(12) decades.
    assert levels.b == pytest.approx(8.3 / math.log10(12)) and levels.predict(12000) == pytest.approx(94.1)
    assert fits["GPQA-Diamond (length levels)"].predict(1000) == pytest.approx(56.5)
    four = fits["MATH500 (four sets)"]
    assert four.n == 4 and four.b > 0 and four.r2 > 0.85


def test_bad_points_are_clear_errors(tmp_path):
    (tmp_path / "p.csv").write_text("length,benchmark\n1000,x\n")
    with pytest.raises(Long1kError, match=r"missing column\(s\) \['accuracy'\]"):
        read_points_csv(tmp_path / "p.csv")
    with pytest.raises(Long1kError, match="at least two different lengths"):
        fit_log_linear("x", [1000, 1000], [1.0, 2.0])


def test_scaling_law_script_draws_the_figure(tmp_path):
    subprocess.run([sys.executable, str(REPO / "scripts" / "scaling_law.py"), "--csv",
                    str(REPO / "scripts" / "data" / "paper_points.csv"), "--out", str(tmp_path)], check=True,
                   capture_output=True)
    assert (tmp_path / "scaling_law.png").stat().st_size > 10_000
    assert len(json.loads((tmp_path / "fits.json").read_text())) == 4


def test_runs_at_one_length_give_a_mean_and_a_spread(tmp_path):
    points = [(20.0, "m", 30.0), (20.0, "m", 40.0), (20.0, "m", 50.0), (80.0, "m", 90.0), (80.0, "h", 10.0),
              (20.0, "h", 5.0)]
    by_key = {(s.benchmark, s.length): s for s in summarize_levels(points)}
    seeds = by_key[("m", 20.0)]
    assert (seeds.runs, seeds.mean, seeds.std, seeds.low, seeds.high) == (3, 40.0, 10.0, 30.0, 50.0)
    assert by_key[("m", 80.0)].std == 0.0 and by_key[("h", 80.0)].runs == 1
    (tmp_path / "p.csv").write_text("length,benchmark,accuracy\n" + "".join(f"{x},{b},{y}\n" for x, b, y in points))
    subprocess.run([sys.executable, str(REPO / "scripts" / "scaling_law.py"), "--csv", str(tmp_path / "p.csv"),
                    "--out", str(tmp_path / "out")], check=True, capture_output=True)
    assert "| m | 20.0 | 3 | 40.0 | 10.0 | 30.0 | 50.0 |" in (tmp_path / "out" / "levels.md").read_text()


@pytest.mark.parametrize(("passes", "expected"), [(0, None), (1, math.sqrt(3)), (2, 1.0), (3, 1 / math.sqrt(3)),
                                                  (4, 0.0)])
def test_cv_on_hand_computed_cases(passes, expected):
    scores = [1] * passes + [0] * (4 - passes)
    found = coefficient_of_variation(scores)
    assert found == (None if expected is None else pytest.approx(expected))
    assert cv_for(4, passes) == (None if expected is None else pytest.approx(expected))


def graded(qid, results):
    return [{"benchmark": "b", "id": qid, "correct": r, "model": "m", "seed": 0, "sample": i, "response": "x"}
            for i, r in enumerate(results)]


def test_nothing_passing_is_a_measurement_not_an_error(tmp_path, monkeypatch, capsys):
    """Questions no answer solves still have pass rates: they are written, no training set is, and an
    earlier selection in the folder is removed rather than left to read as this one's."""
    from long1k.experiments.difficulty import DifficultyConfig, grade_difficulty

    monkeypatch.setattr(DifficultyConfig, "graded_rows", lambda self: graded("q1", [0, 0]) + graded("q2", [0, 0]))
    (tmp_path / "data").mkdir()
    (tmp_path / "stats.json").write_text("{}")
    stats = grade_difficulty(DifficultyConfig(graded=["unused"], out=str(tmp_path)))
    assert stats["selected_answers"] == 0 and "no training set written" in capsys.readouterr().out
    assert (tmp_path / "questions.csv").read_text().splitlines()[1:] == ["b,q1,2,0.0000,", "b,q2,2,0.0000,"]
    assert (tmp_path / "pass_rate_histogram.png").is_file()
    assert not (tmp_path / "data").exists() and not (tmp_path / "stats.json").exists()


def test_selection_stages():
    rows = graded("easy", [1, 1, 1, 1]) + graded("mid", [1, 1, 0, 0]) + graded("hard", [1, 0, 0, 0]) + \
        graded("none", [0, 0, 0, 0])
    questions = {q.key[1]: q for q in score_questions(rows)}
    assert questions["hard"].pass_rate == 0.25 and questions["none"].cv is None
    stage1 = select(list(questions.values()), min_pass_rate=0.0, cv_threshold=1.0)
    kept = sorted((q.key[1], a["sample"]) for q, a in stage1)
    # easy (CV 0 < 1): all 4 answers; mid (CV 1.0) and hard (CV 1.73): passing answers only; none: dropped.
    assert kept == [("easy", 0), ("easy", 1), ("easy", 2), ("easy", 3), ("hard", 0), ("mid", 0), ("mid", 1)]
    stage2 = select(list(questions.values()), cv_threshold=1.0, top_k=2)
    assert [(q.key[1], a["sample"]) for q, a in stage2] == [("hard", 0), ("mid", 0)]
    assert isinstance(stage2[0][0], QuestionScore)


def test_trace_analysis_counts_words_and_lengths():
    rows = [{"model": "m", "benchmark": "b", "correct": True, "response": "So so wait.", "response_tokens": 10},
            {"model": "m", "benchmark": "b", "correct": False, "response": "But wait wait wait", "response_tokens": 30},
            {"model": "m", "benchmark": "b", "correct": False, "response": "Hmm", "response_tokens": 50}]
    analysis = analyze(rows)["m"]
    assert analysis["correct"]["top10"][0] == ("so", pytest.approx(100 * 2 / 3))
    assert analysis["wrong"]["tokens_mean"] == 40 and analysis["wrong"]["tokens_median"] == 40
    assert analysis["wrong"]["reflection_per_1k"]["wait"] == pytest.approx(1000 * 3 / 5)
    assert analysis["correct"]["answers"] == 1 and analysis["wrong"]["answers"] == 2

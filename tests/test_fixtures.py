import csv
import json
import random
from fractions import Fraction

import pyarrow.parquet as pq

from long1k.boxed import boxed_answers, last_boxed
from long1k.fixtures import mathgen
from long1k.fixtures.writers import GPQA_COLUMNS, OPENTHOUGHTS_COLUMNS, S1_COLUMNS, write_large_openthoughts


def test_sources_have_the_exact_hub_schemas(fixtures_dir):
    ot = [json.loads(line) for line in (fixtures_dir / "openthoughts" / "metadata.jsonl").open()]
    assert all(tuple(row) == OPENTHOUGHTS_COLUMNS for row in ot)
    assert {row["domain"] for row in ot} == {"math", "code", "science", "puzzle"}
    s1 = [json.loads(line) for line in (fixtures_dir / "s1k11" / "train.jsonl").open()]
    assert all(tuple(row) == S1_COLUMNS and len(row) == 13 for row in s1)
    assert all(isinstance(row["metadata"], str) and row["metadata"].startswith("{") for row in s1)
    with (fixtures_dir / "benchmarks" / "gpqa_diamond.csv").open(newline="") as handle:
        header = next(csv.reader(handle))
    assert tuple(header) == GPQA_COLUMNS and len(header) == 78


def test_math_rows_carry_their_answer_in_a_box(fixtures_dir):
    rows = [json.loads(line) for line in (fixtures_dir / "openthoughts" / "metadata.jsonl").open()]
    good = [r for r in rows if r["domain"] == "math" and r["problem"] and r["deepseek_reasoning"].strip()
            and boxed_answers(r["deepseek_solution"]) and "<|" not in r["deepseek_reasoning"]]
    assert len(good) >= 2400
    for row in good:
        assert row["deepseek_reasoning"].rstrip().endswith(f"The answer is {last_boxed(row['deepseek_solution'])}.")


def test_generated_answers_are_correct():
    rng = random.Random(11)
    for _ in range(200):
        p = mathgen.linear_equation(rng)
        a, b, c = _linear_coefficients(p.problem)
        assert a * int(p.answer) + b == c
        q = mathgen.fraction_sum(rng)
        left, right = q.problem.strip("Write $").split("$")[0].split(" + ")
        assert _frac(left) + _frac(right) == _frac(q.answer)


def _linear_coefficients(text: str) -> tuple[int, int, int]:
    equation = text.split("$")[3]
    left, right = equation.split(" = ")
    a, rest = left.split("x ")
    sign, b = rest.split(" ")
    return int(a), int(b) * (1 if sign == "+" else -1), int(right)


def _frac(latex: str) -> Fraction:
    latex = latex.strip()
    if latex.startswith("\\frac"):
        numerator, denominator = latex[6:-1].split("}{")
        return Fraction(int(numerator), int(denominator))
    if latex.startswith("-\\frac"):
        return -_frac(latex[1:])
    return Fraction(int(latex))


def test_large_source_is_openthoughts_shaped(tmp_path):
    path = write_large_openthoughts(tmp_path / "large.parquet", n_rows=1200)
    table = pq.read_table(path)
    assert table.num_rows == 1200 and tuple(table.column_names) == OPENTHOUGHTS_COLUMNS
    math_share = sum(d == "math" for d in table.column("domain").to_pylist()) / 1200
    assert 0.7 < math_share < 0.86

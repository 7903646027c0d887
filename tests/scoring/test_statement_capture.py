"""Answer statements on real layouts: a brace that closes LaTeX is kept, JSON remains are not, and
"Final Answers:" is not read as an answer "s" (both seen on real Sky-T1 / ZeroEval outputs)."""

import pytest

from long1k.grading.extract import ExtractionOptions, clean_capture, extract_math, stated_answers


@pytest.mark.parametrize(("captured", "answer"), [
    ("$1 + i\\sqrt{3}$", "1 + i\\sqrt{3}"),
    ("\\( W(s) = \\frac{1}{s} \\)", "W(s) = \\frac{1}{s}"),
    ("3 \\times 10^{8}", "3 \\times 10^{8}"),
    ('16",', "16"),
    ('"\\$10,455"}', "\\$10,455"),
    ("[1, 2]]", "[1, 2]"),
])
def test_captures_keep_latex_braces_and_drop_json_remains(captured, answer):
    assert clean_capture(captured) == answer


def test_final_answers_heading_is_not_an_answer():
    text = "Thus, the answer is \\( -8 \\).\n\n**Final Answers:**\n\n- Subproblem 0: \\( 1 + \\sqrt{3} i \\)"
    found = extract_math(text, ExtractionOptions("strict", "anywhere"))
    assert found.answer != "s"
    assert [answer for _, answer in stated_answers("The answer is $7$.\nLater, the final answer is $9$.")] == ["7", "9"]

"""The rule grader on a table of tricky equivalent and non-equivalent answers, and the killable pool."""

import pytest

from long1k.scoring.extract import answer_region, extract_letter
from long1k.scoring.grade import grade
from long1k.scoring.pool import Task, grade_many

THOUGHT = ("<|begin_of_thought|>\n\n{thinking}\n\n<|end_of_thought|>\n\n"
           "<|begin_of_solution|>\n\n{solution}\n\n<|end_of_solution|>")

# (answer kind, gold, response, expected verdict)
CASES = [
    # fractions and decimals
    ("latex", "\\frac{1}{2}", "So $\\boxed{0.5}$.", True),
    ("latex", "\\frac{1}{2}", "\\boxed{1/2}", True),
    ("latex", "\\frac{1}{2}", "\\boxed{\\dfrac{1}{2}}", True),
    ("latex", "\\frac{1}{2}", "\\boxed{\\frac{1}{3}}", False),
    ("latex", "\\frac{14}{3}", "\\boxed{4\\frac{2}{3}}", True),
    ("latex", "0.25", "\\boxed{\\frac14}", True),
    # intervals and sets
    ("latex", "[2,5)", "\\boxed{[2, 5)}", True),
    ("latex", "[2,5)", "\\boxed{(2, 5)}", False),
    ("latex", "\\{1,2\\}", "\\boxed{\\{2,1\\}}", True),
    ("latex", "\\{1,2\\}", "\\boxed{\\{1,3\\}}", False),
    # units, percentages, degrees
    ("latex", "5 \\text{ cm}", "\\boxed{5}", True),
    ("latex", "10\\%", "\\boxed{10}", True),
    ("latex", "50", "\\boxed{0.5}", False),  # no x100 equivalence (a known peer-grader leniency)
    ("latex", "90^\\circ", "\\boxed{90}", True),
    ("latex", "90^\\circ", "\\boxed{45^\\circ}", False),
    # text answers and expressions
    ("latex", "\\text{Evelyn}", "\\boxed{\\text{Evelyn}}", True),
    ("latex", "\\text{Evelyn}", "\\boxed{\\text{Bob}}", False),
    ("latex", "3\\sqrt{2}", "\\boxed{\\sqrt{18}}", True),
    ("latex", "\\left( 3, \\frac{\\pi}{2} \\right)", "\\boxed{(3, \\frac{\\pi}{2})}", True),
    # several boxes: the last one after the reasoning counts
    ("latex", "2", "First try \\boxed{3}. Wait, that is wrong. Final: \\boxed{2}", True),
    ("latex", "3", "First try \\boxed{3}. Wait, that is wrong. Final: \\boxed{2}", False),
    ("latex", "5", THOUGHT.format(thinking="maybe \\boxed{7}", solution="\\boxed{5}"), True),
    ("latex", "7", THOUGHT.format(thinking="maybe \\boxed{7}", solution="\\boxed{5}"), False),
    ("latex", "5", "<think>\nguess \\boxed{7}\n</think>\n\nThe answer is \\boxed{5}.", True),
    # spacing and box variants, answer lines
    ("latex", "2", "\\boxed {2}", True),
    ("latex", "2", "\\fbox{2}", True),
    ("latex", "73", "The final answer is **73**.", True),
    ("latex", "12", "Answer: 12", True),
    # truncated outputs never count
    ("latex", "4", "Let me compute... so the result is \\boxed{4", False),
    ("latex", "4", "<|begin_of_thought|>\n\nthe value is 4, and 4 again", False),
    # AIME integers
    ("integer", 33, "\\boxed{033}", True),
    ("integer", 33, "\\boxed{33.5}", False),
    ("integer", 204, "so $n = \\boxed{204}$", True),
    ("integer", 204, "\\boxed{n=204}", True),
    ("integer", 70, "The final answer is $70$.", True),
    ("integer", 70, "\\boxed{\\text{70}}", True),
    # GPQA letters
    ("letter", "C", "The answer is (C).", True),
    ("letter", "B", "Answer: B", True),
    ("letter", "D", "\\boxed{D}", True),
    ("letter", "A", "**Answer:** A", True),
    ("letter", "C", "A ball falls freely. Therefore the correct answer is C", True),
    ("letter", "A", "A ball falls freely. Therefore the correct answer is C", False),
    ("letter", "A", "I think a good approach is to estimate; the answer is a matter of scale.", False),
    ("letter", "B", THOUGHT.format(thinking="maybe (B)?", solution="The correct option is (D)."), False),
    ("letter", "D", THOUGHT.format(thinking="maybe (B)?", solution="The correct option is (D)."), True),
    ("letter", "C", "After checking each option:\n\n**C**", True),
]


@pytest.mark.parametrize(("kind", "gold", "response", "expected"), CASES)
def test_verdict(kind, gold, response, expected):
    assert grade(kind, gold, response).correct is expected


def test_articles_and_empty_outputs_never_become_letters():
    assert extract_letter("a b c d").answer is None
    assert extract_letter("").answer is None
    assert extract_letter("The answer is a prime number.").answer is None


def test_answer_region_starts_after_the_last_reasoning_marker():
    assert answer_region("x <|end_of_thought|> y") == " y"
    assert answer_region("no markers") == "no markers"


def test_pool_kills_a_hung_item_and_keeps_order_and_verdicts():
    tower = "\\boxed{" + "9^{" * 8 + "9" + "}" * 8 + "}"  # hangs sympy inside C code
    tasks = [Task(kind, gold, response) for kind, gold, response, _ in CASES]
    tasks.insert(5, Task("latex", "2", tower))
    verdicts = grade_many(tasks, workers=2, timeout=3, progress=False)
    assert verdicts[5].reason.startswith("timeout") and not verdicts[5].correct
    rest = verdicts[:5] + verdicts[6:]
    assert [v.correct for v in rest] == [expected for *_, expected in CASES]
    single = [grade(t.answer_kind, t.gold, t.response) for t in tasks if t.response != tower]
    assert rest == single  # same verdicts as a single-process run

"""The rule grader on a table of tricky equivalent and non-equivalent answers, and the killable pool."""

import pytest

from long1k.answer_kinds import grade
from long1k.grading.extract import ExtractionOptions, answer_region, extract_letter
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

# Free-form writing as real models do it (our own sentences, built on the shapes seen in published
# outputs): (answer kind, gold, response, expected verdict, extraction rule)
FREE_FORM = [
    ("letter", "D", "Weighing the two effects, the answer is **D. -3.14 kJ**", True, "letter_statement"),
    ("letter", "A", "The redshift puts it near 7 Gpc.\n\nA. 7 Gpc", True, "letter_option_line"),
    ("letter", "A", "So the vector lies at the centre: \\boxed{A. \\, r = (0,0,0)}", True, "letter_statement"),
    ("letter", "D", "The product formed is **3-bromobenzoic acid (D)**", True, "letter_option_line"),
    ("letter", "D", "Answer: $D$", True, "letter_statement"),
    ("letter", "C", "So the right answer is:\n\nC. gene conversion", True, "letter_statement"),
    ("letter", "B", "Therefore, the formula is B. C5H8O2.", True, "letter_statement"),
    ("letter", "A", "Hence the answer is **(A)**. Option B would be right if the charge were negative.", True,
     "letter_statement"),
    ("letter", "A", "It is probably option A or option C.", False, "hedge"),
    ("letter", "C", "It is probably option A or option C.", False, "hedge"),
    ("letter", "C", "the answer is (c).", True, "letter_statement"),
    ("letter", "C", "Working it through, this matches option C.", True, "letter_statement"),
    ("letter", "B", "**Why the others fail:**\n\n* **A:** too slow.\n* **C:** wrong sign.\n\n"
     "The answer is B.", True, "letter_statement"),
    ("letter", "A", "* **Option A:** plausible.\n* **Option D:** ruled out by symmetry.", False, "none"),
    ("letter", "B", "Given the options:\nA. 4\nB. 6\nC. 8\nD. 10\n\nThe count is:\n\nB. 6", True,
     "letter_statement"),
    ("latex", "16", '```json\n{"reasoning": "...", "answer": "16",}\n```', True, "statement"),
    ("latex", "10455", "**Final Answer:** $10,455$", True, "statement"),
    ("latex", "16", "**Final Answer:**\n16", True, "statement"),
    ("latex", "80", '**Final Answer:** 80 integers up to 100 have such a factor.",', True, "statement"),
    ("latex", "9", "We check each case.\nTherefore, the answer is 9.", True, "statement"),
    ("latex", "23", "So the GCD is 12 and the sum we want is 23.", True, "sentence_end"),
    ("latex", "41", "The remaining values add up.\nIn total we get 41", True, "last_number"),
    ("latex", "4", "The last step gives x = 4 and then we", False, "none"),  # stops mid-sentence
    ("latex", "\\frac{1}{2004!}", "\\boxed{\\frac{1}{2006!}}", False, "boxed"),
    ("latex", "\\frac{1}{2004!}", "\\boxed{\\frac{1}{2004!}}", True, "boxed"),
    ("latex", "12", "\\boxed{12^{\\mathrm{th}} \\text{ grade}}", True, "boxed"),
    ("latex", "7^{\\text{th}}", "\\boxed{7}", True, "boxed"),
    ("latex", "0.333", "\\boxed{\\frac{1}{3}}", True, "boxed"),
    ("latex", "\\frac{1}{3}", "\\boxed{0.34}", False, "boxed"),
    ("latex", "5", "<|begin_of_thought|>\n\nwe get \\boxed{5} then", False, "answer_section_cut_off"),
]


@pytest.mark.parametrize(("kind", "gold", "response", "expected", "rule"), FREE_FORM)
def test_free_form_answers(kind, gold, response, expected, rule):
    verdict = grade(kind, gold, response)
    assert (verdict.correct, verdict.rule) == (expected, rule), verdict


def test_hedge_is_no_answer_with_its_reason():
    verdict = grade("letter", "A", "It is probably option A or option C.")
    assert verdict.extracted is None and verdict.reason == "hedge between A and C: no answer"


def test_strict_extraction_and_answer_region_options():
    strict = ExtractionOptions(mode="strict")
    assert grade("latex", "9", "Therefore, the answer is 9.", strict).correct  # an explicit statement
    assert not grade("latex", "23", "So the sum we want is 23.", strict).correct  # a sentence ending
    assert grade("latex", "23", "So the sum we want is 23.").correct
    cut_off = "<|begin_of_thought|>\n\nwe get \\boxed{5} then"
    assert grade("latex", "5", cut_off, ExtractionOptions(region="anywhere")).correct


def test_option_text_counts_when_the_row_carries_its_choices():
    choices = (("A", "benzene"), ("B", "toluene"), ("C", "phenol"), ("D", "aniline"))
    response = "Comparing acidities, the compound we want is phenol."
    assert grade("letter", "C", response, ExtractionOptions(choices=choices)).rule == "choice_text"
    assert grade("letter", "C", response, ExtractionOptions(choices=choices)).correct
    assert grade("letter", "C", response).extracted is None  # no choices: no guess


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

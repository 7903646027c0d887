"""Grading by rule: answer extraction (extract.py), the graders of each answer kind (grade.py) and of
composite prompts (composite.py). Pure functions of a response and a gold answer: they import no task,
no prediction file and not the answer-kind table (long1k/answer_kinds.py), which names them."""

"""Scoring, apart from generation: answer extraction, rule grading in killable workers, metrics."""

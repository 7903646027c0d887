"""The paper's experiments and analyses: length levels, length vs difficulty, sweeps, scaling
law, traces, difficulty grading."""

"""Generation: prompts, backends and the prediction loop of eval/predict.py."""

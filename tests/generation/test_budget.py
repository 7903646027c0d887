"""Budget forcing (s1): thinking capped at --thinking_budget, the end of thinking suppressed --extend
times with --extend_word, then the answer; on the hf backend with the tiny model and through the
completions API of a server."""

import json
from pathlib import Path

import pytest
from fake_server import THINK_WORDS, FakeServer, fake_completion

from long1k.generation.backends import EngineSettings, HFBackend
from long1k.generation.budget import BudgetForcing, force_budget
from long1k.generation.predict import PredictConfig, predict
from long1k.generation.sampling import Generation, Request, Sampling
from long1k.scoring.report import ScoreConfig, score
from long1k.tasks.prepare import PrepareConfig, prepare_benchmarks

CLOSE = "\n</think>\n\n"


@pytest.fixture(scope="module")
def benchmarks(tmp_path_factory, fixtures_dir) -> Path:
    folder = tmp_path_factory.mktemp("bench")
    prepare_benchmarks(PrepareConfig(out=str(folder), fixtures=True))
    return folder


class FakeModel:
    """The fake server's model in process: a token is a word."""

    def generate(self, requests):
        for index, r in enumerate(requests):
            text, finish, tokens = fake_completion(r.prompt, r.seed, r.sampling.max_tokens, list(r.sampling.stop))
            yield index, Generation(text, finish, tokens)


def forced(thinking_budget: int, extend: int, max_tokens: int = 100):
    budget = BudgetForcing(thinking_budget, extend, "Wait", "</think>", CLOSE)
    ((_, result),) = force_budget(FakeModel(), [Request("Q:", 5, Sampling(0.6, max_tokens=max_tokens))], budget)
    return result


def test_extensions_and_budget_on_a_model_that_stops_thinking_early():
    step = THINK_WORDS + 1  # words, then the end-of-thinking token
    result = forced(100, extend=2)
    assert (result.extensions, result.thinking_tokens, result.answer_tokens) == (2, 3 * step, 1)
    assert result.generation.text.count("Wait") == 2 and result.generation.text.count("</think>") == 1
    assert result.generation.text.endswith(CLOSE + "The answer is \\boxed{5}.")
    assert result.generation.tokens == 3 * step + 1
    # the budget cuts the second thinking phase short: closed without a second extension
    result = forced(10, extend=2)
    assert (result.extensions, result.thinking_tokens) == (1, 10)
    # no extension: the model's own end of thinking stands
    assert (forced(100, extend=0).extensions, forced(100, extend=0).thinking_tokens) == (0, step)
    # a budget below the model's thinking: cut and closed
    assert (forced(4, extend=3).thinking_tokens, forced(4, extend=3).extensions) == (4, 0)


def test_hf_backend_extends_and_respects_the_budget(tiny_model):
    """The tiny random model's tokens follow its seed, so a string it writes early is a stop string it
    meets again after each extension: two extensions, each suppressing it."""
    backend = HFBackend(EngineSettings(model=str(tiny_model)), seed=0)
    prompt = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n"
    free = backend.generate_one(Request(prompt, 3, Sampling(1.0, max_tokens=12)))
    marker = free.text[len(free.text) // 2:][:4].strip() or free.text[-3:]
    budget = BudgetForcing(40, 2, "Wait", marker, CLOSE)
    ((_, result),) = force_budget(backend, [Request(prompt, 3, Sampling(1.0, max_tokens=60))], budget)
    assert result.extensions == 2 and result.generation.text.count("Wait") == 2
    assert result.thinking_tokens <= 40 and result.answer_tokens <= 60 - result.thinking_tokens
    assert result.generation.tokens == result.thinking_tokens + result.answer_tokens


def test_predict_with_budget_forcing_on_hf(tiny_model, benchmarks, tmp_path):
    (path,) = predict(PredictConfig(model=str(tiny_model), backend="hf", benchmarks_dir=str(benchmarks),
                                    out=str(tmp_path / "p"), benchmarks=["math500"], limit=2, n_samples=2,
                                    template="think", max_tokens=12, thinking_budget=5, extend=2))
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(rows) == 4
    for row in rows:
        assert row["thinking_tokens"] <= 5 and 0 <= row["extensions"] <= 2
        assert row["response_tokens"] == row["thinking_tokens"] + row["answer_tokens"] <= 12
        assert CLOSE in row["response"]
    results = score(ScoreConfig(predictions=[str(tmp_path / "p")], out=str(tmp_path / "s")))["rule"]
    metrics = results["tiny-model"]["math500"]
    assert metrics["thinking_tokens_mean"] == sum(r["thinking_tokens"] for r in rows) / 4
    assert metrics["tokens_mean"] == sum(r["response_tokens"] for r in rows) / 4


def test_predict_with_budget_forcing_through_a_server(tiny_model, benchmarks, tmp_path):
    with FakeServer({4: "503"}) as server:
        (path,) = predict(PredictConfig(model="served", tokenizer=str(tiny_model), backend="openai",
                                        base_urls=[server.url], benchmarks_dir=str(benchmarks),
                                        out=str(tmp_path / "p"), benchmarks=["math500"], limit=3, template="think",
                                        max_tokens=200, thinking_budget=100, extend=2, retry_backoff=0.01))
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(rows) == 3
    step = THINK_WORDS + 1
    assert {(r["extensions"], r["thinking_tokens"], r["answer_tokens"]) for r in rows} == {(2, 3 * step, 1)}
    assert all(r["response"].endswith(f"\\boxed{{{r['sample_seed'] % 10}}}.") for r in rows)

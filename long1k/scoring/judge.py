"""An LLM judge, equivalent in intent to the original Long1K metric but reproducible.

The original judge (Qwen2.5-32B-Instruct) was sampled (temperature 0.9, top_p 0.7) and saw only the
last line of the reference and the last five lines of the prediction. Here the judge decodes
greedily (temperature 0), sees the whole final-answer region of the response (after the reasoning
section; the last 4,000 characters when there is no such section) and the full reference answer,
and its verdict is the last `[[0]]` / `[[1]]` it writes (none: wrong, and said so).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from long1k.answer_kinds import get_answer_kind
from long1k.generation.backends import EngineSettings, make_backend
from long1k.generation.sampling import Request, Sampling
from long1k.grading.extract import REASONING_ENDS, answer_region
from long1k.grading.grade import Verdict

TAIL_CHARS = 4000
_VERDICT = re.compile(r"\[\[([01])\]\]")

JUDGE_SYSTEM = "You are a strict, careful grader of answers to exam questions."


@dataclass
class JudgeSettings:
    model: str
    backend: str = "vllm"
    tokenizer: str | None = None
    base_urls: tuple[str, ...] = ()
    tensor_parallel_size: int = 1
    max_tokens: int = 1024


def final_part(response: str) -> str:
    if any(marker in response for marker in REASONING_ENDS):
        return answer_region(response).strip()
    return response[-TAIL_CHARS:].strip()


def judge_messages(answer_kind: str, reference: str, response: str) -> list[dict[str, str]]:
    prompt = get_answer_kind(answer_kind).judge_prompt
    return [{"role": "system", "content": JUDGE_SYSTEM},
            {"role": "user", "content": prompt.format(reference=reference, response=final_part(response))}]


def parse_verdict(text: str) -> Verdict:
    found = _VERDICT.findall(text)
    if not found:
        return Verdict(None, False, "judge gave no [[0]]/[[1]] verdict")
    correct = found[-1] == "1"
    return Verdict(None, correct, f"judge verdict [[{found[-1]}]]")


def judge_all(rows: list[dict], settings: JudgeSettings) -> list[Verdict]:
    """Verdicts of the judge on prediction rows (each carrying its answer_kind)."""
    from long1k.tokenizer import load_tokenizer

    tokenizer = load_tokenizer(settings.tokenizer or settings.model)
    prompts = [tokenizer.apply_chat_template(judge_messages(row["answer_kind"], str(row["answer"]), row["response"]),
                                             tokenize=False, add_generation_prompt=True) for row in rows]
    engine = EngineSettings(model=settings.model, tokenizer=settings.tokenizer,
                            tensor_parallel_size=settings.tensor_parallel_size, base_urls=settings.base_urls)
    backend = make_backend(settings.backend, engine, seed=0)
    sampling = Sampling(temperature=0.0, max_tokens=settings.max_tokens)
    verdicts: list[Verdict | None] = [None] * len(rows)
    for index, generation in backend.generate([Request(prompt, 0, sampling) for prompt in prompts]):
        verdicts[index] = parse_verdict(generation.text)
    return verdicts

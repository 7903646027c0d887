"""A client for OpenAI-compatible completion servers (`vllm serve`, SGLang) that survives them.

Each request is one sample (n=1, its own seed) sent to POST {base_url}/completions with every sampling
field explicit and `return_token_ids` (vLLM returns the sample's token ids, so lengths are exact).
Several servers share one queue of requests, each with `--server_concurrency` requests in flight.

Faults, as servers show them:
- 5xx, 408, 429, a dropped connection, a timeout, a reply that is not a completion (not JSON, no
  `choices`, no text, an aborted sample): the request is retried, on any server, after a backoff
  that doubles from `--retry_backoff` seconds; more than `--max_retries` failures of one request end
  the run with a one-line error naming the server and the fault.
- A server that cannot be reached `--max_retries` times in a row is left out for the rest of the run
  and its requests go to the others; the run stops only when none is left.
- Any other 4xx (an unknown model, a prompt too long) ends the run at once with the server's message.
Threads are daemons: Ctrl-C returns at once, and what was already written stays.
"""

from __future__ import annotations

import http.client
import json
import queue
import random
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from long1k.errors import Long1kError
from long1k.generation.sampling import Generation, Request

MAX_BACKOFF_S = 60.0
FINISH_REASONS = ("stop", "length")


@dataclass(frozen=True)
class ClientOptions:
    request_timeout: float = 3600.0
    max_retries: int = 5
    retry_backoff: float = 2.0
    concurrency: int = 64

    def __post_init__(self) -> None:
        if self.request_timeout <= 0 or self.max_retries < 0 or self.retry_backoff < 0 or self.concurrency < 1:
            raise Long1kError("--request_timeout must be > 0, --max_retries >= 0, --retry_backoff >= 0 and "
                              "--server_concurrency >= 1")

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry `attempt` (1-based): doubling, capped, with jitter so that
        the requests that failed together do not return together."""
        return min(MAX_BACKOFF_S, self.retry_backoff * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


class Transient(Exception):
    """Worth retrying: the server or the connection failed this once."""


class Unreachable(Exception):
    """The server cannot be reached at all (refused, unknown host, no route)."""


class Fatal(Exception):
    """Retrying cannot help: the server refused the request itself."""


def check_base_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Long1kError(f"--base_urls {url!r} is not an http(s) URL such as http://127.0.0.1:8000/v1")
    return url.rstrip("/")


def completion_request(model: str, request: Request) -> dict:
    """Body of a POST /v1/completions request: one sample, every sampling field explicit."""
    s = request.sampling
    return {"model": model, "prompt": request.prompt, "n": 1, "temperature": s.temperature, "top_p": s.top_p,
            "top_k": s.top_k, "min_p": s.min_p, "repetition_penalty": s.repetition_penalty,
            "max_tokens": s.max_tokens, "seed": request.seed, "stop": list(s.stop),
            "skip_special_tokens": False, "return_token_ids": True}


def error_detail(err: urllib.error.HTTPError) -> str:
    """The server's own error message, on one line."""
    try:
        raw = err.read().decode("utf-8", "replace")
    except OSError:
        raw = ""
    try:
        body = json.loads(raw)
        message = body.get("error", body) if isinstance(body, dict) else body
        message = message.get("message", message) if isinstance(message, dict) else message
    except json.JSONDecodeError:
        message = raw
    return " ".join(str(message or err.reason).split())[:300]


def http_json(url: str, body: dict | None, api_key: str, timeout: float) -> object:
    """POST (or GET without a body) and parse the JSON reply, sorting every failure into
    Transient, Unreachable or Fatal."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json",
                                                              "Authorization": f"Bearer {api_key}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as err:
        detail = f"HTTP {err.code}: {error_detail(err)}"
        if err.code >= 500 or err.code in (408, 429):
            raise Transient(detail) from None
        raise Fatal(detail) from None
    except urllib.error.URLError as err:
        if isinstance(err.reason, TimeoutError):
            raise Transient(f"no reply within {timeout:g} s") from None
        raise Unreachable(f"cannot connect: {err.reason}") from None
    except TimeoutError:
        raise Transient(f"no reply within {timeout:g} s") from None
    except (ConnectionError, http.client.HTTPException, OSError) as err:
        raise Transient(f"connection dropped: {type(err).__name__}: {err}".rstrip(": ")) from None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise Transient(f"malformed reply (not JSON): {raw[:80]!r}") from None


def parse_completion(reply: object, count_tokens: Callable[[str], int]) -> Generation:
    """One sample from a completion reply; anything else is a Transient 'malformed reply'."""
    choices = reply.get("choices") if isinstance(reply, dict) else None
    if not isinstance(choices, list) or len(choices) != 1 or not isinstance(choices[0], dict):
        raise Transient(f"malformed reply (expected one choice): {json.dumps(reply)[:120]}")
    choice = choices[0]
    text = choice.get("text")
    if not isinstance(text, str):
        raise Transient(f"malformed reply (choice without text): {json.dumps(choice)[:120]}")
    finish = choice.get("finish_reason") or "stop"
    if finish not in FINISH_REASONS:
        raise Transient(f"sample ended with finish_reason {finish!r}")
    token_ids = choice.get("token_ids")
    usage = reply.get("usage") if isinstance(reply.get("usage"), dict) else {}
    if isinstance(token_ids, list):
        tokens = len(token_ids)
    elif isinstance(usage.get("completion_tokens"), int):
        tokens = usage["completion_tokens"]  # one sample per request: exact
    else:
        tokens = count_tokens(text)
    return Generation(text, finish, tokens)


def served_model_card(base_urls: Sequence[str], model: str, api_key: str = "EMPTY",
                      timeout: float = 30.0) -> dict | None:
    """The server's description of a served model (vLLM: `root`, the weights' path; `max_model_len`)."""
    for url in base_urls:
        try:
            reply = http_json(check_base_url(url) + "/models", None, api_key, timeout)
        except (Transient, Unreachable, Fatal):
            continue
        cards = reply.get("data") if isinstance(reply, dict) else None
        for card in cards if isinstance(cards, list) else []:
            if isinstance(card, dict) and card.get("id") == model:
                return card
    return None


class ServerPool:
    """Requests spread over servers by a shared queue, with retries and dead-server handling."""

    def __init__(self, base_urls: Sequence[str], model: str, api_key: str, options: ClientOptions,
                 count_tokens: Callable[[str], int]):
        self.urls = [check_base_url(u) for u in base_urls]
        self.model, self.api_key, self.options, self.count_tokens = model, api_key, options, count_tokens
        self.failures = dict.fromkeys(self.urls, 0)  # consecutive times unreachable
        self.dead: set[str] = set()
        self.lock = threading.Lock()

    def run(self, requests: Sequence[Request]) -> Iterator[tuple[int, Generation]]:
        todo: queue.Queue = queue.Queue()
        for index in range(len(requests)):
            todo.put((index, 0))
        events: queue.Queue = queue.Queue()
        stop = threading.Event()
        threads_per_server = max(1, min(self.options.concurrency, len(requests)))
        for url in self.urls:
            if url not in self.dead:
                for _ in range(threads_per_server):
                    threading.Thread(target=self.worker, args=(url, requests, todo, events, stop), daemon=True).start()
        received = 0
        try:
            while received < len(requests):
                kind, *payload = events.get()
                if kind == "done":
                    received += 1
                    yield payload[0], payload[1]
                elif kind == "warn":
                    print(f"warning: {payload[0]}", file=sys.stderr)
                elif kind == "fatal":
                    raise Long1kError(payload[0])
                if len(self.dead) == len(self.urls):
                    raise Long1kError(f"no server left: {', '.join(self.urls)} could not be reached "
                                      f"{self.options.max_retries} times in a row each")
        finally:
            stop.set()

    def worker(self, url: str, requests: Sequence[Request], todo: queue.Queue, events: queue.Queue,
               stop: threading.Event) -> None:
        options = self.options
        while not stop.is_set() and url not in self.dead:
            try:
                index, failures = todo.get(timeout=0.1)
            except queue.Empty:
                continue
            body = completion_request(self.model, requests[index])
            try:
                reply = http_json(url + "/completions", body, self.api_key, options.request_timeout)
                generation = parse_completion(reply, self.count_tokens)
            except Unreachable as err:
                todo.put((index, failures))  # not the request's fault: another server takes it
                if self.server_failed(url, err, events):
                    return
                stop.wait(options.backoff(self.failures[url]))
                continue
            except Transient as err:
                failures += 1
                if failures > options.max_retries:
                    events.put(("fatal", f"{url}: request {index} failed {failures} times, last: {err} "
                                         "(raise --max_retries or --request_timeout, or check the server's log)"))
                    return
                events.put(("warn", f"{url}: {err}; retry {failures} of {options.max_retries}"))
                stop.wait(options.backoff(failures))
                todo.put((index, failures))
                continue
            except Fatal as err:
                events.put(("fatal", f"{url}: the server refused the request: {err}"))
                return
            with self.lock:
                self.failures[url] = 0
            events.put(("done", index, generation))

    def server_failed(self, url: str, err: Exception, events: queue.Queue) -> bool:
        """Count one failure to reach a server; True when it is now given up for this run."""
        with self.lock:
            if url in self.dead:
                return True
            self.failures[url] += 1
            if self.failures[url] < max(1, self.options.max_retries):
                return False
            self.dead.add(url)
        alive = len(self.urls) - len(self.dead)
        events.put(("warn", f"{url}: {err}, {self.failures[url]} times in a row: left out for the rest of this run "
                            f"({alive} server(s) left)"))
        return True


class OpenAIBackend:
    """Any OpenAI-compatible completions server, or several sharing the load."""

    streams = True

    def __init__(self, settings, seed: int):
        if not settings.base_urls:
            raise Long1kError("the openai backend needs --base_urls (e.g. http://127.0.0.1:8000/v1)")
        self.settings = settings
        self._tokenizer = None
        self.pool = ServerPool(settings.base_urls, settings.model, settings.api_key,
                               settings.client or ClientOptions(), self.count_tokens)

    def count_tokens(self, text: str) -> int:
        """For servers that return neither token ids nor usage: the tokenizer on the text."""
        if self._tokenizer is None:
            from long1k.tokenizer import load_tokenizer

            self._tokenizer = load_tokenizer(self.settings.tokenizer or self.settings.model)
        return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])

    def generate(self, requests: Sequence[Request]) -> Iterator[tuple[int, Generation]]:
        if requests:
            yield from self.pool.run(requests)


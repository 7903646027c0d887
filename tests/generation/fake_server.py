"""An OpenAI-compatible completions server on 127.0.0.1 that misbehaves on purpose.

Its "model" is deterministic: a token is a word. A prompt without the end-of-thinking marker gets
`THINK_WORDS` words of thinking derived from its seed, then the marker (a stop string if the request
names it, else written out and followed by the answer); a prompt that already holds the marker gets
the answer. `max_tokens` and stop strings are honoured as vLLM does (the stop string left out).

Faults (`faults`: request number -> fault, counted over all requests): "503", "500", "drop" (the
connection closed without a reply), "not_json", "no_choices", "abort" (a choice with finish_reason
"abort"), "hang" (never answers), "400" (refused: not retryable).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

END = "</think>"
THINK_WORDS = 6


def fake_completion(prompt: str, seed: int, max_tokens: int, stop: list[str]) -> tuple[str, str, int]:
    """(text, finish_reason, tokens) of the fake model."""
    if END in prompt:
        words = [f"The answer is \\boxed{{{seed % 10}}}."]
    else:
        words = [f"t{seed}_{k}" for k in range(THINK_WORDS)] + [END, f"\\boxed{{{seed % 10}}}"]
    finish = "stop"
    if len(words) > max_tokens:
        words, finish = words[:max_tokens], "length"
    text = " ".join(words)
    for marker in stop:
        if marker in text:
            text, finish = text[: text.index(marker)], "stop"
            words = text.split()
            return text, finish, len(words) + 1  # the stop string's token was generated too
    return text, finish, len(words)


class FakeServer:
    def __init__(self, faults: dict[int, str] | None = None, model: str = "served", root: str | None = None,
                 max_model_len: int = 32768, with_token_ids: bool = True):
        self.faults = dict(faults or {})
        self.model, self.root, self.max_model_len, self.with_token_ids = model, root, max_model_len, with_token_ids
        self.bodies: list[dict] = []
        self.lock = threading.Lock()
        self.hung = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/v1"

    def __enter__(self) -> FakeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.hung.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def next_fault(self, body: dict) -> str | None:
        with self.lock:
            self.bodies.append(body)
            return self.faults.get(len(self.bodies))

    def reply(self, body: dict) -> dict:
        text, finish, tokens = fake_completion(body["prompt"], body["seed"], body["max_tokens"], body.get("stop") or [])
        choice = {"index": 0, "text": text, "finish_reason": finish}
        if self.with_token_ids and body.get("return_token_ids"):
            choice["token_ids"] = list(range(tokens))
        return {"id": "cmpl", "object": "text_completion", "model": self.model, "choices": [choice],
                "usage": {"prompt_tokens": 10, "completion_tokens": tokens, "total_tokens": 10 + tokens}}

    def handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                card = {"id": server.model, "object": "model", "root": server.root or server.model,
                        "max_model_len": server.max_model_len}
                self.send(200, json.dumps({"object": "list", "data": [card]}).encode())

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fault = server.next_fault(body)
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault == "hang":
                    server.hung.wait(60)
                    return
                if fault in ("503", "500", "400"):
                    self.send(int(fault), json.dumps({"error": {"message": f"fault {fault}"}}).encode())
                    return
                if fault == "not_json":
                    self.send(200, b"<html>Bad Gateway</html>")
                    return
                reply = server.reply(body)
                if fault == "no_choices":
                    reply = {"object": "error", "message": "engine overloaded"}
                if fault == "abort":
                    reply["choices"][0]["finish_reason"] = "abort"
                self.send(200, json.dumps(reply).encode())

            def send(self, code: int, data: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler


def dead_url() -> str:
    """A URL where nothing listens (a port bound and closed again)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    time.sleep(0.01)
    return f"http://127.0.0.1:{port}/v1"

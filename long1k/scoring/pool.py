"""Grading in worker processes that are killed when an item hangs.

math-verify's own timeouts rely on `signal.alarm`, which cannot interrupt a long computation inside
C code (a nested power tower is enough). Here each worker grades batches and reports after every
item; a worker silent for longer than the timeout is killed and replaced, its current item is
recorded as wrong with reason "timeout", and the rest of its batch is handed out again. Verdicts are
the same as grading in one process, in the same order.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait

from long1k.answer_kinds import grade
from long1k.grading.extract import DEFAULT_OPTIONS, ExtractionOptions
from long1k.grading.grade import Verdict, grader_error

BATCH = 16


@dataclass(frozen=True)
class Task:
    answer_kind: str
    gold: object
    response: str
    options: ExtractionOptions = DEFAULT_OPTIONS
    questions: int = 1
    """Questions in the response (composite rows): its timeout is this many items'."""


def _worker(connection: Connection) -> None:
    while True:
        batch = connection.recv()
        if batch is None:
            return
        for index, task in batch:
            try:
                verdict = grade(task.answer_kind, task.gold, task.response, task.options)
            except Exception as err:  # a grader bug on one pathological answer must not stop the run: counted
                verdict = grader_error(err)
            connection.send((index, verdict))


@dataclass
class _Slot:
    process: mp.Process
    connection: Connection
    pending: deque  # (index, task) sent and not yet answered
    since: float  # when the current item started (last answer or dispatch)


def _start(context) -> _Slot:
    parent, child = context.Pipe()
    process = context.Process(target=_worker, args=(child,), daemon=True)
    process.start()
    child.close()
    return _Slot(process, parent, deque(), time.monotonic())


def grade_many(tasks: Sequence[Task], workers: int = 2, timeout: float = 10.0, progress: bool = True) -> list[Verdict]:
    """Verdicts for `tasks`, in order; `workers` processes, `timeout` seconds per item."""
    from tqdm import tqdm

    if not tasks:
        return []
    context = mp.get_context("fork")
    queue = deque(enumerate(tasks))
    results: list[Verdict | None] = [None] * len(tasks)
    slots = [_start(context) for _ in range(max(1, min(workers, len(tasks))))]
    bar = tqdm(total=len(tasks), desc="grade", unit="item", disable=not progress)
    try:
        while queue or any(slot.pending for slot in slots):
            for slot in slots:
                if not slot.pending and queue:
                    batch = [queue.popleft() for _ in range(min(BATCH, len(queue)))]
                    slot.pending.extend(batch)
                    slot.connection.send(batch)
                    slot.since = time.monotonic()
            busy = [slot.connection for slot in slots if slot.pending]
            for connection in wait(busy, timeout=0.2):
                slot = next(s for s in slots if s.connection is connection)
                try:
                    index, verdict = connection.recv()
                except EOFError:  # the worker died (e.g. out of memory): treat like a hang
                    slot.since = 0.0
                    continue
                results[index] = verdict
                slot.pending.popleft()
                slot.since = time.monotonic()
                bar.update(1)
            now = time.monotonic()
            for position, slot in enumerate(slots):
                if slot.pending and now - slot.since > timeout * slot.pending[0][1].questions:
                    index, _ = slot.pending.popleft()
                    limit = timeout * tasks[index].questions
                    results[index] = Verdict(None, False, f"timeout after {limit:g} s", "timeout")
                    bar.update(1)
                    queue.extendleft(reversed(slot.pending))
                    slot.process.kill()
                    slot.process.join()
                    slots[position] = _start(context)
    finally:
        for slot in slots:
            if slot.process.is_alive():
                with contextlib.suppress(BrokenPipeError, OSError):
                    slot.connection.send(None)
            slot.process.join(timeout=1)
            if slot.process.is_alive():
                slot.process.kill()
        bar.close()
    return [r if r is not None else Verdict(None, False, "not graded") for r in results]

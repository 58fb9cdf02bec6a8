"""The threads that run the work after an ack (bot/handlers/listen.py), with a bounded queue.

Bolt's default pool queues without limit: under more presses than the workers can finish,
every waiting press holds its request, its copy and its closure in memory, and a burst
leaves a backlog that outlives it (a benchmark's 10 seconds left 8,000 modals to open, and
a worker 80 MB larger). Here at most ``workers`` run and ``queued`` wait; a request that
finds the queue full waits for room before its ack is sent (backpressure: the HTTP server
stops taking requests as fast, memory stays flat, and nothing is dropped)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

# Lazy work is mostly waiting on Slack (a response_url or Web API call takes 100-300 ms
# from a server in China), so the threads are more than the cores: with Bolt's five, a
# worker answered at most about 25 presses a second however idle its CPU. Not many more:
# each thread's work in flight is memory (32 threads held a worker 10 MB above 16). The
# queue holds a burst of presses without growing unbounded.
LAZY_WORKERS = 16
LAZY_QUEUED = 64


class LazyPool(Executor):
    def __init__(self, workers: int = LAZY_WORKERS, queued: int = LAZY_QUEUED) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="si-bot-lazy")
        self._room = threading.BoundedSemaphore(workers + queued)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        self._room.acquire()  # blocks while the pool is full
        try:
            future = self._pool.submit(fn, *args, **kwargs)
        except BaseException:
            self._room.release()
            raise
        future.add_done_callback(lambda _: self._room.release())
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)

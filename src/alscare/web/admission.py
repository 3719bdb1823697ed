"""An admission gate that sizes the server's concurrency to the database pool (issue 11, item 1).

Why: with more requests in flight than pooled connections, threads block waiting for a connection while the
requests that hold one (and perhaps SQLite's write lock) wait for a thread to finish on; at 50 clients
everything stopped for 30 s, then failed. Here at most ``pool_size`` requests are past the gate at once, and
the thread pool is given more threads than that, so every admitted request gets a connection at once and a
thread to run on. The others wait at the gate without holding a thread or a connection (an ``asyncio``
semaphore), in arrival order. Static files and ``/healthz`` pass straight through.
"""

from __future__ import annotations

import asyncio
import weakref

import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

# Threads beyond the admitted requests: for the rare request that holds two sessions, static files, and
# the async pages' own thread hops.
THREAD_HEADROOM = 8


class AdmissionGate:
    def __init__(self, app: ASGIApp, *, pool_size: int) -> None:
        self.app = app
        self.pool_size = pool_size
        # One gate per event loop (a server has one; tests may run several clients, each with its own loop).
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def _semaphore(self) -> asyncio.Semaphore:
        # Made on first use inside the loop; the thread limit belongs to that loop too.
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Semaphore(self.pool_size)
            limiter = anyio.to_thread.current_default_thread_limiter()
            limiter.total_tokens = max(limiter.total_tokens, self.pool_size + THREAD_HEADROOM)
        return gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith("/static/") or path == "/healthz":
            await self.app(scope, receive, send)
            return
        async with self._semaphore():
            await self.app(scope, receive, send)

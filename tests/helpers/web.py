"""A throwaway aiohttp server on a free loopback port, for tests that need a websocket peer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def serve_route(path: str, handler: Handler) -> AsyncIterator[str]:
    """Serve ``handler`` at ``path`` on 127.0.0.1; yields the ``ws://`` URL of that route."""
    app = web.Application()
    app.router.add_get(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        yield f"ws://127.0.0.1:{port}{path}"
    finally:
        await runner.cleanup()

"""Run Sanic apps on free local ports inside a test (Sanic 21.12, no sanic-testing needed)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Iterator

from sanic import Sanic


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def serving(app: Sanic, port: int | None = None) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1 in the running event loop; yields its base URL."""
    port = port or free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False, debug=False
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.before_stop()
        server.close()
        for connection in list(server.connections):
            connection.close_if_idle()
        await server.wait_closed()
        await server.after_stop()


@contextlib.contextmanager
def serving_in_thread(*apps_and_ports: tuple[Sanic, int]) -> Iterator[None]:
    """Serve several apps from one background thread (its own event loop) until the block ends."""
    ready = threading.Event()
    errors: list[BaseException] = []
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def main() -> None:
        async with contextlib.AsyncExitStack() as stack:
            for app, port in apps_and_ports:
                await stack.enter_async_context(serving(app, port))
            ready.set()
            await stop.wait()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(main())
        except BaseException as exc:  # reported to the test
            errors.append(exc)
            ready.set()
        finally:
            # Open connections (WebSockets, keep-alive) end while the loop still runs.
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(30)
    if errors:
        raise errors[0]
    try:
        yield
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()

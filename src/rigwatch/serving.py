"""Running uvicorn inside a larger asyncio program (demo, tests) with our own signal handling."""

from __future__ import annotations

import contextlib
from collections.abc import Generator

import uvicorn


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves SIGINT/SIGTERM to the program that embeds it.

    uvicorn re-raises a captured Ctrl-C after it stops, which would interrupt the
    embedding program's own clean shutdown (the sentry, the simulators).
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

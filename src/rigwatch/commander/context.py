"""What every request handler reaches through `request.app.state.rw`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from fastapi import Request
from sqlalchemy.engine import Connection, Engine

from rigwatch.commander.jobs import Scheduler
from rigwatch.commander.stream import StreamHub
from rigwatch.commander.writer import IngestWriter
from rigwatch.config import Settings

T = TypeVar("T")


@dataclass
class Commander:
    settings: Settings
    engine: Engine
    writer: IngestWriter
    hub: StreamHub
    scheduler: Scheduler
    # Sentry id → the version its batches last reported; written to the store on change.
    sentry_versions: dict[int, str] = field(default_factory=dict)

    def read(self, fn: Callable[[Connection], T]) -> T:
        """Run a read on its own pooled connection (never the writer's)."""
        with self.engine.connect() as conn:
            return fn(conn)

    def change(self, fn: Callable[[Connection], T]) -> T:
        """Run a small administrative change in its own transaction."""
        with self.engine.begin() as conn:
            return fn(conn)


def commander(request: Request) -> Commander:
    rw: Commander = request.app.state.rw
    return rw

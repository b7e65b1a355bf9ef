"""The store's own fixtures: a migrated engine on each database, batches for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.engine import Engine

from rigwatch.domain.batch import Batch
from rigwatch.domain.models import Event
from rigwatch.store.auth import create_sentry
from rigwatch.store.engine import make_engine, upgrade
from tests.integration.store.store_helpers import Reading


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated, empty store on each database."""
    eng = make_engine(db_url)
    upgrade(eng)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def sentry_id(engine: Engine) -> int:
    with engine.begin() as conn:
        sid, _token = create_sentry(conn, "rack-a")
    return sid


BatchFactory = Callable[..., Batch]


@pytest.fixture
def make_batch(sentry_id: int) -> BatchFactory:
    def build(
        seq: int, readings: tuple[Reading, ...] = (), events: tuple[Event, ...] = ()
    ) -> Batch:
        return Batch(sentry_id=sentry_id, seq=seq, readings=readings, events=events)

    return build

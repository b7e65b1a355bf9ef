"""Engines, PRAGMAs and migrations on real databases."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from rigwatch.domain.batch import Batch
from rigwatch.store.auth import audit, create_sentry
from rigwatch.store.engine import current_revision, head_revision, make_engine, upgrade
from rigwatch.store.ingest import write_batches
from rigwatch.store.tables import audit_log, metadata, samples, sites
from tests.integration.store.store_helpers import at, reading


def test_migrations_match_the_table_definitions(engine: Engine):
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_upgrading_twice_is_a_no_op(engine: Engine):
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert list(conn.execute(select(sites.c.name)).scalars()) == ["default"]


def test_concurrent_upgrades_of_a_fresh_database_both_succeed(db_url: str):
    engines = [make_engine(db_url) for _ in range(2)]
    errors: list[BaseException] = []

    def run(engine: Engine) -> None:
        try:
            upgrade(engine)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert current_revision(engines[0]) == head_revision()
    finally:
        for engine in engines:
            engine.dispose()


def test_sqlite_engine_creates_the_directory_and_sets_pragmas(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'a' / 'b' / 'rw.db'}")
    try:
        with engine.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
            }
    finally:
        engine.dispose()
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 1,
        "busy_timeout": 10000,
        "foreign_keys": 1,
    }
    assert (tmp_path / "a" / "b" / "rw.db").exists()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "mysql://x/y"])
def test_unsupported_urls_are_refused(url: str):
    with pytest.raises(ValueError, match=r"SQLite file|unsupported"):
        make_engine(url)


def test_a_second_process_writes_while_the_writer_holds_its_transaction(sqlite_url: str):
    """The CLI (own engine) must wait for the commander's writer, not fail."""
    writer_engine = make_engine(sqlite_url)
    cli_engine = make_engine(sqlite_url)
    try:
        upgrade(writer_engine)
        with writer_engine.begin() as conn:
            sentry_id, _ = create_sentry(conn, "rack-a")
        released = threading.Event()
        cli_done = threading.Event()
        failures: list[BaseException] = []

        def cli() -> None:
            try:
                upgrade(cli_engine)
                with cli_engine.begin() as conn:
                    audit(conn, "cli", "user.create", "bob")
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                failures.append(exc)
            finally:
                cli_done.set()

        with writer_engine.begin() as conn:
            batch = Batch(sentry_id, 1, (reading("m1", 0),))
            write_batches(conn, [batch], at(10))
            thread = threading.Thread(target=cli)
            thread.start()
            assert not cli_done.wait(0.5), "the CLI should wait for the writer's lock"
            released.set()
        thread.join(15)
        assert failures == []
        with cli_engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(audit_log)).scalar_one() == 1
            assert conn.execute(select(func.count()).select_from(samples)).scalar_one() == 1
    finally:
        writer_engine.dispose()
        cli_engine.dispose()


def test_readers_see_committed_rows_while_a_write_is_open(sqlite_url: str):
    engine = make_engine(sqlite_url)
    try:
        upgrade(engine)
        with engine.begin() as writer:
            audit(writer, "a", "b", "c")
            with engine.connect() as reader:
                count = reader.execute(select(func.count()).select_from(audit_log)).scalar_one()
        assert count == 0
    finally:
        engine.dispose()

"""Migration 0012 (pool kind `p2pool-observer`) on a store that already holds pool data.

Widening the kind CHECK must not touch a row: a table rebuild on SQLite would cascade
into the accounts' samples, workers and payouts (the first attempt at this migration
did exactly that; this test caught it).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from rigwatch.store.engine import current_revision, downgrade, head_revision, make_engine, upgrade
from rigwatch.store.tables import pool_account_samples, pool_accounts, pool_payouts


@pytest.fixture
def at_0011(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    upgrade(eng, "0011")
    try:
        yield eng
    finally:
        eng.dispose()


def account(kind: str, url: str) -> dict[str, object]:
    return {
        "kind": kind,
        "name": f"{kind} farm",
        "base_url": url,
        "account": "acct",
        "interval_s": 300,
        "enabled": True,
        "created_at": 1,
        "consecutive_failures": 0,
    }


def counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (pool_accounts, pool_account_samples, pool_payouts)
        )


def test_the_new_kind_is_allowed_and_nothing_stored_is_lost(at_0011: Engine) -> None:
    with at_0011.begin() as conn:
        created = conn.execute(
            insert(pool_accounts).values(account("ckpool", "http://127.0.0.1:1/ck"))
        ).inserted_primary_key
        assert created is not None
        account_id = created[0]
        conn.execute(
            insert(pool_account_samples).values(
                account_id=account_id, ts=5, hashrates="{}", coin="BTC"
            )
        )
        conn.execute(
            insert(pool_payouts).values(
                account_id=account_id,
                ts=5,
                amount_atomic=1000,
                coin="BTC",
                txid="ab" * 32,
                first_seen=5,
            )
        )
    with pytest.raises(IntegrityError), at_0011.begin() as conn:
        conn.execute(insert(pool_accounts).values(account("p2pool-observer", "http://127.0.0.1:1")))

    upgrade(at_0011)

    assert current_revision(at_0011) == head_revision()
    assert counts(at_0011) == (1, 1, 1)
    with at_0011.begin() as conn:
        conn.execute(insert(pool_accounts).values(account("p2pool-observer", "http://127.0.0.1:1")))
    with pytest.raises(IntegrityError), at_0011.begin() as conn:
        conn.execute(insert(pool_accounts).values(account("bogus", "http://127.0.0.1:2")))
    assert counts(at_0011) == (2, 1, 1)

    # Back to 0011: the observer account goes (its kind no longer exists), the rest stays.
    downgrade(at_0011, "0011")
    assert counts(at_0011) == (1, 1, 1)
    with pytest.raises(IntegrityError), at_0011.begin() as conn:
        conn.execute(insert(pool_accounts).values(account("p2pool-observer", "http://127.0.0.1:3")))

"""Alert evaluation over a real store (SQLite and PostgreSQL): stored state and rollups in,
alerts and their events out, each written once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from rigwatch.commander.alert_eval import AlertReport, AlertTrigger, alert_job, evaluate
from rigwatch.domain.alerts import DEFAULT_RULES, RuleKind, Scope, Severity
from rigwatch.domain.batch import Batch, Reading
from rigwatch.domain.models import MinerIdentity, MinerKind, Sample
from rigwatch.store import alerts as store
from rigwatch.store import jsontext
from rigwatch.store.ingest import BatchResult, write_batches
from rigwatch.store.tables import alert_rules, alerts, events, miners, rollup_5m
from rigwatch.store.timestamps import to_us
from tests.integration.store.store_helpers import at

TH = 1e12
START = 3 * 3600  # the tests' "now" starts three hours after the fixed epoch


def _reading(
    key: str, seconds: float, *, temp: float = 60.0, fans: tuple[int, ...] = (4000,)
) -> Reading:
    return Reading(
        miner=MinerIdentity(key=key, kind=MinerKind.ASIC, hostname=key),
        sample=Sample(
            ts=at(seconds),
            hashrate_hs=100 * TH,
            hashrate_expected_hs=100 * TH,
            temp_c=temp,
            temp_max_c=temp + 5,
            power_w=3000.0,
            fans_rpm=fans,
            accepted=1000,
            rejected=0,
            stale=0,
        ),
    )


def _write(engine: Engine, sentry_id: int, seq: int, seconds: float, *readings: Reading) -> None:
    with engine.begin() as conn:
        write_batches(conn, [Batch(sentry_id=sentry_id, seq=seq, readings=readings)], at(seconds))


def _ids(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {r.key: r.id for r in conn.execute(select(miners.c.key, miners.c.id))}


def _rollups(conn: Connection, miner_id: int, now_s: float, **figures: Any) -> None:
    """An hour of 5-minute rows ending at `now_s` (twelve buckets, full coverage)."""
    first = int(now_s // 300) * 300 - 11 * 300
    rows = []
    for i in range(12):
        row = {
            "miner_id": miner_id,
            "bucket": to_us(at(first + 300 * i)),
            "samples": 10,
            "up_s": 300.0,
            "hashrate_mean": 100 * TH,
            "expected_mean": 100 * TH,
            "accepted": 50,
            "rejected": 0,
            "stale": 0,
        }
        row.update({k: (v(i) if callable(v) else v) for k, v in figures.items()})
        rows.append(row)
    conn.execute(insert(rollup_5m), rows)


def _eval(engine: Engine, seconds: float, failing: list[str] | None = None) -> AlertReport:
    with engine.begin() as conn:
        return evaluate(conn, at(seconds), failing_jobs=failing or [], offline_after_s=120)


def _open(engine: Engine) -> dict[tuple[str, str], str]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(alerts.c.kind, alerts.c.subject, alerts.c.state).where(
                alerts.c.open_key.is_not(None)
            )
        )
        return {(r.kind, r.subject): r.state for r in rows}


def _events(engine: Engine) -> list[tuple[str, dict[str, Any]]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(events.c.kind, events.c.data)
            .where(events.c.kind.like("alert_%"))
            .order_by(events.c.id)
        )
        return [(r.kind, jsontext.loads(r.data)) for r in rows]


def test_the_default_rules_are_there_after_the_migration(engine: Engine) -> None:
    with engine.connect() as conn:
        kinds = [r.kind for r in store.list_rules(conn)]
    assert kinds == [str(d.kind) for d in DEFAULT_RULES]


def test_an_overheating_miner_fires_once_and_resolves_once_when_it_cools(
    engine: Engine, sentry_id: int
) -> None:
    t = START
    _write(engine, sentry_id, 1, t, _reading("hot", t, temp=99.0), _reading("ok", t))
    ids = _ids(engine)
    assert _eval(engine, t).fired == 0  # temperature holds 60 s before firing
    assert _open(engine) == {("temp_high", f"miner:{ids['hot']}"): "pending"}
    _write(engine, sentry_id, 2, t + 60, _reading("hot", t + 60, temp=99.0), _reading("ok", t + 60))
    report = _eval(engine, t + 60)
    assert report.fired == 1
    assert len(report.event_ids) == 1
    for seq, dt in enumerate((120, 180, 240), start=3):  # still hot: nothing new
        _write(
            engine,
            sentry_id,
            seq,
            t + dt,
            _reading("hot", t + dt, temp=99.0),
            _reading("ok", t + dt),
        )
        assert _eval(engine, t + dt).event_ids == []
    fired = _events(engine)
    assert [k for k, _d in fired] == ["alert_fired"]
    data = fired[0][1]
    assert data["rule"] == "temp_high"
    assert data["subject"] == f"miner:{ids['hot']}"
    assert data["severity"] == "critical"
    assert data["value"] == 104.0
    assert data["silenced"] is False
    with engine.connect() as conn:
        alert_id: int = conn.execute(select(alerts.c.id)).scalar_one()
        event_miner: int | None = conn.execute(
            select(events.c.miner_id).where(events.c.kind == "alert_fired")
        ).scalar_one()
    assert data["alert_id"] == alert_id
    assert event_miner == ids["hot"]

    with engine.begin() as conn:  # a person acknowledges it; evaluation keeps that
        assert store.ack_alert(conn, alert_id, "olga", at(t + 250))
    for seq, dt in enumerate(range(300, 600, 60), start=10):  # cools down
        _write(
            engine,
            sentry_id,
            seq,
            t + dt,
            _reading("hot", t + dt, temp=60.0),
            _reading("ok", t + dt),
        )
        _eval(engine, t + dt)
    assert _open(engine) == {("temp_high", f"miner:{ids['hot']}"): "firing"}  # recover hold
    _write(
        engine, sentry_id, 30, t + 600, _reading("hot", t + 600, temp=60.0), _reading("ok", t + 600)
    )
    assert _eval(engine, t + 600).resolved == 1
    assert _open(engine) == {}
    assert [k for k, _d in _events(engine)] == ["alert_fired", "alert_resolved"]
    with engine.connect() as conn:
        view = store.get_alert(conn, alert_id)
        total = conn.execute(select(func.count()).select_from(alerts)).scalar_one()
    assert view is not None
    assert view.state == "resolved"
    assert view.acked_by == "olga"
    assert view.resolved_at == at(t + 600)
    assert total == 1


def test_rollup_rules_read_the_last_hour_in_bulk(engine: Engine, sentry_id: int) -> None:
    t = START
    keys = ("fine", "slow", "rejecting", "hung")
    _write(engine, sentry_id, 1, t, *(_reading(k, t) for k in keys))
    ids = _ids(engine)
    with engine.begin() as conn:
        _rollups(conn, ids["fine"], t)
        _rollups(conn, ids["slow"], t, hashrate_mean=60 * TH)
        _rollups(conn, ids["rejecting"], t, accepted=40, rejected=10)
        _rollups(conn, ids["hung"], t, accepted=lambda i: 50 if i < 6 else 0)
        # an old row of "slow" that is outside the hour: not read
        conn.execute(
            insert(rollup_5m).values(
                miner_id=ids["slow"],
                bucket=to_us(at(t - 2 * 3600)),
                samples=10,
                up_s=300.0,
                hashrate_mean=1000 * TH,
                expected_mean=100 * TH,
            )
        )
    report = _eval(engine, t)
    assert report.fired == 3
    assert _open(engine) == {
        ("hashrate_low", f"miner:{ids['slow']}"): "firing",
        ("rejected_rate", f"miner:{ids['rejecting']}"): "firing",
        ("hung", f"miner:{ids['hung']}"): "firing",
    }


def test_overrides_silences_jobs_and_deleting_a_rule(engine: Engine, sentry_id: int) -> None:
    t = START
    _write(engine, sentry_id, 1, t, _reading("a", t, fans=(4000, 0)), _reading("b", t, fans=(0,)))
    ids = _ids(engine)
    now = at(t)
    with engine.begin() as conn:
        fan_rule: int = conn.execute(
            select(alert_rules.c.id).where(alert_rules.c.kind == "fan_failed")
        ).scalar_one()
        conn.execute(update(alert_rules).where(alert_rules.c.id == fan_rule).values(hold_s=0))
        store.create_rule(
            conn,
            kind=RuleKind.FAN_FAILED,
            scope=Scope.parse(f"miner:{ids['b']}"),
            params={},
            severity=Severity.INFO,
            enabled=False,
            hold_s=0,
            recover_s=0,
            now=now,
        )
        store.create_silence(
            conn,
            rule_id=None,
            subject=f"miner:{ids['a']}",
            until=at(t + 3600),
            reason="fan on order",
            created_by="olga",
            now=now,
        )
    report = _eval(engine, t, failing=["rollups"])
    assert _open(engine) == {
        ("fan_failed", f"miner:{ids['a']}"): "firing",
        ("job_failing", "job:rollups"): "firing",
    }
    fired = {d["subject"]: d["silenced"] for _k, d in _events(engine)}
    assert fired == {f"miner:{ids['a']}": True, "job:rollups": False}
    assert report.fired == 2

    with engine.begin() as conn:
        assert store.delete_rule(conn, fan_rule, at(t + 30))
    assert _open(engine) == {("job_failing", "job:rollups"): "firing"}
    last_kind, last = _events(engine)[-1]
    assert (last_kind, last["subject"], last["silenced"]) == (
        "alert_resolved",
        f"miner:{ids['a']}",
        True,
    )
    with engine.connect() as conn:
        history = store.list_alerts(conn, subject=f"miner:{ids['a']}")
    assert [(a.state, a.rule_id, a.kind) for a in history] == [("resolved", None, "fan_failed")]
    _eval(engine, t + 60, failing=[])
    assert _open(engine) == {}


def test_the_alert_job_evaluates_when_poked_or_due_and_idles_otherwise(engine: Engine) -> None:
    failing = ["rollups"]
    trigger = AlertTrigger()
    spec = alert_job(lambda: list(failing), trigger, every_s=3600, min_gap_s=0, duty=0)
    assert spec.every_s == 1.0
    assert spec.sync is not None
    spec.sync(engine, at(START))  # the first tick is due
    assert _open(engine) == {("job_failing", "job:rollups"): "firing"}
    failing.clear()
    spec.sync(engine, at(START + 1))  # not poked, not due: nothing read
    assert _open(engine) == {("job_failing", "job:rollups"): "firing"}
    trigger.poke([BatchResult(sentry_id=1, seq=1, stored=False, samples=5, events=0)])
    spec.sync(engine, at(START + 2))  # a replayed batch stored nothing: no poke
    assert _open(engine) == {("job_failing", "job:rollups"): "firing"}
    trigger.poke([BatchResult(sentry_id=1, seq=2, stored=True, samples=5, events=0)])
    outcome = spec.sync(engine, at(START + 3))
    assert _open(engine) == {}
    assert outcome is not None
    assert "1 resolved" in outcome.detail
    assert alert_job(lambda: [], None).every_s == 60.0


def test_a_poke_within_the_gap_waits_and_is_not_lost(engine: Engine) -> None:
    failing = ["rollups"]
    trigger = AlertTrigger()
    spec = alert_job(lambda: list(failing), trigger, every_s=3600, min_gap_s=3600)
    assert spec.sync is not None
    spec.sync(engine, at(START))
    failing.clear()
    trigger.poke()
    spec.sync(engine, at(START + 1))
    assert trigger.pending
    assert _open(engine) == {("job_failing", "job:rollups"): "firing"}

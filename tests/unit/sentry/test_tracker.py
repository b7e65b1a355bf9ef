"""Poll outcomes become events: discovered, offline after two misses, online, restarted,
pool changed; keys are stable so replays dedupe."""

from __future__ import annotations

import pytest

from rigwatch.domain.models import EventKind, Sample
from rigwatch.sentry.tracker import Tracker
from tests.unit.sentry.sentry_helpers import at, identity

KEY = "AA:BB:CC:00:00:01"


def ok(tr: Tracker, t: float, **fields: object) -> list[EventKind]:
    return [e.kind for e in tr.observe_ok(identity(KEY), Sample(ts=at(t), **fields))]  # type: ignore[arg-type]


def miss(tr: Tracker, t: float) -> list[EventKind]:
    return [e.kind for e in tr.observe_miss(KEY, at(t), "timeout")]


def test_first_sight_is_a_discovery_and_only_the_first() -> None:
    tr = Tracker()
    events = tr.observe_ok(identity(KEY), Sample(ts=at(0), uptime_s=10))
    assert [e.kind for e in events] == [EventKind.MINER_DISCOVERED]
    assert events[0].key == f"{KEY}:discovered"
    assert events[0].miner_key == KEY
    assert events[0].data["ip"] == "127.0.40.1"
    assert ok(tr, 30, uptime_s=40) == []


def test_one_missed_poll_is_not_yet_offline() -> None:
    tr = Tracker()
    ok(tr, 0)
    assert miss(tr, 30) == []
    assert tr.offline_since(KEY) is None
    assert ok(tr, 60) == []


def test_two_missed_polls_in_a_row_make_one_offline_event_at_the_first_miss() -> None:
    tr = Tracker()
    ok(tr, 0)
    assert miss(tr, 30) == []
    events = tr.observe_miss(KEY, at(60), "refused")
    assert [e.kind for e in events] == [EventKind.MINER_OFFLINE]
    assert events[0].ts == at(30)
    assert events[0].key == f"{KEY}:offline:{at(30).isoformat(timespec='microseconds')}"
    assert "refused" in events[0].message
    assert tr.offline_since(KEY) == at(30)
    assert miss(tr, 90) == []
    assert miss(tr, 120) == []


def test_a_miss_between_successes_resets_the_count() -> None:
    tr = Tracker()
    ok(tr, 0)
    miss(tr, 30)
    ok(tr, 60)
    assert miss(tr, 90) == []


def test_the_return_after_offline_is_one_online_event() -> None:
    tr = Tracker()
    ok(tr, 0, uptime_s=100)
    miss(tr, 30)
    miss(tr, 60)
    events = tr.observe_ok(identity(KEY), Sample(ts=at(90), uptime_s=190))
    assert [e.kind for e in events] == [EventKind.MINER_ONLINE]
    assert events[0].data["offline_s"] == 60.0
    assert tr.offline_since(KEY) is None
    assert ok(tr, 120, uptime_s=220) == []


def test_a_miner_that_never_answered_can_still_go_offline() -> None:
    tr = Tracker()
    assert miss(tr, 0) == []
    assert miss(tr, 30) == [EventKind.MINER_OFFLINE]
    assert ok(tr, 60) == [EventKind.MINER_DISCOVERED, EventKind.MINER_ONLINE]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ({"uptime_s": 5000}, {"uptime_s": 20}),
        ({"accepted": 900}, {"accepted": 3}),
        ({"uptime_s": 5000, "accepted": 900}, {"uptime_s": 20, "accepted": 3}),
    ],
)
def test_a_counter_going_down_is_one_restart(before: dict[str, int], after: dict[str, int]) -> None:
    tr = Tracker()
    ok(tr, 0, **before)
    events = tr.observe_ok(identity(KEY), Sample(ts=at(30), **after))  # type: ignore[arg-type]
    assert [e.kind for e in events] == [EventKind.MINER_RESTARTED]
    assert events[0].key.startswith(f"{KEY}:restarted:")


def test_counters_going_up_or_unknown_are_no_restart() -> None:
    tr = Tracker()
    ok(tr, 0, uptime_s=100, accepted=5)
    assert ok(tr, 30, uptime_s=130, accepted=5) == []
    assert ok(tr, 60) == []  # nothing reported: the last known values are kept
    assert ok(tr, 90, uptime_s=190, accepted=9) == []


def test_a_reboot_during_an_outage_is_reported_with_the_return() -> None:
    tr = Tracker()
    ok(tr, 0, uptime_s=10_000)
    miss(tr, 30)
    miss(tr, 60)
    assert ok(tr, 90, uptime_s=15) == [EventKind.MINER_ONLINE, EventKind.MINER_RESTARTED]


def test_a_new_active_pool_is_a_pool_change() -> None:
    tr = Tracker()
    ok(tr, 0, pool_url="stratum+tcp://127.0.40.200:3333")
    assert ok(tr, 30, pool_url="stratum+tcp://127.0.40.200:3333") == []
    events = tr.observe_ok(
        identity(KEY), Sample(ts=at(60), pool_url="stratum+tcp://127.0.40.201:3333")
    )
    assert [e.kind for e in events] == [EventKind.POOL_CHANGED]
    assert events[0].data == {
        "from": "stratum+tcp://127.0.40.200:3333",
        "to": "stratum+tcp://127.0.40.201:3333",
    }
    assert ok(tr, 90) == []  # an unknown pool is no change


def test_the_same_observations_give_the_same_keys() -> None:
    def run() -> list[str]:
        tr = Tracker()
        keys: list[str] = []
        keys += [e.key for e in tr.observe_ok(identity(KEY), Sample(ts=at(0), uptime_s=50))]
        keys += [e.key for e in tr.observe_miss(KEY, at(30))]
        keys += [e.key for e in tr.observe_miss(KEY, at(60))]
        keys += [e.key for e in tr.observe_ok(identity(KEY), Sample(ts=at(90), uptime_s=5))]
        return keys

    first = run()
    assert first == run()
    assert len(set(first)) == len(first) == 4


def test_miners_are_tracked_independently() -> None:
    tr = Tracker()
    other = identity("AA:BB:CC:00:00:02", "127.0.40.2")
    tr.observe_ok(identity(KEY), Sample(ts=at(0)))
    tr.observe_ok(other, Sample(ts=at(0)))
    tr.observe_miss(KEY, at(30))
    assert tr.observe_miss(KEY, at(60))[0].miner_key == KEY
    assert tr.offline_since(other.key) is None


def test_the_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Tracker(offline_after_misses=0)

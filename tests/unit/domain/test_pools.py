"""Pool model rules: window labels, worker names per account, the gap episode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rigwatch.domain.pools import (
    GapStep,
    bare_worker,
    gap_fraction,
    preferred_rate,
    step_gap,
    window_label,
    window_seconds,
)

T0 = datetime(2025, 7, 8, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("seconds", "label"),
    [
        (60, "1m"),
        (300, "5m"),
        (600, "10m"),
        (3600, "1h"),
        (10800, "3h"),
        (86400, "1d"),
        (45, "45s"),
    ],
)
def test_window_labels_round_trip(seconds: int, label: str) -> None:
    assert window_label(seconds) == label
    assert window_seconds(label) == seconds


def test_the_hour_window_is_preferred() -> None:
    assert preferred_rate({"1m": 1.0, "5m": 2.0, "1h": 3.0, "1d": 4.0}) == 3.0
    assert preferred_rate({"1m": 1.0, "5m": 2.0}) == 2.0
    assert preferred_rate({}) is None


@pytest.mark.parametrize(
    ("user", "bare"),
    [
        ("BC1QACCOUNT.Rig1", "rig1"),  # address.worker at this account, any case
        ("bc1qaccount.rig.a", "rig.a"),  # the worker part may hold dots
        ("rig1", "rig1"),  # already bare
        ("bc1qaccount", "bc1qaccount"),  # ckpool/P2Pool: the bare address is the worker
        ("bc1qother.rig1", None),  # another account's rig1 is not ours
        ("  ", None),
        (None, None),
    ],
)
def test_bare_worker_names(user: str | None, bare: str | None) -> None:
    assert bare_worker(user, "bc1qAccount") == bare


def test_gap_fraction() -> None:
    assert gap_fraction(100.0, 80.0) == pytest.approx(0.2)
    assert gap_fraction(100.0, 130.0) == pytest.approx(0.3)
    assert gap_fraction(100.0, 0.0) == 1.0
    assert gap_fraction(0.0, 5.0) is None
    assert gap_fraction(None, 5.0) is None
    assert gap_fraction(5.0, None) is None


def step(since: datetime | None, raised: bool, fraction: float | None, now: datetime) -> GapStep:
    return step_gap(
        since=since, raised=raised, fraction=fraction, now=now, threshold=0.2, sustain=HOUR
    )


def test_a_gap_raises_once_after_an_hour_and_its_end_raises_nothing() -> None:
    s = step(None, False, 0.5, T0)
    assert (s.since, s.raised, s.raise_event) == (T0, False, False)
    s = step(s.since, s.raised, 0.5, T0 + HOUR - timedelta(seconds=1))
    assert not s.raise_event
    s = step(s.since, s.raised, 0.5, T0 + HOUR)
    assert (s.since, s.raised, s.raise_event) == (T0, True, True)
    s = step(s.since, s.raised, 0.9, T0 + 2 * HOUR)
    assert (s.raised, s.raise_event) == (True, False)
    s = step(s.since, s.raised, 0.1, T0 + 3 * HOUR)
    assert (s.since, s.raised, s.raise_event) == (None, False, False)


def test_no_evidence_changes_nothing() -> None:
    s = step(T0, False, None, T0 + 2 * HOUR)
    assert (s.since, s.raised, s.raise_event) == (T0, False, False)


def test_exactly_the_threshold_is_not_a_gap() -> None:
    assert step(None, False, 0.2, T0).since is None

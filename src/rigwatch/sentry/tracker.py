"""Turns successive poll outcomes per miner into events. Pure logic: no I/O, no clock.

Rules:
- first successful poll of a miner: `miner_discovered` (once per sentry lifetime);
- `offline_after_misses` (2) failed polls in a row: `miner_offline`, once, timed at the
  first missed poll (the moment it went dark);
- the next successful poll after that: `miner_online`;
- a cumulative counter going down (uptime or accepted shares): `miner_restarted`. The
  previous readings survive an offline spell, so a reboot during an outage is reported
  together with the return;
- a different active pool URL than last time: `pool_changed`.

Event keys are built from the miner key, the kind and the timestamp of the observation
that caused the event, so a replayed batch carries the same keys and the commander
stores each event once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rigwatch.domain.counters import is_reset
from rigwatch.domain.models import Event, EventKind, MinerIdentity, Sample


@dataclass(slots=True)
class _MinerState:
    ever_ok: bool = False
    misses: int = 0
    first_miss_ts: datetime | None = None
    offline_since: datetime | None = None
    uptime_s: int | None = None
    accepted: int | None = None
    pool_url: str | None = None


def _iso(ts: datetime) -> str:
    return ts.isoformat(timespec="microseconds")


class Tracker:
    """Per-miner state machine; feed it every poll outcome in time order."""

    def __init__(self, offline_after_misses: int = 2) -> None:
        if offline_after_misses < 1:
            raise ValueError("offline_after_misses must be at least 1")
        self._threshold = offline_after_misses
        self._miners: dict[str, _MinerState] = {}

    def _state(self, key: str) -> _MinerState:
        return self._miners.setdefault(key, _MinerState())

    def observe_ok(self, identity: MinerIdentity, sample: Sample) -> list[Event]:
        """A successful poll; returns the events it causes."""
        key = identity.key
        st = self._state(key)
        ts = sample.ts
        events: list[Event] = []
        if not st.ever_ok:
            events.append(
                Event(
                    ts=ts,
                    kind=EventKind.MINER_DISCOVERED,
                    key=f"{key}:discovered",
                    miner_key=key,
                    message=f"miner {key} found at {identity.ip or 'unknown address'}",
                    data=_identity_data(identity),
                )
            )
        if st.offline_since is not None:
            down_s = (ts - st.offline_since).total_seconds()
            events.append(
                Event(
                    ts=ts,
                    kind=EventKind.MINER_ONLINE,
                    key=f"{key}:online:{_iso(ts)}",
                    miner_key=key,
                    message=f"miner {key} is back after {down_s:.0f} s",
                    data={"offline_since": _iso(st.offline_since), "offline_s": down_s},
                )
            )
        if st.ever_ok:
            reasons = []
            if is_reset(st.uptime_s, sample.uptime_s):
                reasons.append("uptime")
            if is_reset(st.accepted, sample.accepted):
                reasons.append("accepted")
            if reasons:
                events.append(
                    Event(
                        ts=ts,
                        kind=EventKind.MINER_RESTARTED,
                        key=f"{key}:restarted:{_iso(ts)}",
                        miner_key=key,
                        message=f"miner {key} restarted ({' and '.join(reasons)} went down)",
                        data={
                            "reset": ",".join(reasons),
                            "uptime_before_s": st.uptime_s,
                            "uptime_s": sample.uptime_s,
                            "accepted_before": st.accepted,
                            "accepted": sample.accepted,
                        },
                    )
                )
            if (
                sample.pool_url is not None
                and st.pool_url is not None
                and sample.pool_url != st.pool_url
            ):
                events.append(
                    Event(
                        ts=ts,
                        kind=EventKind.POOL_CHANGED,
                        key=f"{key}:pool:{_iso(ts)}",
                        miner_key=key,
                        message=f"miner {key} switched pool to {sample.pool_url}",
                        data={"from": st.pool_url, "to": sample.pool_url},
                    )
                )
        st.ever_ok = True
        st.misses = 0
        st.first_miss_ts = None
        st.offline_since = None
        if sample.uptime_s is not None:
            st.uptime_s = sample.uptime_s
        if sample.accepted is not None:
            st.accepted = sample.accepted
        if sample.pool_url is not None:
            st.pool_url = sample.pool_url
        return events

    def observe_miss(self, key: str, ts: datetime, reason: str = "") -> list[Event]:
        """A failed poll (timeout, refused, garbage); returns the events it causes."""
        st = self._state(key)
        st.misses += 1
        if st.first_miss_ts is None:
            st.first_miss_ts = ts
        if st.offline_since is not None or st.misses < self._threshold:
            return []
        since = st.first_miss_ts
        st.offline_since = since
        return [
            Event(
                ts=since,
                kind=EventKind.MINER_OFFLINE,
                key=f"{key}:offline:{_iso(since)}",
                miner_key=key,
                message=f"miner {key} missed {st.misses} polls in a row"
                + (f": {reason}" if reason else ""),
                data={"misses": st.misses, "reason": reason[:500]},
            )
        ]

    def offline_since(self, key: str) -> datetime | None:
        """When a miner went dark, if it is offline now."""
        st = self._miners.get(key)
        return None if st is None else st.offline_since

    def forget(self, key: str) -> None:
        """Drop a miner's state (it moved to another key or is no longer watched)."""
        self._miners.pop(key, None)


def _identity_data(identity: MinerIdentity) -> dict[str, object]:
    fields = {
        "kind": str(identity.kind),
        "ip": identity.ip,
        "mac": identity.mac,
        "make": identity.make,
        "model": identity.model,
        "firmware": identity.firmware,
        "hostname": identity.hostname,
    }
    return {name: value for name, value in fields.items() if value is not None}

"""Reading any miner pyasic supports, for makes rigwatch has no fast path for.

pyasic is pinned exactly and used only behind this adapter: `sample_from_miner_data` is the
one place its `MinerData` is turned into rigwatch's `Sample`, and `PyasicPoller` the one
place its exceptions are turned into rigwatch's typed poll errors.

Values are checked against the ingest contract's bounds here, at the edge: pyasic reports
absurd figures for models it only partly knows (e.g. 1e14 "TH/s"), and one such value
must cost that field, not the whole batch it would travel in.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx

from rigwatch.domain.models import Hashboard, MinerIdentity, PoolState, Sample
from rigwatch.protocols.ingest import MAX_HASHRATE_HS, MAX_TEMP_C, MIN_TEMP_C
from rigwatch.sentry.pollers.base import (
    BadReply,
    MinerRefused,
    MinerTimeout,
    PollError,
    PollResult,
)

# `config` costs extra requests and, on a Bitaxe, a failure there aborts the whole read;
# rigwatch does not use it.
EXCLUDED_DATA = ["config"]
MAX_ERRORS = 32
MAX_FANS = 16
MAX_BOARDS = 64
MAX_POOLS = 8


@dataclass(frozen=True, slots=True)
class MinerFacts:
    """What a poll says about who the miner is (the key and kind stay as discovered)."""

    mac: str | None = None
    hostname: str | None = None
    make: str | None = None
    model: str | None = None
    firmware: str | None = None
    worker: str | None = None

    def apply(self, identity: MinerIdentity) -> MinerIdentity:
        """The identity updated with every fact this poll knows."""
        updates = {
            name: value
            for name in ("mac", "hostname", "make", "model", "firmware", "worker")
            if (value := getattr(self, name)) is not None
        }
        return replace(identity, **updates) if updates else identity


def _text(value: object, limit: int) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text[:limit] if text else None


def hashrate_hs(value: object) -> float | None:
    """An `AlgoHashRate` (or plain number in TH/s) as H/s; None if absent or absurd."""
    if value is None:
        return None
    unit = getattr(value, "unit", None)
    rate: Any = getattr(value, "rate", value)
    try:
        if unit is not None:
            base = int(getattr(type(unit), "H", 1))
            hs = float(rate) * int(unit) / base
        else:
            hs = float(rate) * 1e12
    except (TypeError, ValueError):
        return None
    if not math.isfinite(hs) or hs < 0 or hs > MAX_HASHRATE_HS:
        return None
    return hs


def _temp(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        t = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not math.isfinite(t) or not MIN_TEMP_C <= t <= MAX_TEMP_C:
        return None
    return t


def _count(value: object, upper: int = 2**63 - 1) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        n = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return None
    return n if 0 <= n <= upper else None


def _power(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        w = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return w if math.isfinite(w) and 0 <= w <= 1_000_000 else None


def _boards(data: Any) -> tuple[Hashboard, ...]:
    boards: list[Hashboard] = []
    for i, hb in enumerate(list(getattr(data, "hashboards", None) or [])[:MAX_BOARDS]):
        slot = _count(getattr(hb, "slot", None), 63)
        chips_expected = _count(getattr(hb, "expected_chips", None), 10_000)
        boards.append(
            Hashboard(
                index=i if slot is None else slot,
                hashrate_hs=hashrate_hs(getattr(hb, "hashrate", None)),
                temp_c=_temp(getattr(hb, "temp", None)),
                chip_temp_c=_temp(getattr(hb, "chip_temp", None)),
                chips=_count(getattr(hb, "chips", None), 10_000),
                chips_expected=chips_expected,
                missing=bool(getattr(hb, "missing", False)),
            )
        )
    return tuple(boards)


def _pools(data: Any) -> tuple[PoolState, ...]:
    pools: list[PoolState] = []
    for p in list(getattr(data, "pools", None) or [])[:MAX_POOLS]:
        url = getattr(p, "url", None)
        active = getattr(p, "active", None)
        alive = getattr(p, "alive", None)
        pools.append(
            PoolState(
                url=(_text(url, 256) or ""),
                user=_text(getattr(p, "user", None), 256),
                active=bool(active),
                alive=alive if isinstance(alive, bool) else None,
                accepted=_count(getattr(p, "accepted", None)),
                rejected=_count(getattr(p, "rejected", None)),
            )
        )
    return tuple(pools)


def _sum(values: list[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _errors(data: Any) -> tuple[str, ...]:
    out: list[str] = []
    for err in list(getattr(data, "errors", None) or [])[:MAX_ERRORS]:
        message = getattr(err, "error_message", None)
        code = getattr(err, "error_code", None)
        text = message or (f"error code {code}" if code is not None else str(err))
        out.append(str(text)[:256])
    return tuple(out)


def _firmware(data: Any) -> str | None:
    parts = [_text(getattr(data, "firmware", None), 64), _text(getattr(data, "fw_ver", None), 64)]
    joined = " ".join(p for p in parts if p)
    return joined[:64] or None


def sample_from_miner_data(data: Any, ts: datetime) -> tuple[MinerFacts, Sample]:
    """Map a pyasic `MinerData` onto rigwatch's identity facts and `Sample`.

    Hashrates become H/s from the value's own unit (pyasic reports SHA-256 in TH/s);
    shares are the sums over the miner's pools; the active pool is the one marked
    active, else the first alive one, else the first.
    """
    boards = _boards(data)
    pools = _pools(data)
    active = (
        next((p for p in pools if p.active), None)
        or next((p for p in pools if p.alive), None)
        or (pools[0] if pools else None)
    )
    board_temps = [b.temp_c for b in boards if b.temp_c is not None]
    chip_temps = [b.chip_temp_c for b in boards if b.chip_temp_c is not None]
    fans = [
        speed
        for f in list(getattr(data, "fans", None) or [])[:MAX_FANS]
        if (speed := _count(getattr(f, "speed", None), 100_000)) is not None
    ]
    mac = _text(getattr(data, "mac", None), 32)
    sample = Sample(
        ts=ts,
        hashrate_hs=hashrate_hs(getattr(data, "hashrate", None)),
        hashrate_expected_hs=hashrate_hs(getattr(data, "expected_hashrate", None)),
        temp_c=sum(board_temps) / len(board_temps) if board_temps else None,
        temp_max_c=max(board_temps + chip_temps) if board_temps or chip_temps else None,
        chip_temp_c=sum(chip_temps) / len(chip_temps) if chip_temps else None,
        fans_rpm=tuple(fans),
        power_w=_power(getattr(data, "wattage", None)),
        accepted=_sum([p.accepted for p in pools]),
        rejected=_sum([p.rejected for p in pools]),
        uptime_s=_count(getattr(data, "uptime", None)),
        pool_url=(active.url or None) if active else None,
        pool_user=active.user if active else None,
        errors=_errors(data),
        hashboards=boards,
        pools=pools,
    )
    facts = MinerFacts(
        mac=mac.upper() if mac else None,
        hostname=_text(getattr(data, "hostname", None), 64),
        make=_text(getattr(data, "make", None), 64),
        model=_text(getattr(data, "model", None), 64),
        firmware=_firmware(data),
        worker=active.user if active else None,
    )
    return facts, sample


def poll_error_from(exc: BaseException, where: str) -> PollError:
    """The typed poll error for whatever pyasic raised, following the cause chain
    (pyasic wraps the real failure in `APIError("Failed to call ...")`)."""
    seen: BaseException | None = exc
    depth = 0
    while seen is not None and depth < 10:
        if isinstance(seen, PollError):
            return seen
        if isinstance(seen, TimeoutError | httpx.TimeoutException):
            return MinerTimeout(f"{where}: no answer in time ({seen!r})")
        if isinstance(seen, ConnectionRefusedError | ConnectionResetError | httpx.ConnectError):
            return MinerRefused(f"{where}: connection refused or reset ({seen!r})")
        seen = seen.__cause__ or seen.__context__
        depth += 1
    return BadReply(f"{where}: {exc!r}"[:500])


class PyasicPoller:
    """Polls one miner through a pyasic miner object (from `pyasic.get_miner`)."""

    def __init__(self, identity: MinerIdentity, miner: Any, *, timeout_s: float = 10.0) -> None:
        self._identity = identity
        self._miner = miner
        self._timeout_s = timeout_s

    @property
    def identity(self) -> MinerIdentity:
        return self._identity

    @property
    def miner(self) -> Any:
        return self._miner

    async def poll(self) -> PollResult:
        where = f"pyasic {self._identity.ip}"
        try:
            async with asyncio.timeout(self._timeout_s):
                data = await self._miner.get_data(exclude=EXCLUDED_DATA)
        except TimeoutError as exc:
            raise MinerTimeout(f"{where}: no complete answer in {self._timeout_s} s") from exc
        except Exception as exc:  # pyasic raises many kinds; each becomes a typed poll error
            raise poll_error_from(exc, where) from exc
        facts, sample = sample_from_miner_data(data, datetime.now(UTC))
        self._identity = facts.apply(self._identity)
        return PollResult(identity=self._identity, sample=sample)

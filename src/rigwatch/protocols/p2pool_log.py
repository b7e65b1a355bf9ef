"""Monero P2Pool log lines (console and `--log-file` format) → events and hashrate readings.

Facts from PROTOCOLS.md 4.1. A line is `[SEVERITY]<UTC ts> <Category> <message>`; the file
adds an 8-character severity prefix, multi-line messages (status blocks) continue on
lines with no prefix at all, so those take the time of the last timestamped line.

Speed matters (a node writes millions of lines, almost none of them events), so
`P2PoolLogParser.feed` looks for three marker bytes over a whole chunk in C
(`bytes.find`) and only decodes and matches the lines that carry one; every other line
costs nothing but a newline count. `parse_line` is the same classification one
line at a time; both give the same result for the same lines (tested).

Event keys come from the line's own content, so reading a log again from the start, or
reading the console copy of the same log, gives the same keys and the commander stores
each event once. A block is keyed by its height alone: `P2Pool` and `SideChain` both
log the same block, and `BLOCK ACCEPTED` is the same block again.

Nothing here raises on any input: what is not understood is counted.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rigwatch.domain.models import Event, EventKind
from rigwatch.domain.p2pool import ATOMIC_PER_XMR

COIN = "XMR"
# Longer lines are not something P2Pool writes; skip them before any regex.
MAX_LINE = 4096
SYNCING_DIFF = 100_000
_MAX_INT = 2**63 - 1

SEVERITIES = ("NOTICE  ", "WARNING ", "ERROR   ")
# A line can carry an event or a reading only if it holds one of these bytes: D (FOUND,
# ACCEPTED), H (SHARE, H/s), X (XMR in a payout). Single bytes, because a one-byte
# find is a memchr at memory speed, where a word search over mostly lower-case text
# is several times slower; a line that holds one by chance only costs a closer look.
# ASCII, so the same test works on bytes and on decoded text.
MARKERS = ("D", "H", "X")
_BMARKERS = tuple(m.encode() for m in MARKERS)

_UNIT = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}

_TS = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{4} ", re.ASCII)
_EFFORT = r"(\d{1,12}(?:\.\d{1,12})?)%"
_SHARE = re.compile(
    r"SHARE FOUND: mainchain height (\d{1,19}), (?:sidechain height (\d{1,19}), )?"
    r"diff (\d{1,19})(?:"
    rf", client (\S{{1,200}}?)(?:,? user (.{{1,256}}?))?, effort {_EFFORT}"
    rf"|, effort {_EFFORT}"
    r"|, worker thread (\d{1,6})/(\d{1,6})"
    r")\s*$",
    re.ASCII,
)
_BLOCK = re.compile(
    r"BLOCK FOUND: main chain block at height (\d{1,19}) was mined by "
    r"(you|someone else in this p2pool|this p2pool)\b",
    re.ASCII,
)
_BY = {"you": "you", "someone else in this p2pool": "someone_else", "this p2pool": "this_p2pool"}
_ACCEPTED = re.compile(
    r"BLOCK ACCEPTED at height (\d{1,19})(?: and difficulty = (\d{1,30}))?\b", re.ASCII
)
_PAYOUT = re.compile(
    r"Your wallet (\S{1,160}) got a payout of (\d{1,9})\.(\d{1,12}) XMR in block (\d{1,19})\b",
    re.ASCII,
)
_RATE = r"(\d{1,15}(?:\.\d{1,12})?) ?([kKMGTPE]?)H/s"
_STATUS_RATE = re.compile(
    r"\s*(Main chain hashrate|Side chain hashrate|Your hashrate \(pool-side\)"
    rf"|Hashrate \((15m|1h|24h)\s+est\))\s*=\s*{_RATE}\s*$",
    re.ASCII,
)
_STATUS_SOURCE = {
    "Main chain hashrate": "main_chain",
    "Side chain hashrate": "side_chain",
    "Your hashrate (pool-side)": "pool_side",
}
_WORKER_ROW = re.compile(
    r"StratumServer (\S{1,200})\s+(?:(?:yes|no)\s+)?\d{1,9}[dhms](?: \d{1,9}[dhms]){0,3}"
    rf"\s+\d{{1,19}}\s+{_RATE}\s+(\S.{{0,255}}?)\s*$",
    re.ASCII,
)


@dataclass(frozen=True, slots=True)
class HashrateReading:
    """One hashrate figure from a status block or the `workers` table, in H/s.

    `source`: main_chain, side_chain, pool_side (your hashrate as the side chain sees
    it), local_15m / local_1h / local_24h (stratum estimates), worker (one stratum
    connection; `worker` and `address` say which). `ts` is None only when no
    timestamped line came before it.
    """

    ts: datetime | None
    source: str
    hashrate_hs: float
    worker: str | None = None
    address: str | None = None


@dataclass(slots=True)
class LineCounts:
    """What a parser made of the lines it saw; `malformed` are lines with an event marker
    that match no known version of the line (a new P2Pool wording, worth a look)."""

    lines: int = 0
    events: int = 0
    readings: int = 0
    syncing: int = 0
    malformed: int = 0
    unknown: int = 0

    def add(self, other: LineCounts) -> None:
        self.lines += other.lines
        self.events += other.events
        self.readings += other.readings
        self.syncing += other.syncing
        self.malformed += other.malformed
        self.unknown += other.unknown


@dataclass(frozen=True, slots=True)
class LogBatch:
    """Events and readings of a run of lines, in line order, and how the lines were counted."""

    events: tuple[Event, ...] = ()
    readings: tuple[HashrateReading, ...] = ()
    counts: LineCounts = field(default_factory=LineCounts)


class _Outcome:
    """Non-result classifications, kept apart from Event/HashrateReading by identity."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


SYNCING = _Outcome("syncing")
MALFORMED = _Outcome("malformed")
UNKNOWN = _Outcome("unknown")
_Result = Event | HashrateReading | _Outcome


def _split_ts(line: str) -> tuple[datetime | None, str]:
    """(timestamp, message after it) or (None, the line without its severity prefix)."""
    body = line[8:] if line[:8] in SEVERITIES else line
    m = _TS.match(body)
    if m is None:
        return None, body
    try:
        # The regex has checked the shape (ASCII digits only); fromisoformat is the
        # fast C path and still rejects impossible dates.
        ts = datetime.fromisoformat(body[:24]).replace(tzinfo=UTC)
    except ValueError:
        return None, body
    return ts, body[m.end() :]


def line_ts(line: str) -> datetime | None:
    """The UTC timestamp a line starts with (after any severity prefix), or None."""
    return _split_ts(line)[0]


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    value = int(text)
    return value if value <= _MAX_INT else None


def _hs(value: str, unit: str) -> float:
    return float(value) * _UNIT[unit]


def _digest(line: str) -> str:
    """Content key of a line; the severity prefix is dropped so console and file agree."""
    body = line[8:] if line[:8] in SEVERITIES else line
    return hashlib.blake2b(body.encode("utf-8", "replace"), digest_size=8).hexdigest()


def _category(msg: str, at: int) -> str | None:
    cat = msg[:at].strip()
    return cat[:64] or None


def _share(line: str, msg: str, ts: datetime) -> _Result:
    at = msg.find("SHARE FOUND: ")
    m = _SHARE.match(msg, at) if at >= 0 else None
    if m is None:
        return MALFORMED
    mh, sh, diff, client, user, effort_c, effort_o, thread, threads = m.groups()
    mainchain, sidechain, difficulty = _int(mh), _int(sh), _int(diff)
    if mainchain is None or difficulty is None or (sh is not None and sidechain is None):
        return MALFORMED
    if difficulty == SYNCING_DIFF:
        return SYNCING
    effort_text = effort_c or effort_o
    effort = float(effort_text) if effort_text is not None else None
    category = _category(msg, at)
    data: dict[str, object] = {
        "coin": COIN,
        "category": category,
        "mainchain_height": mainchain,
        "sidechain_height": sidechain,
        "difficulty": difficulty,
        "effort_pct": effort,
        "client": client,
        "user": user,
        "thread": int(thread) if thread is not None else None,
        "threads": int(threads) if threads is not None else None,
    }
    who = user or client or (f"thread {thread}/{threads}" if thread is not None else None)
    message = f"P2Pool share found at main chain height {mainchain}"
    if sidechain is not None:
        message += f", side chain height {sidechain}"
    if effort is not None:
        message += f", effort {effort_text}%"
    if who:
        message += f" ({who})"
    return Event(
        ts=ts,
        kind=EventKind.SHARE_FOUND,
        key=f"p2pool:share:{mainchain}:{sidechain or 0}:{_digest(line)}",
        message=message,
        data=data,
    )


def _block(msg: str, ts: datetime) -> _Result:
    at = msg.find("BLOCK FOUND: ")
    if at < 0 or msg[:at].endswith("AUX "):
        # Merge-mined (aux chain) blocks are not Monero blocks.
        return UNKNOWN
    m = _BLOCK.match(msg, at)
    if m is None:
        return MALFORMED
    height = _int(m.group(1))
    if height is None:
        return MALFORMED
    by = _BY[m.group(2)]
    return Event(
        ts=ts,
        kind=EventKind.BLOCK_FOUND,
        key=f"p2pool:block:{height}",
        message=f"Monero block {height} found by {m.group(2)}",
        data={
            "coin": COIN,
            "category": _category(msg, at),
            "block_height": height,
            "by": by,
            "accepted": None,
            "difficulty": None,
        },
    )


def _accepted(msg: str, ts: datetime) -> _Result:
    at = msg.find("BLOCK ACCEPTED at height ")
    m = _ACCEPTED.match(msg, at) if at >= 0 else None
    if m is None:
        return MALFORMED
    height = _int(m.group(1))
    if height is None:
        return MALFORMED
    diff = m.group(2)
    return Event(
        ts=ts,
        kind=EventKind.BLOCK_FOUND,
        key=f"p2pool:block:{height}",
        message=f"Monero block {height} submitted and accepted",
        data={
            "coin": COIN,
            "category": _category(msg, at),
            "block_height": height,
            # submit_block runs on the node whose miner found the block: it is ours.
            "by": "you",
            "accepted": True,
            "difficulty": _int(diff),
        },
    )


def _payout(msg: str, ts: datetime) -> _Result:
    at = msg.find("Your wallet ")
    m = _PAYOUT.match(msg, at) if at >= 0 else None
    if m is None:
        return MALFORMED
    wallet, whole, frac, block = m.groups()
    height = _int(block)
    if height is None:
        return MALFORMED
    # Exact: the log prints atomic/1e12 with 12 decimals; never go through float.
    amount = int(whole) * ATOMIC_PER_XMR + int(frac.ljust(12, "0"))
    return Event(
        ts=ts,
        kind=EventKind.PAYOUT,
        key=f"p2pool:payout:{height}:{wallet}",
        message=f"P2Pool payout of {whole}.{frac} XMR in block {height}",
        data={
            "coin": COIN,
            "amount_atomic": amount,
            "block_height": height,
            "wallet": wallet,
        },
    )


def _reading(msg: str, own_ts: datetime | None, ts: datetime | None) -> _Result:
    if own_ts is None:
        m = _STATUS_RATE.match(msg)
        if m is not None:
            label, window, value, unit = m.groups()
            source = f"local_{window}" if window else _STATUS_SOURCE[label]
            return HashrateReading(ts=ts, source=source, hashrate_hs=_hs(value, unit))
        return UNKNOWN
    m = _WORKER_ROW.match(msg)
    if m is None:
        return UNKNOWN
    address, value, unit, name = m.groups()
    return HashrateReading(
        ts=ts, source="worker", hashrate_hs=_hs(value, unit), worker=name, address=address
    )


def _classify(line: str, own_ts: datetime | None, msg: str, ctx_ts: datetime | None) -> _Result:
    """What a line is, given its own timestamp and message (`_split_ts`) and `ctx_ts`,
    the last timestamp before it."""
    if len(line) > MAX_LINE:
        return UNKNOWN
    line = line.rstrip()
    msg = msg.rstrip()
    ts = own_ts or ctx_ts
    if "FOUND" in msg:
        if "SHARE FOUND" in msg:
            return _share(line, msg, ts) if ts else MALFORMED
        if "BLOCK FOUND" in msg:
            return _block(msg, ts) if ts else MALFORMED
    if "BLOCK ACCEPTED" in msg:
        return _accepted(msg, ts) if ts else MALFORMED
    if "got a payout" in msg:
        return _payout(msg, ts) if ts else MALFORMED
    if "H/s" in msg:
        return _reading(msg, own_ts, ts)
    return UNKNOWN


def _count(counts: LineCounts, result: _Result) -> None:
    if isinstance(result, Event):
        counts.events += 1
    elif isinstance(result, HashrateReading):
        counts.readings += 1
    elif result is SYNCING:
        counts.syncing += 1
    elif result is MALFORMED:
        counts.malformed += 1
    else:
        counts.unknown += 1


class P2PoolLogParser:
    """Stateful over one log: remembers the last timestamp for the untimestamped lines
    of status blocks. `counts` accumulates over everything fed."""

    def __init__(self, last_ts: datetime | None = None) -> None:
        self.last_ts = last_ts
        self.counts = LineCounts()

    def parse_line(self, line: str) -> Event | HashrateReading | None:
        """One line (no newline); an event, a reading, or None (counted)."""
        self.counts.lines += 1
        own_ts, msg = _split_ts(line)
        if any(m in line for m in MARKERS):
            result = _classify(line, own_ts, msg, self.last_ts)
        else:
            result = UNKNOWN
        if own_ts is not None:
            self.last_ts = own_ts
        _count(self.counts, result)
        if isinstance(result, Event | HashrateReading):
            return result
        return None

    def feed(self, data: bytes | bytearray, end: int | None = None) -> LogBatch:
        """Whole lines of a log in `data[:end]` (a last line without newline counts too).

        Only lines holding a marker byte are decoded and matched; for an untimestamped
        one the lines before it are walked back to the nearest timestamp, never past the
        previous candidate, so the walk costs one or two lines per candidate. `end` lets
        a reader pass its own reusable buffer without copying it.
        """
        n = len(data) if end is None else min(end, len(data))
        if n <= 0:
            return LogBatch()
        if data[n - 1] != 0x0A:
            data, n = bytes(data[:n]) + b"\n", n + 1
        starts: set[int] = set()
        for marker in _BMARKERS:
            p = data.find(marker, 0, n)
            while p != -1:
                starts.add(data.rfind(b"\n", 0, p) + 1)
                p = data.find(marker, data.find(b"\n", p, n) + 1, n)
        counts = LineCounts(lines=data.count(b"\n", 0, n))
        counts.unknown = counts.lines - len(starts)
        events: list[Event] = []
        readings: list[HashrateReading] = []
        ctx_ts = self.last_ts
        floor = 0
        for s in sorted(starts):
            e = data.find(b"\n", s, n)
            line = data[s:e].decode("utf-8", "replace")
            own_ts, msg = _split_ts(line)
            if own_ts is None:
                found = _scan_back_ts(data, s, floor)
                if found is not None:
                    ctx_ts = found
            result = _classify(line, own_ts, msg, ctx_ts)
            if own_ts is not None:
                ctx_ts = own_ts
            floor = e + 1
            _count(counts, result)
            if isinstance(result, Event):
                events.append(result)
            elif isinstance(result, HashrateReading):
                readings.append(result)
        found = _scan_back_ts(data, n, floor)
        self.last_ts = found if found is not None else ctx_ts
        self.counts.add(counts)
        return LogBatch(events=tuple(events), readings=tuple(readings), counts=counts)


_TS_FIRST = frozenset(b"0123456789NWE")


def _scan_back_ts(data: bytes | bytearray, start: int, floor: int) -> datetime | None:
    """Timestamp of the newest timestamped line that ends before `start`, not before `floor`."""
    while start > floor:
        prev_start = max(data.rfind(b"\n", floor, start - 1) + 1, floor)
        # Only a line starting with a digit or a severity word can carry a timestamp.
        if prev_start < start - 1 and data[prev_start] in _TS_FIRST:
            ts = line_ts(data[prev_start : start - 1].decode("utf-8", "replace"))
            if ts is not None:
                return ts
        start = prev_start
    return None


def parse_lines(lines: list[str]) -> tuple[list[Event], list[HashrateReading], LineCounts]:
    """Convenience for tests and tools: classify a list of lines with a fresh parser."""
    parser = P2PoolLogParser()
    events: list[Event] = []
    readings: list[HashrateReading] = []
    for line in lines:
        result = parser.parse_line(line)
        if isinstance(result, Event):
            events.append(result)
        elif isinstance(result, HashrateReading):
            readings.append(result)
    return events, readings, parser.counts

"""The network job: tip height, difficulty, hashrate, next adjustment, fees, recent
blocks and fiat prices from an Esplora / mempool-compatible explorer.

Each endpoint is fetched with its own timeout and parsed on its own, with no
transaction open; what succeeded is then written in one short transaction. A failed
endpoint (timeout, refused connection, error status, malformed body) costs only its
own figures, which keep their last good value and grow older; the outcome's detail
names it. When every endpoint failed the job raises, so the scheduler counts a failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import httpx
from sqlalchemy.engine import Engine

from rigwatch import __version__
from rigwatch.commander.jobs import JobOutcome, JobSpec
from rigwatch.domain.network import (
    BTC,
    ChainBlock,
    DifficultyAdjustment,
    FeeEstimates,
    NetworkHashrate,
    NetworkReading,
    PriceQuote,
)
from rigwatch.protocols import esplora
from rigwatch.protocols.errors import ProtocolError
from rigwatch.store.network import write_network

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 10.0
JOB_NAME = "network"
USER_AGENT = f"rigwatch/{__version__}"


class SourceFailed(Exception):
    """One endpoint gave nothing usable; the message says how (for the job's detail)."""


class NetworkSyncFailed(RuntimeError):
    """Every endpoint failed: nothing was written."""


@dataclass(frozen=True, slots=True)
class _Endpoint:
    name: str
    path: str


def _base(url: str) -> str:
    """`https://mempool.space`, also when given with a trailing slash or `/api`."""
    base = url.rstrip("/")
    return base[: -len("/api")] if base.endswith("/api") else base


def _fetch(client: httpx.Client, url: str, timeout_s: float) -> bytes:
    """The body of a 200 answer, read within `timeout_s` and the parser's size bound."""
    deadline = time.monotonic() + timeout_s
    try:
        with client.stream(
            "GET", url, timeout=timeout_s, headers={"Accept": "application/json"}
        ) as reply:
            if reply.status_code != httpx.codes.OK:
                raise SourceFailed(f"HTTP {reply.status_code}")
            chunks: list[bytes] = []
            size = 0
            for chunk in reply.iter_bytes():
                size += len(chunk)
                if size > esplora.MAX_BODY_BYTES:
                    raise SourceFailed(f"body larger than {esplora.MAX_BODY_BYTES} bytes")
                if time.monotonic() > deadline:
                    raise SourceFailed(f"timed out after {timeout_s:g} s")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.TimeoutException:
        raise SourceFailed(f"timed out after {timeout_s:g} s") from None
    except httpx.HTTPError as exc:
        raise SourceFailed(f"{type(exc).__name__}: {exc}"[:200]) from None


def _get(
    client: httpx.Client, base: str, path: str, parse: Callable[[bytes], T], timeout_s: float
) -> T:
    raw = _fetch(client, base + path, timeout_s)
    try:
        return parse(raw)
    except ProtocolError as exc:
        raise SourceFailed(f"malformed: {exc}"[:200]) from None


def _blocks(client: httpx.Client, base: str, timeout_s: float) -> tuple[ChainBlock, ...]:
    """mempool's `/api/v1/blocks` (with pools, fees, rewards), else plain Esplora's list."""
    try:
        return _get(client, base, esplora.BLOCKS_PATH, esplora.parse_blocks, timeout_s)
    except SourceFailed as exc:
        if str(exc) != "HTTP 404":
            raise
    return _get(client, base, esplora.ESPLORA_BLOCKS_PATH, esplora.parse_blocks, timeout_s)


def sync_network(
    engine: Engine,
    now: datetime,
    *,
    client: httpx.Client,
    base_url: str,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    chain: str = BTC,
) -> JobOutcome:
    """Fetch every endpoint, then write what succeeded in one transaction."""
    base = _base(base_url)
    failed: list[str] = []

    def attempt(name: str, fetch: Callable[[], T]) -> T | None:
        try:
            return fetch()
        except SourceFailed as exc:
            failed.append(f"{name} ({exc})")
            return None

    def endpoint(name: str, path: str, parse: Callable[[bytes], T]) -> T | None:
        return attempt(name, lambda: _get(client, base, path, parse, timeout_s))

    height: int | None = endpoint("tip height", esplora.TIP_HEIGHT_PATH, esplora.parse_tip_height)
    adjustment: DifficultyAdjustment | None = endpoint(
        "difficulty adjustment",
        esplora.DIFFICULTY_ADJUSTMENT_PATH,
        esplora.parse_difficulty_adjustment,
    )
    hashrate: NetworkHashrate | None = endpoint(
        "hashrate", esplora.HASHRATE_PATH, esplora.parse_hashrate
    )
    blocks = attempt("blocks", lambda: _blocks(client, base, timeout_s)) or ()
    fees: FeeEstimates | None = endpoint("fees", esplora.FEES_PATH, esplora.parse_fees)
    quote: PriceQuote | None = endpoint("prices", esplora.PRICES_PATH, esplora.parse_prices)

    newest = blocks[0] if blocks else None
    reading = NetworkReading(
        # The newest block answers for the tip and its difficulty when those endpoints fail.
        height=height if height is not None else (newest.height if newest else None),
        difficulty=(
            hashrate.difficulty
            if hashrate is not None and hashrate.difficulty is not None
            else (newest.difficulty if newest else None)
        ),
        hashrate_hs=hashrate.hashrate_hs if hashrate else None,
        adjustment=adjustment,
        fees=fees,
        blocks=blocks,
        prices=quote,
        chain=chain,
    )
    if not reading.has_stats() and not blocks and quote is None:
        raise NetworkSyncFailed(f"every source of {base} failed: " + "; ".join(failed))
    with engine.begin() as conn:
        written = write_network(conn, now, reading)
    got = []
    if reading.height is not None:
        got.append(f"height {reading.height}")
    if quote is not None:
        got.append(f"{len(quote.prices)} prices")
    got.append(f"{written.blocks} blocks")
    detail = ", ".join(got)
    if failed:
        detail += "; failed: " + "; ".join(failed)
    return JobOutcome(detail=detail)


def network_job(base_url: str, every_s: float, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> JobSpec:
    """The scheduled job: one sync of `base_url` every `every_s` seconds, with a fresh
    HTTP client each run (nothing held between runs)."""

    def run(engine: Engine, now: datetime) -> JobOutcome:
        with httpx.Client(headers={"User-Agent": USER_AGENT}, follow_redirects=True) as client:
            return sync_network(engine, now, client=client, base_url=base_url, timeout_s=timeout_s)

    return JobSpec(JOB_NAME, every_s, sync=run, first_after_s=10.0)

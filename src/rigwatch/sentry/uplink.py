"""Sends spooled batches to the commander, strictly oldest first, one at a time.

A batch leaves the spool only on an ack (`stored` true or false: false means the commander
already had it). What each answer means:

- 200: ack, delete, send the next one at once.
- 401/403: the credential is revoked or wrong. Logged at ERROR on every attempt; batches
  stay spooled and are retried slowly (`auth_retry_s`), never dropped.
- 413/422: this batch will never be accepted. It moves to the dead-letter table with the
  error text, so it cannot block the queue, and sending goes on with the next one.
- anything else (5xx, 429, other 4xx, connection errors, timeouts, an unreadable ack):
  retried with capped exponential backoff and full jitter.

Sending one batch at a time keeps the commander's view in order and makes an ack
unambiguous; throughput comes from batch size, not from parallel requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random

import httpx
from pydantic import ValidationError

import rigwatch
from rigwatch.protocols.ingest import IngestAck
from rigwatch.sentry.spool import Spool, SpooledBatch

logger = logging.getLogger(__name__)

INGEST_PATH = "/api/v1/ingest"
_jitter = random.SystemRandom()


class SendResult(enum.Enum):
    EMPTY = "empty"
    ACKED = "acked"
    DEAD_LETTERED = "dead_lettered"
    UNAUTHORIZED = "unauthorized"
    RETRY = "retry"


def uplink_client(timeout_s: float = 30.0) -> httpx.AsyncClient:
    """An HTTP client sized for one request at a time, with every phase timed out."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)),
        limits=httpx.Limits(max_connections=2, max_keepalive_connections=1),
        headers={
            "Content-Type": "application/json",
            # The commander shows it on the sentries page.
            "User-Agent": f"rigwatch-sentry/{rigwatch.__version__}",
        },
    )


class Uplink:
    """The sender loop over one spool and one commander."""

    def __init__(
        self,
        spool: Spool,
        client: httpx.AsyncClient,
        commander_url: str,
        credential: str,
        *,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 60.0,
        auth_retry_s: float = 60.0,
    ) -> None:
        self._spool = spool
        self._client = client
        self._url = commander_url.rstrip("/") + INGEST_PATH
        self._headers = {"Authorization": f"Bearer {credential}"}
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._auth_retry_s = auth_retry_s
        self._failures = 0
        self._wake = asyncio.Event()
        self.sent = 0
        self.dead_lettered = 0

    def wake(self) -> None:
        """Tell an idle loop that a new batch is spooled."""
        self._wake.set()

    def next_backoff_s(self) -> float:
        """Full jitter over a capped exponential: spreads sentries that all lost the
        commander at once, instead of having them return in lockstep."""
        cap = min(self._backoff_max_s, self._backoff_initial_s * 2 ** min(self._failures, 30))
        return _jitter.uniform(cap / 2, cap)

    async def send_oldest(self) -> SendResult:
        """Try to deliver the oldest pending batch once and settle the spool accordingly."""
        batches = self._spool.peek_oldest(1)
        if not batches:
            return SendResult.EMPTY
        batch = batches[0]
        try:
            resp = await self._client.post(self._url, content=batch.body, headers=self._headers)
        except httpx.HTTPError as exc:
            logger.warning("commander unreachable sending seq %d: %r", batch.seq, exc)
            return SendResult.RETRY
        return self._settle(batch, resp)

    def _settle(self, batch: SpooledBatch, resp: httpx.Response) -> SendResult:
        status = resp.status_code
        if status == 200:
            try:
                ack = IngestAck.model_validate_json(resp.content)
            except ValidationError as exc:
                logger.error("unreadable ack for seq %d: %s", batch.seq, exc)
                return SendResult.RETRY
            if ack.seq != batch.seq:
                logger.error("commander acked seq %d for batch %d; resending", ack.seq, batch.seq)
                return SendResult.RETRY
            self._spool.ack(batch.seq)
            self.sent += 1
            if not ack.stored:
                logger.info("seq %d was already stored (replay); dropped from spool", batch.seq)
            return SendResult.ACKED
        if status in (401, 403):
            logger.error(
                "commander REFUSED this sentry's credential (%d) for seq %d: revoked or invalid? "
                "batches stay spooled (%d pending) and are retried every %.0f s; "
                "re-enroll the sentry to resume",
                status,
                batch.seq,
                self._spool.pending_count(),
                self._auth_retry_s,
            )
            return SendResult.UNAUTHORIZED
        if status in (413, 422):
            reason = f"HTTP {status}: {resp.text[:2000]}"
            self._spool.dead_letter(batch.seq, reason)
            self.dead_lettered += 1
            logger.error("commander will never accept seq %d; dead-lettered: %s", batch.seq, reason)
            return SendResult.DEAD_LETTERED
        logger.warning("commander answered %d for seq %d; will retry", status, batch.seq)
        return SendResult.RETRY

    async def _pause(self, stop: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set. A batch in flight when stopping stays spooled and
        is resent next time; the commander's idempotency makes that harmless."""
        while not stop.is_set():
            self._wake.clear()
            result = await self.send_oldest()
            if result in (SendResult.ACKED, SendResult.DEAD_LETTERED):
                self._failures = 0
                continue
            if result is SendResult.EMPTY:
                self._failures = 0
                waiter = asyncio.ensure_future(self._wake.wait())
                stopper = asyncio.ensure_future(stop.wait())
                try:
                    await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    waiter.cancel()
                    stopper.cancel()
                    await asyncio.gather(waiter, stopper, return_exceptions=True)
                continue
            if result is SendResult.UNAUTHORIZED:
                await self._pause(stop, self._auth_retry_s)
                continue
            delay = self.next_backoff_s()
            self._failures += 1
            await self._pause(stop, delay)

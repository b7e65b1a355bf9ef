"""`POST /api/v1/ingest`: the hot path from sentries into the store.

A body goes through `parse_fast` (one pydantic-core pass into the store's sample
records, no model or domain object per sample); only what it refuses is validated by
the `IngestBatch` model, whose 422 names the field, or which accepts it after all.
"""

from __future__ import annotations

import asyncio
import re

from fastapi import APIRouter, HTTPException, Request
from pydantic import ValidationError

from rigwatch.commander.api.errors import unprocessable
from rigwatch.commander.auth import RW, SentryCaller
from rigwatch.commander.context import Commander
from rigwatch.commander.writer import WriterStopped
from rigwatch.domain.batch import Batch, Reading
from rigwatch.protocols.ingest import MAX_BODY_BYTES, IngestAck, IngestBatch, parse_fast
from rigwatch.store import queries
from rigwatch.store.ingest_rows import RowBatch

router = APIRouter(tags=["ingest"])


async def _bounded_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HTTPException(413, f"body larger than {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise HTTPException(413, f"body larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def to_batch(sentry_id: int, body: IngestBatch) -> Batch:
    return Batch(
        sentry_id=sentry_id,
        seq=body.seq,
        readings=tuple([Reading(s.miner.to_domain(), s.to_domain()) for s in body.samples]),
        events=tuple([e.to_domain() for e in body.events]),
        hosts=tuple([h.to_domain() for h in body.hosts]),
        p2pool=tuple([p.to_domain() for p in body.p2pool]),
    )


_SENTRY_AGENT = re.compile(r"rigwatch-sentry/([A-Za-z0-9.+_-]{1,64})")


async def _note_version(rw: Commander, sentry_id: int, user_agent: str) -> None:
    """Keep the sentry's reported version; the store is written only when it changes."""
    found = _SENTRY_AGENT.search(user_agent)
    if found is None or rw.sentry_versions.get(sentry_id) == found.group(1):
        return
    version = found.group(1)
    await asyncio.to_thread(rw.change, lambda c: queries.set_sentry_version(c, sentry_id, version))
    rw.sentry_versions[sentry_id] = version


@router.post(
    "/ingest",
    response_model=IngestAck,
    responses={401: {"description": "bad credential"}, 413: {}, 422: {}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": IngestBatch.model_json_schema()}},
        }
    },
)
async def ingest(request: Request, sentry: SentryCaller, rw: RW) -> IngestAck:
    """Store one batch. A replayed `seq` is acknowledged (`stored: false`), changing nothing."""
    raw = await _bounded_body(request)
    assert sentry.sentry_id is not None  # noqa: S101 - guaranteed by require_sentry
    batch: Batch | RowBatch
    fast = parse_fast(raw)
    if fast is not None:
        batch = RowBatch(
            sentry.sentry_id, fast.seq, fast.samples, fast.events, fast.hosts, fast.p2pool
        )
    else:
        try:
            body = IngestBatch.model_validate_json(raw)
        except ValidationError as exc:
            raise unprocessable(exc) from exc
        batch = to_batch(sentry.sentry_id, body)
    try:
        result = await rw.writer.submit(batch)
    except WriterStopped as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": "5"}) from exc
    await _note_version(rw, sentry.sentry_id, request.headers.get("user-agent", ""))
    return IngestAck(
        seq=batch.seq, stored=result.stored, samples=result.samples, events=result.events
    )

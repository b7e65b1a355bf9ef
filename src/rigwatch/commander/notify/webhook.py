"""Webhook: the notice as JSON, POSTed to a URL of the operator's choosing.

The body is `{"version": 1, "kind", "severity", "title", "text", "link", "sent_at",
...}` plus `notice` (firing / resolved / flapping), `digest`, `summary` or `test`.
With a `secret`, `X-Rigwatch-Signature: sha256=<hex>` carries the HMAC-SHA256 of the
raw body under that secret; `X-Rigwatch-Timestamp` is the send time (Unix seconds), also
in the signed body as `sent_at`, so a receiver can refuse replays.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator

from rigwatch.commander.notify.base import Message, SendContext, http_url, post

SECRETS = ("secret",)
SIGNATURE_HEADER = "X-Rigwatch-Signature"
TIMESTAMP_HEADER = "X-Rigwatch-Timestamp"


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, Field(max_length=1000)]
    secret: Annotated[str | None, Field(min_length=8, max_length=200)] = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return http_url(value)


def body_of(message: Message, ctx: SendContext) -> dict[str, Any]:
    return {
        "version": 1,
        "kind": message.kind.value,
        "severity": message.severity.value,
        "title": message.title,
        "text": message.text,
        "link": message.link,
        "ts": message.ts.isoformat(),
        "sent_at": int(ctx.now.timestamp()),
        **message.data,
    }


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send(config: Config, message: Message, ctx: SendContext) -> None:
    body = orjson.dumps(body_of(message, ctx))
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(int(ctx.now.timestamp())),
    }
    if config.secret:
        headers[SIGNATURE_HEADER] = sign(config.secret, body)
    post(ctx, config.url, what="webhook", content=body, headers=headers)

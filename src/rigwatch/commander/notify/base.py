"""What every channel shares: the message it sends, its HTTP call, its errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from rigwatch.domain.notify import NoticeKind, Severity

MAX_REPLY_BYTES = 64 * 1024
USER_AGENT = "rigwatch-notify/1"


@dataclass(frozen=True, slots=True)
class Message:
    """One notice rendered for people: `title` one line, `text` plain lines, `fields`
    (name, value) pairs for services that lay them out, `data` the structured payload
    (what a webhook receives)."""

    kind: NoticeKind
    severity: Severity
    title: str
    text: str
    ts: datetime
    link: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)


class DeliveryError(Exception):
    """A channel could not deliver; the message never holds a secret (no token, no URL
    with one). `retry_after_s`: how long the service asked to wait, when it said."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class SendContext:
    client: httpx.Client
    timeout_s: float
    now: datetime


def http_url(value: str) -> str:
    """An http(s) URL with a host and no credentials, fragment or trailing slash."""
    text = value.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL with a host")
    if parts.username or parts.password or parts.fragment:
        raise ValueError("takes no credentials or fragment")
    return text.rstrip("/")


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(when.tzinfo)).total_seconds())


def post(
    ctx: SendContext,
    url: str,
    *,
    what: str,
    json_body: Any = None,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, bytes]:
    """POST and return (status, body) of a 2xx reply; anything else is a DeliveryError
    that names `what` (never `url`, which may hold a token)."""
    sent_headers = {"User-Agent": USER_AGENT, **(headers or {})}
    try:
        with ctx.client.stream(
            "POST",
            url,
            json=json_body,
            content=content,
            headers=sent_headers,
            timeout=ctx.timeout_s,
        ) as response:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_REPLY_BYTES:
                    break
            if not response.is_success:
                snippet = bytes(body[:300]).decode("utf-8", "replace").strip()
                raise DeliveryError(
                    f"{what}: HTTP {response.status_code}" + (f": {snippet}" if snippet else ""),
                    retry_after_s=_retry_after(response),
                )
            return response.status_code, bytes(body)
    except httpx.TimeoutException:
        raise DeliveryError(f"{what}: timed out after {ctx.timeout_s:g} s") from None
    except httpx.HTTPError as exc:
        detail = str(exc).replace(url, "<url>")[:200]
        raise DeliveryError(f"{what}: {type(exc).__name__}: {detail}") from None

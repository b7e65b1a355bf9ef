"""Telegram bot: `POST {base}/bot<token>/sendMessage` with `chat_id`, `text` (HTML) and
`parse_mode`; the Bot API answers `{"ok": true, ...}` (4096 characters at most)."""

from __future__ import annotations

import html
from typing import Annotated

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator

from rigwatch.commander.notify.base import DeliveryError, Message, SendContext, http_url, post

SECRETS = ("token",)
MAX_TEXT = 4096
DEFAULT_BASE_URL = "https://api.telegram.org"


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: Annotated[str, Field(pattern=r"^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$")]
    chat_id: Annotated[str, Field(pattern=r"^(-?[0-9]{1,20}|@[A-Za-z0-9_]{4,64})$")]
    base_url: Annotated[str, Field(max_length=500)] = DEFAULT_BASE_URL

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return http_url(value)


def text_of(message: Message) -> str:
    head = f"<b>{html.escape(message.title)}</b>\n"
    tail = f'\n<a href="{html.escape(message.link)}">Open in rigwatch</a>' if message.link else ""
    body = html.escape(message.text)
    room = MAX_TEXT - len(head) - len(tail)
    if len(body) > room:
        body = body[: max(0, room - 1)].rsplit("&", 1)[0] + "…"
    return head + body + tail


def send(config: Config, message: Message, ctx: SendContext) -> None:
    payload = {
        "chat_id": config.chat_id,
        "text": text_of(message),
        "parse_mode": "HTML",
        "disable_web_page_preview": True,
    }
    url = f"{config.base_url}/bot{config.token}/sendMessage"
    _status, body = post(ctx, url, what="telegram sendMessage", json_body=payload)
    try:
        reply = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise DeliveryError("telegram sendMessage: reply is not JSON") from None
    if not isinstance(reply, dict) or reply.get("ok") is not True:
        raise DeliveryError(f"telegram sendMessage: not ok: {str(reply)[:200]}")

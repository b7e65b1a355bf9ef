"""Discord webhook: `POST <webhook url>` with `{"content", "embeds": [...]}`; Discord
answers 204 (or 200 with `?wait=true`). The URL holds the webhook's token, so it is a
secret of the channel. Mentions are switched off: a miner's name never pings anyone."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rigwatch.commander.notify.base import Message, SendContext, http_url, post
from rigwatch.domain.notify import NoticeKind, Severity

SECRETS = ("webhook_url",)
COLOURS = {Severity.INFO: 0x3498DB, Severity.WARNING: 0xF1C40F, Severity.CRITICAL: 0xE74C3C}
RESOLVED_COLOUR = 0x2ECC71


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhook_url: Annotated[str, Field(max_length=1000)]
    username: Annotated[str | None, Field(min_length=1, max_length=80)] = None

    @field_validator("webhook_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return http_url(value)


def body_of(message: Message, config: Config) -> dict[str, Any]:
    colour = RESOLVED_COLOUR if message.kind is NoticeKind.RESOLVED else COLOURS[message.severity]
    embed: dict[str, Any] = {
        "title": message.title[:256],
        "description": message.text[:4096],
        "color": colour,
        "timestamp": message.ts.isoformat(),
        "fields": [
            {"name": name[:256], "value": (value or "—")[:1024], "inline": True}
            for name, value in message.fields[:25]
        ],
        "footer": {"text": "rigwatch"},
    }
    if message.link:
        embed["url"] = message.link
    body: dict[str, Any] = {
        "content": message.title[:2000],
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    }
    if config.username:
        body["username"] = config.username
    return body


def send(config: Config, message: Message, ctx: SendContext) -> None:
    post(ctx, config.webhook_url, what="discord webhook", json_body=body_of(message, config))

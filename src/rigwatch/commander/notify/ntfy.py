"""ntfy: `POST {base}/{topic}` with the text as the body and `Title`, `Priority` (1-5),
`Tags` (emoji short codes) and `Click` (the dashboard link) headers; non-ASCII header
values are sent as RFC 2047 encoded words, which ntfy decodes. An access token, when
set, goes as `Authorization: Bearer`."""

from __future__ import annotations

from email.header import Header
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rigwatch.commander.notify.base import Message, SendContext, http_url, post
from rigwatch.domain.notify import NoticeKind, Severity

SECRETS = ("token",)
DEFAULT_BASE_URL = "https://ntfy.sh"
PRIORITY = {Severity.INFO: "3", Severity.WARNING: "4", Severity.CRITICAL: "5"}
SEVERITY_TAG = {
    Severity.INFO: "information_source",
    Severity.WARNING: "warning",
    Severity.CRITICAL: "rotating_light",
}


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: Annotated[str, Field(pattern=r"^[-_A-Za-z0-9]{1,64}$")]
    base_url: Annotated[str, Field(max_length=500)] = DEFAULT_BASE_URL
    token: Annotated[str | None, Field(min_length=1, max_length=200)] = None

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return http_url(value)


def header_value(text: str) -> str:
    text = " ".join(text.split())
    if text.isascii():
        return text
    return Header(text, "utf-8").encode(maxlinelen=10_000)


def headers_of(message: Message, config: Config) -> dict[str, str]:
    tags = [SEVERITY_TAG[message.severity], message.kind.value]
    if message.kind is NoticeKind.RESOLVED:
        tags[0] = "white_check_mark"
    headers = {
        "Title": header_value(message.title),
        "Priority": "3" if message.kind is NoticeKind.RESOLVED else PRIORITY[message.severity],
        "Tags": ",".join(tags),
        "Content-Type": "text/plain; charset=utf-8",
    }
    if message.link:
        headers["Click"] = message.link
    if config.token:
        headers["Authorization"] = f"Bearer {config.token}"
    return headers


def send(config: Config, message: Message, ctx: SendContext) -> None:
    post(
        ctx,
        f"{config.base_url}/{config.topic}",
        what="ntfy publish",
        content=message.text.encode("utf-8"),
        headers=headers_of(message, config),
    )

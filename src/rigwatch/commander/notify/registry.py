"""The channel kinds: each one's configuration model, its secrets and its sender."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from pydantic import BaseModel

from rigwatch.commander.notify import discord, ntfy, smtp, telegram, webhook
from rigwatch.commander.notify.base import Message, SendContext
from rigwatch.domain.notify import ChannelKind

MASK = "********"


@dataclass(frozen=True, slots=True)
class Kind:
    config: type[BaseModel]
    secrets: tuple[str, ...]
    send: Callable[[Any, Message, SendContext], None]


def _kind(module: ModuleType) -> Kind:
    return Kind(config=module.Config, secrets=tuple(module.SECRETS), send=module.send)


KINDS: Mapping[ChannelKind, Kind] = {
    ChannelKind.WEBHOOK: _kind(webhook),
    ChannelKind.EMAIL: _kind(smtp),
    ChannelKind.TELEGRAM: _kind(telegram),
    ChannelKind.DISCORD: _kind(discord),
    ChannelKind.NTFY: _kind(ntfy),
}


def masked(kind: ChannelKind, config: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration as the API shows it: every secret that is set reads MASK."""
    secrets = KINDS[kind].secrets
    return {k: (MASK if k in secrets and v else v) for k, v in config.items()}


def merged(
    kind: ChannelKind, new: Mapping[str, Any], old: Mapping[str, Any] | None
) -> dict[str, Any]:
    """An update's configuration: a secret left out or sent back as MASK keeps its
    stored value."""
    result = dict(new)
    for key in KINDS[kind].secrets:
        if (key not in result or result[key] == MASK) and old and old.get(key):
            result[key] = old[key]
        elif result.get(key) == MASK:
            result.pop(key)
    return result


def validated(kind: ChannelKind, config: Mapping[str, Any]) -> BaseModel:
    """The kind's configuration model (pydantic ValidationError when it does not fit)."""
    return KINDS[kind].config.model_validate(dict(config))


def send(kind: ChannelKind, config: Mapping[str, Any], message: Message, ctx: SendContext) -> None:
    KINDS[kind].send(validated(kind, config), message, ctx)

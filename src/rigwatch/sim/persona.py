"""What every simulated firmware shares: the RPC dispatch and reply caching.

Replies are rendered from the state's current `Report` and cached by report version, so
a thousand pollers asking the same miner within a second cost one render, and a
`+`-joined multi-command is assembled from cached single replies without re-encoding.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from rigwatch.sim.cgminer import error_reply, parse_request
from rigwatch.sim.http11 import HttpRequest, HttpResponse
from rigwatch.sim.state import MinerState, PoolSetting, Report

Renderer = Callable[[Report], dict[str, Any]]


def dumps(payload: object) -> bytes:
    return orjson.dumps(payload)


def cg_status(code: int, message: str, description: str, when: int) -> list[dict[str, Any]]:
    """The STATUS list every cgminer reply starts with."""
    return [{"STATUS": "S", "When": when, "Code": code, "Msg": message, "Description": description}]


def pools_reply(
    template: dict[str, Any],
    settings: Sequence[PoolSetting],
    report: Report,
    firmware_fields: Callable[[bool], dict[str, Any]],
) -> dict[str, Any]:
    """The POOLS reply of a cgminer-family firmware; the first pool is the active one.

    `firmware_fields(active)` adds what one firmware reports beyond the shared fields.
    """
    status = dict(template["STATUS"][0])
    status["When"] = int(report.at)
    rows = []
    for i, (row, setting) in enumerate(zip(template["POOLS"], settings, strict=False)):
        active = i == 0
        pool = dict(row)
        pool.update(
            {
                "URL": setting.url,
                "User": setting.user,
                "Accepted": report.accepted if active else 0,
                "Rejected": report.rejected if active else 0,
                "Stratum Active": active,
                "Stratum URL": setting.url.split("//", 1)[-1].rsplit(":", 1)[0] if active else "",
                "Difficulty Accepted": float(report.accepted * report.pool_difficulty)
                if active
                else 0.0,
                "Difficulty Rejected": float(report.rejected * report.pool_difficulty)
                if active
                else 0.0,
                "Last Share Difficulty": report.pool_difficulty if active else 0.0,
            }
        )
        pool.update(firmware_fields(active))
        rows.append(pool)
    return {"STATUS": [status], "POOLS": rows, "id": 1}


class Persona:
    """Base class: subclasses fill `renderers` and implement `http`."""

    description = "cgminer 1.0.0"

    def __init__(self, state: MinerState, restart: Callable[[], None]) -> None:
        self.state = state
        self.restart = restart
        self.renderers: dict[str, Renderer] = {}
        self._cache: dict[str, bytes] = {}
        self._cache_version = -1

    def reply_for(self, command: str, report: Report) -> bytes:
        """The reply to one parameterless command, cached per report."""
        if report.version != self._cache_version:
            self._cache.clear()
            self._cache_version = report.version
        cached = self._cache.get(command)
        if cached is not None:
            return cached
        renderer = self.renderers.get(command)
        if renderer is None:
            body = self.unknown_command(command, int(report.at))
        else:
            body = dumps(renderer(report))
        self._cache[command] = body
        return body

    def unknown_command(self, command: str, when: int) -> bytes:
        return error_reply(14, "Invalid command", self.description, when)

    def rpc(self, raw: bytes) -> bytes:
        """Answer one raw request from port 4028."""
        report = self.state.report()
        parsed = parse_request(raw)
        if isinstance(parsed, str):
            code = 23 if parsed == "Invalid JSON" else 24
            return error_reply(code, parsed, self.description, int(report.at))
        command, _parameter = parsed
        if "+" not in command:
            return self.reply_for(command, report)
        names = list(dict.fromkeys(c for c in command.split("+") if c))
        parts = [
            json.dumps(name).encode() + b":[" + self.reply_for(name, report) + b"]"
            for name in names
        ]
        return b"{" + b",".join(parts) + b',"id":1}'

    def http(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse.text(404, "Not Found")

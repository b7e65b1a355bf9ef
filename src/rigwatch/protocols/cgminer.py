"""The cgminer RPC family (bmminer, btminer v2, BOSminer, ...): framing, STATUS, pools.

One request per TCP connection, JSON in, JSON (or almost-JSON) plus a NUL out
(PROTOCOLS.md 1.1-1.5). The fast path is one orjson call; the repair pass runs only
when a firmware quirk makes that fail.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import orjson

from rigwatch.domain.models import PoolState
from rigwatch.protocols import fields
from rigwatch.protocols.errors import ProtocolError
from rigwatch.protocols.jsonrepair import loads_lenient

MAX_REPLY_BYTES = 4 * 1024 * 1024
MAX_POOLS = 8
_OK = frozenset({"S", "I", "W", "RESTART"})


class CommandRejected(ProtocolError):
    """The miner answered with an E/F STATUS (e.g. code 14 "Invalid command")."""

    def __init__(self, command: str, code: int | None, message: str) -> None:
        super().__init__(f"{command}: {message} (code {code})")
        self.command = command
        self.code = code
        self.message = message


def encode_request(commands: Sequence[str], parameter: str | None = None) -> bytes:
    """`{"command": "a+b"}`; a parameter is only valid for a single command."""
    if not commands or any(not c or "+" in c or not c.isascii() for c in commands):
        raise ValueError(f"invalid cgminer command list {commands!r}")
    if parameter is not None and len(commands) > 1:
        raise ValueError("cgminer joined commands take no parameter")
    body: dict[str, str] = {"command": "+".join(commands)}
    if parameter is not None:
        body["parameter"] = parameter
    return orjson.dumps(body)


def decode_reply(raw: bytes) -> dict[str, Any]:
    """The reply object; tolerates the malformed JSON real firmware sends."""
    if len(raw) > MAX_REPLY_BYTES:
        raise ProtocolError(f"reply of {len(raw)} bytes is larger than any miner sends")
    data = raw[:-1] if raw.endswith(b"\x00") else raw
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        try:
            value = orjson.loads(_QUICK.sub(_quick_fix, data))
        except orjson.JSONDecodeError:
            value = loads_lenient(data.decode("utf-8", errors="replace").rstrip("\x00"))
    if not isinstance(value, dict):
        raise ProtocolError(f"reply is a JSON {type(value).__name__}, not an object")
    return value


# The two quirks of the biggest fleets (bmminer `}{`, btminer `\'`), fixed by a C-speed
# regex that steps over string literals, so S9-era replies skip the slow repair pass.
# An unterminated string runs to the end in one match, so scanning stays linear.
_QUICK = re.compile(rb'"(?:[^"\\]|\\.)*+(?:"|\\?\Z)|\}\s*\{', re.DOTALL)


def _quick_fix(match: re.Match[bytes]) -> bytes:
    token = match.group(0)
    if token.startswith(b'"'):
        return token.replace(b"\\'", b"'")
    return b"},{"


def _check_status(reply: Mapping[str, Any], command: str) -> None:
    """Raise CommandRejected for E/F; a reply without STATUS is malformed."""
    status = reply.get("STATUS")
    entry: Mapping[str, Any]
    code_letter: object
    if isinstance(status, str):
        entry = reply
        code_letter = status
    else:
        entries = fields.records(reply, "STATUS")
        if not entries:
            raise ProtocolError(f"{command}: reply has no STATUS")
        entry = entries[0]
        code_letter = entry.get("STATUS")
    if isinstance(code_letter, str) and code_letter.upper() in _OK:
        return
    msg = entry.get("Msg")
    message = msg if isinstance(msg, str) else repr(msg)[:200]
    raise CommandRejected(command, fields.integer(entry.get("Code")), message[:200])


def sections(
    reply: Mapping[str, Any],
    commands: Sequence[str],
    *,
    optional: Collection[str] = (),
) -> dict[str, dict[str, Any]]:
    """Per-command replies of a (possibly joined) request, each with its STATUS checked.

    A single command's reply is the reply itself; a joined one holds each command's
    reply as a one-element list under the command name. A whole-request error (for
    example firmware that does not do joined commands) raises CommandRejected; a failed
    sub-command in `optional` is left out instead of failing the lot.
    """
    if len(commands) == 1 and commands[0] not in reply:
        _check_status(reply, commands[0])
        return {commands[0]: dict(reply)}
    if "STATUS" in reply and not any(c in reply for c in commands):
        _check_status(reply, "+".join(commands))
    result: dict[str, dict[str, Any]] = {}
    for command in commands:
        part = reply.get(command)
        if isinstance(part, list) and part and isinstance(part[0], dict):
            part = part[0]
        if not isinstance(part, dict):
            if command in optional:
                continue
            raise CommandRejected(command, None, "section missing from joined reply")
        try:
            _check_status(part, command)
        except CommandRejected:
            if command in optional:
                continue
            raise
        result[command] = part
    return result


def pool_states(reply: object) -> tuple[PoolState, ...]:
    """POOLS rows as PoolState, in the miner's priority order."""
    rows = fields.records(reply, "POOLS")
    ordered = sorted(
        rows, key=lambda r: fields.integer(r.get("Priority")) or fields.integer(r.get("POOL")) or 0
    )
    pools: list[PoolState] = []
    for row in ordered[:MAX_POOLS]:
        url = fields.text(row.get("URL"))
        if url is None:
            continue
        status = fields.text(row.get("Status"))
        pools.append(
            PoolState(
                url=url,
                user=fields.text(row.get("User")),
                active=fields.flag(row.get("Stratum Active")) is True,
                alive=None if status is None else status.lower() == "alive",
                accepted=fields.count(row.get("Accepted")),
                rejected=fields.count(row.get("Rejected")),
                stale=fields.count(row.get("Stale")),
            )
        )
    return tuple(pools)


def active_pool(pools: Sequence[PoolState]) -> PoolState | None:
    """The pool the miner hashes on: Stratum Active, else the first alive one."""
    for pool in pools:
        if pool.active:
            return pool
    for pool in pools:
        if pool.alive:
            return pool
    return None


def share_totals(
    summary: Mapping[str, Any], pools: Sequence[PoolState]
) -> tuple[int | None, int | None, int | None]:
    """Accepted, rejected, stale: SUMMARY's counters, else the sum over pools."""
    totals: list[int | None] = []
    for key, attr in (("Accepted", "accepted"), ("Rejected", "rejected"), ("Stale", "stale")):
        value = fields.count(summary.get(key))
        if value is None:
            per_pool = [getattr(p, attr) for p in pools if getattr(p, attr) is not None]
            value = sum(per_pool) if per_pool else None
        totals.append(value)
    return totals[0], totals[1], totals[2]

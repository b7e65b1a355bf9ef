"""Lenient JSON for miner firmware that writes almost-JSON.

Real cgminer builds send `}{` without a comma, `"key" : ,`, bare `nan`, `\\'` escapes,
stray commas, trailing garbage and truncated buffers (PROTOCOLS.md 1.5). Rather than
chaining string replacements (which also rewrite the inside of strings), one pass walks
the text token by token, knows whether it is inside a string, and writes strict JSON.
The standard library then parses that; anything it still rejects is a ProtocolError.
"""

from __future__ import annotations

import json
from typing import Any

from rigwatch.protocols.errors import ProtocolError

_BARE_WORDS = {
    "true": "true",
    "false": "false",
    "null": "null",
    "nan": "null",
    "NaN": "null",
    "inf": "null",
    "Infinity": "null",
}
_NUM_START = frozenset("-0123456789")
_NUM_CHARS = frozenset("+-0123456789.eE")
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_VALID_ESCAPES = frozenset('"\\/bfnrtu')
_HEX = frozenset("0123456789abcdefABCDEF")
MAX_DEPTH = 64


def loads_lenient(text: str) -> Any:
    """Parse miner JSON, repairing the known firmware quirks; ProtocolError if hopeless."""
    repaired = _repair(text)
    try:
        return json.loads(repaired)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"reply is not JSON even after repair: {exc}") from None


def _read_string(text: str, i: int, out: list[str]) -> int:
    """Copy the string starting after the opening quote at i; return the index after it."""
    n = len(text)
    buf = ['"']
    while i < n:
        c = text[i]
        if c == '"':
            buf.append('"')
            out.append("".join(buf))
            return i + 1
        if c == "\\":
            nxt = text[i + 1] if i + 1 < n else ""
            if nxt == "u" and all(ch in _HEX for ch in text[i + 2 : i + 6]) and i + 6 <= n:
                buf.append(text[i : i + 6])
                i += 6
                continue
            if nxt in _VALID_ESCAPES and nxt != "u":
                buf.append("\\" + nxt)
                i += 2
                continue
            # `\'` and other unknown escapes: keep the character, drop the backslash.
            if nxt:
                buf.append(json.dumps(nxt)[1:-1])
            i += 2
            continue
        if c < " ":
            buf.append(json.dumps(c)[1:-1])
        else:
            buf.append(c)
        i += 1
    raise _Truncated


class _Truncated(Exception):
    """The text ended inside a token."""


def _repair(text: str) -> str:
    out: list[str] = []
    stack: list[str] = []
    # After a complete value, a `,` is owed before the next one; `expect_value` is true
    # right after `:` so that `"k" : ,` can be given a null.
    need_comma = False
    expect_value = False
    # Where the text could last be cut and still be closed: (len(out), stack copy).
    safe: tuple[int, tuple[str, ...]] | None = None
    i = 0
    n = len(text)
    started = False
    try:
        while i < n:
            c = text[i]
            if c in " \t\r\n":
                i += 1
                continue
            if started and not stack:
                break  # trailing garbage after the top-level value
            if c in "{[":
                if need_comma:
                    out.append(",")
                if len(stack) >= MAX_DEPTH:
                    raise ProtocolError("reply nests too deeply")
                stack.append("}" if c == "{" else "]")
                out.append(c)
                started = True
                need_comma = False
                expect_value = False
                i += 1
                continue
            if not started:
                if c == ",":
                    i += 1  # Avalon: a reply that starts with a comma
                    continue
                raise ProtocolError("reply does not start with a JSON object or array")
            if c in "}]":
                if expect_value:
                    out.append("null")
                    expect_value = False
                if out and out[-1] == ",":
                    out.pop()
                closer = stack.pop()
                out.append(closer)
                need_comma = True
                i += 1
                if stack:
                    safe = (len(out), tuple(stack))
                continue
            if c == ",":
                if expect_value:
                    out.append("null")
                    expect_value = False
                    need_comma = True
                if need_comma:
                    out.append(",")
                    need_comma = False
                    safe = (len(out) - 1, tuple(stack))
                i += 1  # a comma with nothing before it ([,{ or ,,) is dropped
                continue
            if c == ":":
                out.append(":")
                need_comma = False
                expect_value = True
                i += 1
                continue
            if c == '"':
                # `""temp0":` (btminer 2023): a doubled opening quote before a key.
                if text.startswith('""', i) and i + 2 < n and text[i + 2] in _WORD_CHARS:
                    i += 1
                if need_comma:
                    out.append(",")
                i = _read_string(text, i + 1, out)
                need_comma = True
                expect_value = False
                continue
            if c in _NUM_START:
                j = i + 1
                while j < n and text[j] in _NUM_CHARS:
                    j += 1
                if j == i + 1 and c == "-":
                    while j < n and text[j] in _WORD_CHARS:
                        j += 1  # -inf, -nan
                token = text[i:j]
                if j >= n and stack:
                    raise _Truncated
                if need_comma:
                    out.append(",")
                out.append(_number(token))
                i = j
                need_comma = True
                expect_value = False
                continue
            if c in _WORD_CHARS:
                j = i + 1
                while j < n and text[j] in _WORD_CHARS:
                    j += 1
                word = text[i:j]
                if word not in _BARE_WORDS:
                    if j >= n:
                        raise _Truncated
                    raise ProtocolError(f"unexpected bare word {word[:20]!r} in reply")
                if need_comma:
                    out.append(",")
                out.append(_BARE_WORDS[word])
                i = j
                need_comma = True
                expect_value = False
                continue
            raise ProtocolError(f"unexpected character {c!r} in reply")
    except _Truncated:
        pass
    if not started:
        raise ProtocolError("reply is empty")
    if stack:
        if safe is None:
            raise ProtocolError("reply is truncated before its first complete value")
        cut, open_stack = safe
        del out[cut:]
        out.extend(reversed(open_stack))
    return "".join(out)


def _number(token: str) -> str:
    """Pass a number through if JSON accepts it; `-nan`, `1.`, `-` become null or fixed."""
    try:
        value = float(token)
    except ValueError:
        return "null"
    if value != value or value in (float("inf"), float("-inf")):
        return "null"
    try:
        json.loads(token)
    except ValueError:
        return repr(value)
    return token

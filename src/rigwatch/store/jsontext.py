"""JSON stored as text: compact, deterministic, identical on both databases.

orjson because the write path serialises several small lists per sample and the
standard library's encoder setup dominated those calls.
"""

from __future__ import annotations

from typing import Any

import orjson


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")


def loads(text: str | bytes | None) -> Any:
    return None if text is None else orjson.loads(text)

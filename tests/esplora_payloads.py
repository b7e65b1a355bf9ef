"""Real mempool.space payloads for the network tests (tests/fixtures/mempool-esplora/,
provenance in tests/fixtures/SOURCES.md), and how each one becomes an endpoint's body.

Recorded as REST responses (docs examples), used as they are:
- `mempool-docs__get-block-tip-height.json`: `GET /api/blocks/tip/height` (`698767\\n`).
- `mempool-docs__get-hashrate.json`: `GET /api/v1/mining/hashrate/3d`, valid JSON.

Docs examples printed as JavaScript literals (unquoted keys), NOT usable as JSON: the
parser refuses them as they are, and `quoted_keys` turns them into JSON with the same
values (nothing else changed) for the value tests:
- `mempool-docs__get-difficulty-adjustment.txt`: the OLD unit form (dates and
  `remainingTime` in seconds).
- `mempool-docs__get-price.txt`: `GET /api/v1/prices`.

From the Cypress recording of mainnet (`mempool-cypress__mainnet_mempoolInfo.json`, the
websocket's init message): mempool's backend fills its `da` and `fees` with the same
functions its REST routes answer with (`difficultyAdjustment.getDifficultyAdjustment()`,
`feeApi.getRecommendedFee()`, backend/src/api/websocket-handler.ts), `blocks` holds
the block objects with `extras` that `/api/v1/blocks` lists, and `conversions` is the
`{time, USD, EUR, ...}` object of `/api/v1/prices`. `part` re-serialises one of them as
a body: real values, not a byte-exact HTTP recording.
- `da`: the CURRENT unit form (milliseconds; `previousTime` in seconds).
- `blocks`: 8 mainnet blocks with `extras` (oldest first, as the websocket sends them;
  `/api/v1/blocks` sends newest first; the parser does not depend on the order).

`mempool-cypress__tx02_ws_block.json` is one block object with extras (websocket push).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import orjson

MEMPOOL = Path(__file__).resolve().parent / "fixtures" / "mempool-esplora"
TIP_HEIGHT = "mempool-esplora/mempool-docs__get-block-tip-height.json"
HASHRATE = "mempool-esplora/mempool-docs__get-hashrate.json"
DOCS_DIFFICULTY = MEMPOOL / "mempool-docs__get-difficulty-adjustment.txt"
DOCS_PRICE = MEMPOOL / "mempool-docs__get-price.txt"
SNAPSHOT = MEMPOOL / "mempool-cypress__mainnet_mempoolInfo.json"
WS_BLOCK = MEMPOOL / "mempool-cypress__tx02_ws_block.json"

_JS_KEY = re.compile(rb"^(\s*)([A-Za-z_]\w*):", re.MULTILINE)


def fixture(name: str) -> bytes:
    """A fixture file's bytes, by its path under tests/fixtures/."""
    return (MEMPOOL.parent / name).read_bytes()


def quoted_keys(path: Path) -> bytes:
    """A docs example printed as a JS literal, with its keys quoted: valid JSON."""
    return _JS_KEY.sub(rb'\1"\2":', path.read_bytes())


@cache
def snapshot() -> dict[str, Any]:
    value: dict[str, Any] = orjson.loads(SNAPSHOT.read_bytes())
    return value


def part(key: str) -> bytes:
    """One object of the recorded websocket snapshot, as the REST endpoint's body."""
    return orjson.dumps(snapshot()[key])


def ws_block() -> dict[str, Any]:
    value: dict[str, Any] = orjson.loads(WS_BLOCK.read_bytes())["block"]
    return value

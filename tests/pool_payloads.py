"""Pool API payloads for the Ocean and public-pool tests.

Ocean: statsnap, user_hashrate, user_hashrate_full and earnpay are REAL captures of
api.ocean.xyz/v1 (tests/fixtures/ocean/, provenance in tests/fixtures/SOURCES.md, section
"naciremadream81/trillion"); `ocean_routes` serves them byte for byte. No recording of
userinfo_full or blocks exists, so those two (OCEAN_USERINFO_FULL, OCEAN_BLOCKS) are still
written by hand from the field names in PROTOCOLS.md 5.1, with invented values.

public-pool: NOT RECORDINGS. No real response of the OSS code exists (PROTOCOLS.md section
7); every payload is written by hand from the field names in PROTOCOLS.md 5.2 (its source
code), with invented values. They test that the parser reads those names; they prove
nothing about the live service.

ckpool and P2Pool tests use the real recordings under tests/fixtures/ directly.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rigwatch.protocols import ocean

# Invented: the captures carry no address (the recording repo left it out).
OCEAN_ACCOUNT = "bc1qoceanfarm7x0test0account0000000000000"
PUBLIC_POOL_ACCOUNT = "bc1qpublicpool0test0account000000000000"
OCEAN_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ocean"


def body(value: Any) -> bytes:
    return json.dumps(value).encode()


# ---- Ocean: real captures ----------------------------------------------------------------

# endpoint name → its recorded body (tests/fixtures/ocean/trillion-<name>.json)
OCEAN_RECORDED = (ocean.STATSNAP, ocean.USER_HASHRATE, ocean.USER_HASHRATE_FULL, ocean.EARNPAY)


def ocean_capture(name: str) -> bytes:
    """The real body recorded for one of OCEAN_RECORDED, unchanged."""
    if name not in OCEAN_RECORDED:
        raise ValueError(f"no recording of ocean {name}")
    return (OCEAN_FIXTURES / f"trillion-{name}.json").read_bytes()


# ---- Ocean: NOT recordings (none exists); shape from PROTOCOLS.md 5.1 ---------------------

# userinfo_full as a list of per-worker statsnaps naming their worker. The two names are
# borrowed from the user_hashrate_full capture so that `build` has something to merge;
# the times are invented (near the capture's snap_ts 1787271720).
OCEAN_USERINFO_FULL = {
    "result": [
        {"workername": "cc5719001b71", "snap_ts": 1787271720, "lastest_share_ts": 1787271700},
        {"workername": "cc550a000ca5", "snap_ts": 1787271720, "lastest_share_ts": 1787271500},
    ]
}

OCEAN_BLOCKS = {
    "result": {
        "blocks": [
            {
                "height": 903000,
                "block_hash": "0000000000000000000123456789abcdef0123456789abcdef0123456789abcd",
                "ts": 1751900000,
                "total_reward_sats": 318000000,
                "workername": "bc1qsomeoneelse.bitaxe",
            },
            {"height": 902500, "block_hash": "", "ts": 1751600000},
        ]
    }
}

_HAND_WRITTEN: dict[str, object] = {
    ocean.USERINFO_FULL: OCEAN_USERINFO_FULL,
    ocean.BLOCKS: OCEAN_BLOCKS,
}


def ocean_routes(
    account: str = OCEAN_ACCOUNT, *, earnpay: tuple[datetime, datetime] | None = None
) -> dict[str, bytes]:
    """Path (under the base URL) → body, for the replay server; the paths come from
    `ocean.endpoints` so they stay the connector's own. earnpay's path carries its start
    and end times, so it is served only when they are given."""
    genesis = datetime(2009, 1, 3, tzinfo=UTC)
    routes: dict[str, bytes] = {}
    for endpoint in ocean.endpoints(account, earnpay=earnpay or (genesis, genesis)):
        if endpoint.name == ocean.EARNPAY and earnpay is None:
            continue
        if endpoint.name in OCEAN_RECORDED:
            routes[endpoint.path] = ocean_capture(endpoint.name)
        else:
            routes[endpoint.path] = body(_HAND_WRITTEN[endpoint.name])
    return routes


# ---- public-pool: shape from its source (client.controller.ts, app.controller.ts,
# blocks.service.ts) and PROTOCOLS.md 5.2, not a recording ------------------------------

# the older shape: one entry per stratum session, no accounting
PUBLIC_POOL_CLIENT_OLD = {
    "bestDifficulty": 4290000000,
    "workersCount": 3,
    "workers": [
        {
            "sessionId": "0a1b2c3d",
            "name": "bitaxe1",
            "bestDifficulty": "123456.78",
            "hashRate": 512000000000,
            "startTime": "2025-07-01T10:00:00.000Z",
            "lastSeen": "2025-07-08T08:00:00.000Z",
        },
        {
            "sessionId": "0a1b2c3e",
            "name": "bitaxe1",
            "bestDifficulty": "99.00",
            "hashRate": 488000000000,
            "startTime": "2025-07-02T10:00:00.000Z",
            "lastSeen": "2025-07-08T08:05:00.000Z",
        },
        {
            "sessionId": "0a1b2c3f",
            "name": "Bitaxe2",
            "bestDifficulty": "5.00",
            "hashRate": 1100000000000,
            "startTime": "2025-07-03T10:00:00.000Z",
            "lastSeen": "2025-07-08T07:59:00.000Z",
        },
    ],
}

# the newer hosted shape: accounting, expectedPayout and a string bestDifficulty
PUBLIC_POOL_CLIENT_NEW = {
    "bestDifficulty": "4290000000",
    "workersCount": 1,
    "accounting": {
        "totalAcceptedShares": 1234,
        "hashRateLast10Minutes": 1200000000000,
        "hashRateLastHour": 1150000000000,
        "bestSubmissionDifficulty": 4290000000,
    },
    "expectedPayout": {"snapshotId": "7", "blockHeight": 903001, "payoutSats": 3125},
    "workers": [
        {
            "sessionId": "0a1b2c40",
            "name": "bitaxe3",
            "payoutMode": "pplns",
            "bestDifficulty": "42.00",
            "hashRate": 1200000000000,
            "startTime": "2025-07-01T10:00:00.000Z",
            "lastSeen": "2025-07-08T08:00:00.000Z",
        }
    ],
}

PUBLIC_POOL_INFO = {
    "blockData": [
        {
            "height": 883000,
            "minerAddress": "bc1qlucky0solo0miner",
            "worker": "bitaxe",
            "sessionId": "1f2e3d4c",
            "blockHash": "00000000000000000001aa2bb3cc4dd5ee6ff7aa8bb9cc0dd1ee2ff3aa4bb5cc",
        },
        {"minerAddress": "no height: skipped", "worker": "x", "sessionId": "1"},
    ],
    "userAgents": [{"userAgent": "bitaxe/BM1370", "count": 10}],
    "highScores": [],
    "uptime": "2025-06-01T00:00:00.000Z",
}

PUBLIC_POOL_NETWORK = {
    "blocks": 903123,
    "difficulty": 116958512019762.1,
    "networkhashps": 8.4e20,
    "chain": "main",
}

"""Pool API payloads for the Ocean and public-pool tests.

NOT RECORDINGS. No real full Ocean or public-pool response exists (PROTOCOLS.md section
7), so every payload here is written by hand from the field names documented in
PROTOCOLS.md 5.1 (Ocean: third-party clients) and 5.2 (public-pool: its source code),
with invented values. They test that the parsers read those names; they prove nothing
about the live services. ckpool and P2Pool tests use the real recordings under
tests/fixtures/ instead.
"""

from __future__ import annotations

import json
from typing import Any

OCEAN_ACCOUNT = "bc1qoceanfarm7x0test0account0000000000000"
PUBLIC_POOL_ACCOUNT = "bc1qpublicpool0test0account000000000000"


def body(value: Any) -> bytes:
    return json.dumps(value).encode()


# ---- Ocean: shape from PROTOCOLS.md 5.1 (field names only), not a recording ----------

OCEAN_STATSNAP = {
    "result": {
        "snap_type": "user",
        "snap_ts": 1751962000,
        "shares_60s": "12",
        "shares_300s": "60",
        "hashrate_60s": "117000000000000",
        "hashrate_300s": "110000000000000",
        "lastest_share_ts": 1751961990,
        "shares_in_tides": "123456",
        "estimated_earn_next_block": "0.00015180",
        "estimated_bonus_earn_next_block": "0.00000020",
        "estimated_total_earn_next_block": "0.00015200",
        "estimated_payout_next_block": "0.00000000",
        "unpaid": "0.01234567",
    }
}

OCEAN_USER_HASHRATE = {
    "result": {
        "snap_ts": 1751962000,
        "hashrate_60s": "117000000000000",
        "hashrate_300s": "110000000000000",
        "hashrate_600s": "109000000000000",
        "hashrate_3600": "105000000000000",
        "hashrate_7200": "104000000000000",
        "hashrate_10800": "103000000000000",
        "hashrate_86400": "100000000000000",
        "active_worker_count": "2",
    }
}

# workers as {name: [record]}, the shape clients read (`result.workers[name][0]`)
OCEAN_USER_HASHRATE_FULL = {
    "result": {
        "snap_ts": 1751962000,
        "workers": {
            "s19-01": [
                {
                    "hashrate_60s": "81000000000000",
                    "hashrate_300s": "80500000000000",
                    "hashrate_3600": "80000000000000",
                }
            ],
            "s19-02": [
                {
                    "hashrate_60s": "30500000000000",
                    "hashrate_300s": "30100000000000",
                    "hashrate_3600": "30000000000000",
                }
            ],
        },
    }
}

# userinfo_full as a list of per-worker statsnaps naming their worker
OCEAN_USERINFO_FULL = {
    "result": [
        {"workername": "s19-01", "snap_ts": 1751962000, "lastest_share_ts": 1751961990},
        {"workername": "s19-02", "snap_ts": 1751962000, "lastest_share_ts": 1751961500},
    ]
}

OCEAN_TXID = "ab" * 32
OCEAN_EARNPAY = {
    "result": {
        "earnings": [
            {"block_hash": "00" * 32, "ts": 1751400000, "satoshis_net_earned": 524288},
        ],
        "payouts": [
            {
                "ts": 1751500000,
                "on_chain_txid": OCEAN_TXID,
                "lightning_txid": None,
                "total_satoshis_net_paid": 1048576,
            },
            {
                "ts": 1751800000,
                "on_chain_txid": None,
                "lightning_txid": "lnbc-payment-1",
                "total_satoshis_net_paid": "250000",
            },
        ],
    }
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


def ocean_routes(account: str = OCEAN_ACCOUNT) -> dict[str, bytes]:
    """Path (under the base URL) → body, for the replay server; earnpay by prefix."""
    return {
        f"/statsnap/{account}": body(OCEAN_STATSNAP),
        f"/user_hashrate/{account}": body(OCEAN_USER_HASHRATE),
        f"/user_hashrate_full/{account}": body(OCEAN_USER_HASHRATE_FULL),
        f"/userinfo_full/{account}": body(OCEAN_USERINFO_FULL),
        "/blocks/0/20/0": body(OCEAN_BLOCKS),
    }


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

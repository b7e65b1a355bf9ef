"""Chain payloads for the payout tests, built from recorded real ones.

No recording exists of a whole Esplora `/address/<a>/txs` page with full tx objects (the
mempool docs print `[Object]`), nor of Blockbook's `details=txs` with `from=`
(PROTOCOLS.md 5.4, 5.5). So pages are CONSTRUCTED here: each transaction is a deep copy
of a recorded tx object (Esplora: the mempool Cypress fixture `tx02_api_tx.json`;
Blockbook: the docs' `/api/v2/tx/8c1e3dec...` answer) with its txid, addresses, values and
block changed, and Blockbook pages wrap them in the envelope of the recorded
`details=txids` answer (same keys, `transactions` in place of `txids`, per openapi.yaml).
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ESPLORA_TX = "mempool-esplora/mempool-cypress__tx02_api_tx.json"
BLOCKBOOK_TX = "blockbook/blockbook-docs__api-v2-tx-8c1e3dec662d1f2a5e322ccef5eca263f98eb167.json"
BLOCKBOOK_UNCONFIRMED_TX = (
    "blockbook/blockbook-docs__api-v2-tx-73b1ad97194e426031e5c692869de2d83dc2ff60.json"
)
BLOCKBOOK_ADDRESS = (
    "blockbook/blockbook-docs__api-v2-address-"
    "bc1q0wd209cv5k9pd9mhk7nspacywcj038x-details-txids.json"
)
BLOCKBOOK_STATUS = "blockbook/blockbook-docs__api-status.json"
BLOCKBOOK_BLOCK_INDEX = "blockbook/blockbook-docs__api-v2-block-index-666666.json"

# Addresses of the recorded transactions.
ESPLORA_RECORDED_ADDRESS = "1stAprEZapjCYGUACUcXohQqSHF9MU5Kj"
OTHER = "bc1q9lh77es6m8ztr7muwcec00ewn8fxakpl9jwv8y"  # an input address of a recorded tx


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_bytes())


def txid(n: int) -> str:
    """A made-up but well-formed txid (the SHA-256 of `n` in hex: distinct prefixes)."""
    return hashlib.sha256(str(n).encode()).hexdigest()


def block_hash(height: int, fork: int = 0) -> str:
    return f"{fork:08x}{height:056x}"


def esplora_tx(
    n: int,
    *,
    to: list[tuple[str, int]],
    spends: list[tuple[str, int]] | None = None,
    height: int | None = None,
    fork: int = 0,
    time: int | None = None,
    coinbase: bool = False,
) -> dict[str, Any]:
    """The recorded Esplora tx with its txid, inputs, outputs and status replaced."""
    tx: dict[str, Any] = copy.deepcopy(load(ESPLORA_TX))
    template_in, template_out = tx["vin"][0], tx["vout"][0]
    tx["txid"] = txid(n)
    inputs = []
    for i, (address, value) in enumerate(spends or [(OTHER, sum(v for _a, v in to) + 960)]):
        item = copy.deepcopy(template_in)
        item["txid"] = txid(10_000 + n * 10 + i)
        item["prevout"]["scriptpubkey_address"] = address
        item["prevout"]["value"] = value
        if coinbase:
            item.update(is_coinbase=True, prevout=None, txid="0" * 64, vout=4294967295)
        inputs.append(item)
    tx["vin"] = inputs
    outputs = []
    for address, value in to:
        item = copy.deepcopy(template_out)
        item["scriptpubkey_address"] = address
        item["value"] = value
        outputs.append(item)
    tx["vout"] = outputs
    if height is None:
        tx["status"] = {"confirmed": False}
    else:
        tx["status"] = {
            "confirmed": True,
            "block_height": height,
            "block_hash": block_hash(height, fork),
            "block_time": time if time is not None else 1_700_000_000 + height * 600,
        }
    return tx


def blockbook_tx(
    n: int,
    *,
    to: list[tuple[str, int]],
    spends: list[tuple[str, int]] | None = None,
    height: int | None = None,
    fork: int = 0,
    time: int | None = None,
) -> dict[str, Any]:
    """The recorded Blockbook tx with txid, inputs, outputs and block replaced; values
    stay decimal strings of satoshis as Blockbook writes them."""
    tx: dict[str, Any] = copy.deepcopy(load(BLOCKBOOK_TX))
    template_in, template_out = tx["vin"][0], tx["vout"][0]
    tx["txid"] = txid(n)
    inputs = []
    for i, (address, value) in enumerate(spends or [(OTHER, sum(v for _a, v in to) + 43200)]):
        item = copy.deepcopy(template_in)
        item.update(txid=txid(20_000 + n * 10 + i), n=i, addresses=[address], value=str(value))
        inputs.append(item)
    tx["vin"] = inputs
    tx["vout"] = [
        {**copy.deepcopy(template_out), "n": i, "addresses": [address], "value": str(value)}
        for i, (address, value) in enumerate(to)
    ]
    if height is None:
        tx.update(blockHeight=-1, confirmations=0, blockTime=1_700_000_000)
        tx.pop("blockHash", None)
    else:
        tx.update(
            blockHeight=height,
            blockHash=block_hash(height, fork),
            confirmations=1,
            blockTime=time if time is not None else 1_700_000_000 + height * 600,
        )
    return tx


def blockbook_page(
    address: str, txs: list[dict[str, Any]], *, page: int = 1, total_pages: int = 1
) -> dict[str, Any]:
    """The recorded `details=txids` envelope with `transactions` (details=txs) in it."""
    doc: dict[str, Any] = load(BLOCKBOOK_ADDRESS)
    doc.pop("txids")
    doc.update(page=page, totalPages=total_pages, itemsOnPage=1000, address=address, txs=len(txs))
    doc["transactions"] = txs
    return doc


def blockbook_status(best_height: int) -> dict[str, Any]:
    doc: dict[str, Any] = load(BLOCKBOOK_STATUS)
    doc["blockbook"]["bestHeight"] = best_height
    doc["backend"]["blocks"] = best_height
    return doc


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()

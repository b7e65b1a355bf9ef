"""Esplora / mempool.space address history: `GET /api/address/<a>/txs` and
`/api/address/<a>/txs/chain/<last_seen_txid>`, and single transactions `GET /api/tx/<txid>`.

PROTOCOLS.md 5.4: the first page holds up to 50 mempool and the first 25 confirmed
transactions, newest first; later confirmed pages come from `/txs/chain/<txid of the last
one seen>`, 25 at a time, and an empty array is the end. Each element is an Esplora tx
object (`txid`, `vin[{txid, vout, prevout{scriptpubkey_address, value}, is_coinbase}]`,
`vout[{scriptpubkey_address, value}]`, `status{confirmed, block_height, block_hash,
block_time}`), values in satoshis. Errors come as `{"error": "..."}` or plain text.

A transaction is outgoing when an input's prevout pays the wallet's address; a listed
transaction whose inputs lack their prevout cannot be classified and comes back as
`TxUnreadable`, to be fetched on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from rigwatch.domain.payouts import (
    MAX_ATOMIC,
    BlockRef,
    Credit,
    TxUnreadable,
    WalletTx,
    valid_txid,
)
from rigwatch.protocols.errors import ProtocolError

MAX_BODY_BYTES = 32 * 1024 * 1024  # 75 transactions; a pool's coinbase can be large
MAX_TIME = 2**33  # unix seconds, year 2242
CHAIN_PAGE = 25


def txs_path(address: str) -> str:
    return f"/address/{address}/txs"


def chain_path(address: str, last_seen_txid: str) -> str:
    return f"/address/{address}/txs/chain/{last_seen_txid}"


def tx_path(txid: str) -> str:
    return f"/tx/{txid}"


def decode(raw: bytes) -> Any:
    """The JSON value of a body, or ProtocolError."""
    if len(raw) > MAX_BODY_BYTES:
        raise ProtocolError(f"body of {len(raw)} bytes is larger than an Esplora page")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"Esplora body is not JSON: {exc}") from None


def error_message(raw: bytes) -> str:
    """The text of an error answer: `{"error": "..."}` or plain text (bounded)."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        value = None
    if isinstance(value, Mapping) and isinstance(value.get("error"), str):
        return str(value["error"])[:300]
    return raw[:300].decode("utf-8", "replace").strip() or "(empty body)"


def parse_page(raw: bytes, address: str) -> list[WalletTx | TxUnreadable]:
    """One page of an address's history, newest first."""
    value = decode(raw)
    if not isinstance(value, list):
        raise ProtocolError(f"address page is a JSON {type(value).__name__}, not an array")
    return [parse_listed(item, address) for item in value]


def parse_listed(item: object, address: str) -> WalletTx | TxUnreadable:
    """A listed tx object; one that names its txid but is otherwise unreadable is
    `TxUnreadable` (fetch it alone), one without a txid is a ProtocolError."""
    if not isinstance(item, Mapping):
        raise ProtocolError(f"a listed transaction is a JSON {type(item).__name__}")
    txid = valid_txid(item.get("txid"))
    if txid is None:
        raise ProtocolError("a listed transaction has no valid txid")
    try:
        return parse_tx(item, address)
    except ProtocolError as exc:
        return TxUnreadable(txid, str(exc)[:300])


def parse_tx_body(raw: bytes, address: str) -> WalletTx:
    """`GET /api/tx/<txid>`."""
    return parse_tx(decode(raw), address)


def parse_tx(tx: object, address: str) -> WalletTx:
    """An Esplora tx object as it concerns `address`."""
    if not isinstance(tx, Mapping):
        raise ProtocolError(f"a transaction is a JSON {type(tx).__name__}, not an object")
    txid = valid_txid(tx.get("txid"))
    if txid is None:
        raise ProtocolError("transaction without a valid txid")
    vin, vout = tx.get("vin"), tx.get("vout")
    if not isinstance(vin, list) or not isinstance(vout, list) or not vin or not vout:
        raise ProtocolError(f"{txid}: vin and vout must be non-empty arrays")
    coinbase = False
    outgoing = False
    for item in vin:
        if not isinstance(item, Mapping):
            raise ProtocolError(f"{txid}: an input is not an object")
        if item.get("is_coinbase") is True:
            coinbase = True
            continue
        prevout = item.get("prevout")
        if not isinstance(prevout, Mapping):
            raise ProtocolError(f"{txid}: an input has no prevout")
        if prevout.get("scriptpubkey_address") == address:
            outgoing = True
    received: list[Credit] = []
    for index, item in enumerate(vout):
        if not isinstance(item, Mapping):
            raise ProtocolError(f"{txid}: an output is not an object")
        if item.get("scriptpubkey_address") == address:
            received.append(Credit(index, _sats(item.get("value"), txid)))
    return WalletTx(txid, _status(tx.get("status"), txid), coinbase, outgoing, tuple(received))


def _sats(value: object, txid: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ATOMIC:
        return value
    raise ProtocolError(f"{txid}: an output value is not a satoshi amount: {value!r:.40}")


def _status(status: object, txid: str) -> BlockRef | None:
    if not isinstance(status, Mapping):
        raise ProtocolError(f"{txid}: no status object")
    confirmed = status.get("confirmed")
    if confirmed is False:
        return None
    if confirmed is not True:
        raise ProtocolError(f"{txid}: status.confirmed is not a boolean")
    height, block_hash, when = (
        status.get("block_height"),
        valid_txid(status.get("block_hash")),
        status.get("block_time"),
    )
    if not isinstance(height, int) or isinstance(height, bool) or not 0 <= height < 2**31:
        raise ProtocolError(f"{txid}: confirmed without a valid block_height")
    if block_hash is None:
        raise ProtocolError(f"{txid}: confirmed without a valid block_hash")
    if not isinstance(when, int) or isinstance(when, bool) or not 0 < when < MAX_TIME:
        raise ProtocolError(f"{txid}: confirmed without a valid block_time")
    return BlockRef(height, block_hash, datetime.fromtimestamp(when, UTC))

"""Blockbook (Trezor) API V2: an address's transactions, single transactions, the
indexer's status and block hashes by height.

PROTOCOLS.md 5.5:
- `GET /api/v2/address/<a>?details=txs&from=<height>&page=<p>&pageSize=<n>` →
  `{page, totalPages, itemsOnPage, address, balance, ..., txs (a count),
  transactions:[Tx]}`; pages are 1-based, `pageSize` is capped at 1000, transactions
  newest first, `from` is the first block height included.
- Tx (`GET /api/v2/tx/<txid>`): `txid, vin[{txid, vout, n, addresses[], isAddress,
  value}], vout[{value, n, addresses[], isAddress}], blockHash, blockHeight (-1 while
  unconfirmed), confirmations, blockTime`.
- `GET /api/status` → `{blockbook{bestHeight, inSync, ...}, backend{blocks,
  bestBlockHash, ...}}`; `GET /api/v2/block-index/<h>` → `{"blockHash": ...}`.
- Errors: `{"error": "..."}` with 400 or 500.

Amounts are decimal strings of the coin's atomic unit ("4225100" satoshis): read as
integers, never through float.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
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

MAX_BODY_BYTES = 64 * 1024 * 1024  # a page of up to 1000 full transactions
MAX_PAGE_SIZE = 1000
MAX_TIME = 2**33
_DIGITS = re.compile(r"[0-9]{1,19}")

STATUS_PATH = "/api/status"


def address_path(address: str) -> str:
    return f"/api/v2/address/{address}"


def address_params(from_height: int, page: int, page_size: int = MAX_PAGE_SIZE) -> dict[str, str]:
    return {
        "details": "txs",
        "from": str(from_height),
        "page": str(page),
        "pageSize": str(page_size),
    }


def tx_path(txid: str) -> str:
    return f"/api/v2/tx/{txid}"


def block_index_path(height: int) -> str:
    return f"/api/v2/block-index/{height}"


@dataclass(frozen=True, slots=True)
class AddressPage:
    """One page of `details=txs`: its transactions, newest first, and where it stands."""

    page: int
    total_pages: int
    transactions: tuple[WalletTx | TxUnreadable, ...]


@dataclass(frozen=True, slots=True)
class Status:
    best_height: int
    in_sync: bool
    coin: str | None


def decode(raw: bytes) -> Any:
    if len(raw) > MAX_BODY_BYTES:
        raise ProtocolError(f"body of {len(raw)} bytes is larger than a Blockbook page")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"Blockbook body is not JSON: {exc}") from None


def _object(raw: bytes, what: str) -> Mapping[str, Any]:
    value = decode(raw)
    if not isinstance(value, Mapping):
        raise ProtocolError(f"{what} is a JSON {type(value).__name__}, not an object")
    if isinstance(value.get("error"), str | Mapping):
        raise ProtocolError(f"{what}: Blockbook error {str(value['error'])[:200]}")
    return value


def error_message(raw: bytes) -> str:
    """The text of an error answer (`{"error": "..."}`), bounded."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        value = None
    if isinstance(value, Mapping) and "error" in value:
        error = value["error"]
        if isinstance(error, Mapping):  # some versions: {"error": {"message": ...}}
            error = error.get("message", error)
        return str(error)[:300]
    return raw[:300].decode("utf-8", "replace").strip() or "(empty body)"


def amount(value: object, what: str = "amount") -> int:
    """A decimal string of atomic units (or a JSON integer) as an int; ProtocolError for
    fractions, signs, exponents and anything past BIGINT."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        raise ProtocolError(f"{what} is not a decimal string of atomic units: {value!r:.40}")
    if not 0 <= number <= MAX_ATOMIC:
        raise ProtocolError(f"{what} {number} is out of range")
    return number


def _int(value: object, what: str, low: int = 0, high: int = 2**31) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and low <= value < high:
        return value
    raise ProtocolError(f"{what} is not an integer in [{low}, {high}): {value!r:.40}")


def parse_address_page(raw: bytes, address: str) -> AddressPage:
    """`/api/v2/address/<a>?details=txs...`; a page without `transactions` has none."""
    doc = _object(raw, "address page")
    page = _int(doc.get("page", 1), "page", 1)
    total = _int(doc.get("totalPages", 1), "totalPages", 0)
    items = doc.get("transactions", [])
    if not isinstance(items, list):
        raise ProtocolError("address page: transactions is not an array")
    return AddressPage(page, total, tuple(parse_listed(item, address) for item in items))


def parse_listed(item: object, address: str) -> WalletTx | TxUnreadable:
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
    """`GET /api/v2/tx/<txid>`."""
    return parse_tx(_object(raw, "transaction"), address)


def _addresses(item: Mapping[str, Any]) -> list[Any]:
    found = item.get("addresses")
    return found if isinstance(found, list) else []


def parse_tx(tx: object, address: str) -> WalletTx:
    """A Blockbook Tx object as it concerns `address`."""
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
        # A coinbase input spends nothing: no previous txid, the script under "coinbase".
        if "coinbase" in item or (item.get("txid") is None and len(vin) == 1):
            coinbase = True
            continue
        if address in _addresses(item):
            outgoing = True
    received: list[Credit] = []
    seen: set[int] = set()
    for index, item in enumerate(vout):
        if not isinstance(item, Mapping):
            raise ProtocolError(f"{txid}: an output is not an object")
        if address not in _addresses(item):
            continue
        n = _int(item.get("n", index), f"{txid}: output n")
        if n in seen:
            raise ProtocolError(f"{txid}: output {n} listed twice")
        seen.add(n)
        received.append(Credit(n, amount(item.get("value"), f"{txid}: output {n} value")))
    return WalletTx(txid, _block(tx, txid), coinbase, outgoing, tuple(received))


def _block(tx: Mapping[str, Any], txid: str) -> BlockRef | None:
    height = tx.get("blockHeight")
    confirmations = tx.get("confirmations")
    if height is None or (isinstance(height, int) and not isinstance(height, bool) and height < 1):
        return None
    if isinstance(confirmations, int) and not isinstance(confirmations, bool) and confirmations < 1:
        return None
    block_hash = valid_txid(tx.get("blockHash"))
    if block_hash is None:
        raise ProtocolError(f"{txid}: confirmed without a valid blockHash")
    when = _int(tx.get("blockTime"), f"{txid}: blockTime", 1, MAX_TIME)
    return BlockRef(
        _int(height, f"{txid}: blockHeight"), block_hash, datetime.fromtimestamp(when, UTC)
    )


def parse_status(raw: bytes) -> Status:
    """`GET /api/status`: the indexer's best height (what has been scanned up to)."""
    doc = _object(raw, "status")
    blockbook = doc.get("blockbook")
    if not isinstance(blockbook, Mapping):
        raise ProtocolError("status without a blockbook object")
    coin = blockbook.get("coin")
    return Status(
        best_height=_int(blockbook.get("bestHeight"), "bestHeight"),
        in_sync=blockbook.get("inSync") is True,
        coin=coin[:64] if isinstance(coin, str) else None,
    )


def parse_block_index(raw: bytes) -> str:
    """`GET /api/v2/block-index/<h>`: the hash of the block at that height now."""
    found = valid_txid(_object(raw, "block-index").get("blockHash"))
    if found is None:
        raise ProtocolError("block-index without a valid blockHash")
    return found

"""Payouts seen on the chain: a wallet's transactions, reduced to what counts as revenue.

A `Payment` is one output paying a watched address, in a confirmed block, unique by
(txid, output index). A transaction whose inputs spend the wallet's own outputs is
outgoing: its change back to the wallet is not revenue, so it yields no payments.
Amounts are integers of the coin's atomic unit (satoshis), never floats.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime

MAX_ATOMIC = 2**63 - 1  # BIGINT; no UTXO chain's output comes near it

_TXID = re.compile(r"[0-9a-fA-F]{64}")
# base58 (1..., 3..., L..., D...), bech32 (bc1..., ltc1...), cashaddr (bitcoincash:q...)
_ADDRESS = re.compile(r"[A-Za-z0-9]{1,20}:?[A-Za-z0-9]{14,110}")
_COIN = re.compile(r"[A-Z0-9]{2,10}")


class Backend(enum.StrEnum):
    """The explorer API a wallet is read from."""

    ESPLORA = "esplora"
    BLOCKBOOK = "blockbook"


def valid_txid(value: object) -> str | None:
    """A transaction id as 64 lowercase hex digits, or None."""
    if isinstance(value, str) and _TXID.fullmatch(value):
        return value.lower()
    return None


def valid_address(value: object) -> str | None:
    """A chain address safe to put in a URL path (letters, digits, one optional colon)."""
    if isinstance(value, str) and _ADDRESS.fullmatch(value):
        return value
    return None


def valid_coin(value: object) -> str | None:
    """A coin ticker, upper case: BTC, LTC, DOGE, BCH ..."""
    if isinstance(value, str) and _COIN.fullmatch(value.strip().upper()):
        return value.strip().upper()
    return None


@dataclass(frozen=True, slots=True)
class BlockRef:
    """Where a transaction was confirmed."""

    height: int
    hash: str
    time: datetime


@dataclass(frozen=True, slots=True)
class Credit:
    """One output of a transaction paying the wallet."""

    vout: int
    amount_atomic: int


@dataclass(frozen=True, slots=True)
class WalletTx:
    """A transaction as it concerns one wallet address."""

    txid: str
    block: BlockRef | None  # None while unconfirmed
    coinbase: bool
    outgoing: bool  # an input spends one of the wallet's outputs
    received: tuple[Credit, ...]  # outputs paying the wallet (change included)

    @property
    def payments(self) -> tuple[Credit, ...]:
        """What is revenue: the outputs of a confirmed, incoming transaction."""
        if self.block is None or self.outgoing:
            return ()
        return self.received


@dataclass(frozen=True, slots=True)
class TxUnreadable:
    """A transaction listed for the wallet whose details could not be read from the
    listing (missing prevouts, a malformed entry): fetch it on its own, or retry later."""

    txid: str
    reason: str


@dataclass(frozen=True, slots=True)
class Wallet:
    """A watched address and where its sync stands."""

    id: int
    coin: str
    address: str
    backend: Backend
    base_url: str
    label: str | None
    created_at: datetime
    synced_height: int | None
    rescan_from: int | None
    last_sync_at: datetime | None
    last_success_at: datetime | None
    consecutive_failures: int
    last_error: str | None
    payments: int = 0
    retries: int = 0


@dataclass(frozen=True, slots=True)
class Payment:
    """One payout output on the chain, with the wallet it paid."""

    id: int
    wallet_id: int
    coin: str
    address: str
    label: str | None
    txid: str
    vout: int
    amount_atomic: int
    block_height: int
    block_hash: str
    ts: datetime
    coinbase: bool


@dataclass(frozen=True, slots=True)
class DailyRevenue:
    """Payouts of one coin on one UTC day (kept after the payments themselves expire)."""

    day: str
    coin: str
    amount_atomic: int
    payments: int

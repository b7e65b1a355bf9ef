"""The schema as SQLAlchemy Core tables; migration 0001 creates exactly this.

Every timestamp is BIGINT microseconds since the epoch, UTC (see `timestamps`).
The raw time series (`samples`, `hashboard_samples`) are keyed time-first and
WITHOUT ROWID on SQLite, with no foreign keys and no per-miner index: measured
on the target machine, an index on (miner_id, ts) makes ingest 5x slower
because every commit dirties one index page per miner. Per-miner reads filter
a time range; charts will read rollups. JSON columns are plain text so both
databases store the same bytes.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

CREDENTIAL_KINDS = ("enroll", "sentry", "apikey")

sites = Table(
    "sites",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
)

sentries = Table(
    "sentries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("sites.id"), nullable=False),
    Column("name", String(100), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("enrolled_at", BigInteger),
    Column("revoked_at", BigInteger),
    Column("last_seen_at", BigInteger),
    Column("last_seq", BigInteger),
    # What the sentry's User-Agent said on its latest batch (`rigwatch-sentry/<version>`).
    Column("version", String(64)),
)

credentials = Table(
    "credentials",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(10), nullable=False),
    Column("name", String(100), nullable=False),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("role", String(16)),
    Column("sentry_id", Integer, ForeignKey("sentries.id", ondelete="CASCADE")),
    Column("created_at", BigInteger, nullable=False),
    Column("used_at", BigInteger),
    Column("revoked_at", BigInteger),
    CheckConstraint("kind IN ('enroll', 'sentry', 'apikey')", name="kind"),
    Index(None, "sentry_id"),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index(None, "user_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ts", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("target", String(500), nullable=False),
    Column("detail", Text, nullable=False),
    Index(None, "ts"),
)

ingest_batches = Table(
    "ingest_batches",
    metadata,
    Column("sentry_id", Integer, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Column("samples", Integer, nullable=False),
    Column("events", Integer, nullable=False),
    PrimaryKeyConstraint("sentry_id", "seq"),
    sqlite_with_rowid=False,
)

miners = Table(
    "miners",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sentry_id", Integer, ForeignKey("sentries.id"), nullable=False),
    Column("key", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("make", String(100)),
    Column("model", String(100)),
    Column("firmware", String(200)),
    Column("ip", String(64)),
    Column("mac", String(32)),
    Column("hostname", String(255)),
    Column("worker", String(255)),
    Column("tags", Text, nullable=False),
    Column("rack", String(100)),
    Column("first_seen", BigInteger, nullable=False),
    # The machine a rig's mining software runs on (hosts.id); None for ASICs.
    Column("host_id", Integer),
    UniqueConstraint("sentry_id", "key"),
)

samples = Table(
    "samples",
    metadata,
    Column("ts", BigInteger, nullable=False),
    Column("miner_id", Integer, nullable=False),
    Column("hashrate_hs", Float),
    Column("hashrate_expected_hs", Float),
    Column("temp_c", Float),
    Column("temp_max_c", Float),
    Column("chip_temp_c", Float),
    Column("fans_rpm", Text),
    Column("power_w", Float),
    Column("accepted", BigInteger),
    Column("rejected", BigInteger),
    Column("stale", BigInteger),
    Column("accepted_delta", BigInteger),
    Column("rejected_delta", BigInteger),
    Column("stale_delta", BigInteger),
    Column("uptime_s", BigInteger),
    Column("pool_url", String(500)),
    PrimaryKeyConstraint("ts", "miner_id"),
    sqlite_with_rowid=False,
)

hashboard_samples = Table(
    "hashboard_samples",
    metadata,
    Column("ts", BigInteger, nullable=False),
    Column("miner_id", Integer, nullable=False),
    Column("idx", Integer, nullable=False),
    Column("hashrate_hs", Float),
    Column("temp_c", Float),
    Column("chip_temp_c", Float),
    Column("chips", Integer),
    Column("chips_expected", Integer),
    Column("missing", Boolean, nullable=False),
    PrimaryKeyConstraint("ts", "miner_id", "idx"),
    sqlite_with_rowid=False,
)

miner_state = Table(
    "miner_state",
    metadata,
    Column(
        "miner_id",
        Integer,
        ForeignKey("miners.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    # ts moves with samples and offline / online events; last_sample_ts only with samples
    # (the miner's "last seen"). Kept here, not on `miners`, so that ingest touches a
    # miners row only when its identity changes.
    Column("ts", BigInteger, nullable=False),
    Column("last_sample_ts", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("warnings", Text, nullable=False),
    Column("hashrate_hs", Float),
    Column("hashrate_expected_hs", Float),
    Column("temp_c", Float),
    Column("temp_max_c", Float),
    Column("chip_temp_c", Float),
    Column("fans_rpm", Text, nullable=False),
    Column("power_w", Float),
    Column("accepted", BigInteger),
    Column("rejected", BigInteger),
    Column("stale", BigInteger),
    Column("uptime_s", BigInteger),
    Column("pool_url", String(500)),
    Column("pool_user", String(500)),
    Column("errors", Text, nullable=False),
    Column("hashboards", Text, nullable=False),
    Column("pools", Text, nullable=False),
    Column("algorithm", String(64)),
    Column("devices", Text, nullable=False, server_default="[]"),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ts", BigInteger, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("key", String(300), nullable=False),
    Column("sentry_id", Integer, ForeignKey("sentries.id")),
    Column("miner_id", Integer, ForeignKey("miners.id", ondelete="SET NULL")),
    Column("host_id", Integer),
    Column("message", Text, nullable=False),
    Column("data", Text, nullable=False),
    UniqueConstraint("sentry_id", "key"),
    Index(None, "ts"),
    Index(None, "miner_id", "id"),
)

device_samples = Table(
    "device_samples",
    metadata,
    Column("ts", BigInteger, nullable=False),
    Column("miner_id", Integer, nullable=False),
    Column("idx", Integer, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("hashrate_hs", Float),
    Column("temp_c", Float),
    Column("mem_temp_c", Float),
    Column("fan_pct", Float),
    Column("fan_rpm", Integer),
    Column("power_w", Float),
    Column("core_clock_mhz", Float),
    Column("mem_clock_mhz", Float),
    Column("accepted", BigInteger),
    Column("rejected", BigInteger),
    PrimaryKeyConstraint("ts", "miner_id", "idx"),
    sqlite_with_rowid=False,
)

hosts = Table(
    "hosts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sentry_id", Integer, ForeignKey("sentries.id"), nullable=False),
    Column("key", String(200), nullable=False),
    Column("hostname", String(255)),
    Column("os", String(200)),
    Column("cpu_model", String(200)),
    Column("cpu_count", Integer),
    Column("first_seen", BigInteger, nullable=False),
    UniqueConstraint("sentry_id", "key"),
)

_HOST_FIGURES = (
    ("cpu_pct", Float),
    ("load_1m", Float),
    ("cpu_temp_c", Float),
    ("mem_used_bytes", BigInteger),
    ("mem_total_bytes", BigInteger),
    ("disk_used_bytes", BigInteger),
    ("disk_total_bytes", BigInteger),
    ("uptime_s", BigInteger),
)
HOST_FIGURES = tuple(name for name, _type in _HOST_FIGURES)

host_samples = Table(
    "host_samples",
    metadata,
    Column("ts", BigInteger, nullable=False),
    Column("host_id", Integer, nullable=False),
    *(Column(name, kind) for name, kind in _HOST_FIGURES),
    Column("gpus", Text, nullable=False),
    PrimaryKeyConstraint("ts", "host_id"),
    sqlite_with_rowid=False,
)

host_state = Table(
    "host_state",
    metadata,
    Column(
        "host_id",
        Integer,
        ForeignKey("hosts.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("ts", BigInteger, nullable=False),
    *(Column(name, kind) for name, kind in _HOST_FIGURES),
    Column("gpus", Text, nullable=False),
)

_P2POOL_FIGURES = (
    ("hashrate_15m_hs", Float),
    ("hashrate_1h_hs", Float),
    ("hashrate_24h_hs", Float),
    ("total_hashes", BigInteger),
    ("shares_found", BigInteger),
    ("shares_failed", BigInteger),
    ("average_effort_pct", Float),
    ("current_effort_pct", Float),
    ("block_reward_share_pct", Float),
    ("connections", Integer),
    ("peers", Integer),
    ("wallet", String(200)),
    ("sidechain_height", BigInteger),
    ("sidechain_difficulty", BigInteger),
    ("pool_hashrate_hs", Float),
    ("pool_miners", Integer),
    ("pool_blocks_found", BigInteger),
    ("network_height", BigInteger),
    ("network_difficulty", BigInteger),
    ("network_reward_atomic", BigInteger),
)
P2POOL_FIGURES = tuple(name for name, _type in _P2POOL_FIGURES)

# One row per read of a P2Pool node's data API; `node` is the sentry's name for it.
p2pool_samples = Table(
    "p2pool_samples",
    metadata,
    Column("ts", BigInteger, nullable=False),
    Column("sentry_id", Integer, nullable=False),
    Column("node", String(200), nullable=False),
    Column("host_id", Integer),
    *(Column(name, kind) for name, kind in _P2POOL_FIGURES),
    Column("workers", Text, nullable=False),
    PrimaryKeyConstraint("ts", "sentry_id", "node"),
    sqlite_with_rowid=False,
)

# --- History at several resolutions (migration 0003) -------------------------------
#
# Rollups are keyed (miner_id, bucket) so one miner's history is one range of the
# primary key; the farm and site charts read the small fleet tables keyed (scope,
# bucket). `bucket` is the start of the bucket (µs UTC, aligned to the epoch). The
# rules that fill them are in `rollups`.

# The oldest and newest sample of each batch: tells the rollup job what to recompute.
ingest_batches.append_column(Column("first_ts", BigInteger))
ingest_batches.append_column(Column("last_ts", BigInteger))
# The rollup job finds new batches by time of arrival; without this it scans them all.
Index("ix_ingest_batches_received_at", ingest_batches.c.received_at)

ROLLUP_FIGURES = (
    "hashrate_min",
    "hashrate_mean",
    "hashrate_max",
    "expected_mean",
    "temp_min",
    "temp_mean",
    "temp_max",
    "power_min",
    "power_mean",
    "power_max",
)
FLEET_FIGURES = (
    "hashrate_mean",
    "hashrate_min",
    "hashrate_max",
    "expected_mean",
    "power_mean",
    "temp_mean",
    "temp_max",
)
SHARE_COUNTS = ("accepted", "rejected", "stale")


def _miner_rollup(name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("miner_id", Integer, nullable=False),
        Column("bucket", BigInteger, nullable=False),
        Column("samples", Integer, nullable=False),
        Column("up_s", Float, nullable=False),
        *(Column(figure, Float) for figure in ROLLUP_FIGURES),
        *(Column(count, BigInteger) for count in SHARE_COUNTS),
        PrimaryKeyConstraint("miner_id", "bucket"),
        sqlite_with_rowid=False,
    )


def _fleet_rollup(name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("scope", String(32), nullable=False),
        Column("bucket", BigInteger, nullable=False),
        Column("miners", Integer, nullable=False),
        Column("samples", Integer, nullable=False),
        Column("up_s", Float, nullable=False),
        *(Column(figure, Float) for figure in FLEET_FIGURES),
        *(Column(count, BigInteger) for count in SHARE_COUNTS),
        PrimaryKeyConstraint("scope", "bucket"),
        sqlite_with_rowid=False,
    )


rollup_5m = _miner_rollup("rollup_5m")
rollup_1h = _miner_rollup("rollup_1h")
rollup_1d = _miner_rollup("rollup_1d")
fleet_rollup_5m = _fleet_rollup("fleet_rollup_5m")
fleet_rollup_1h = _fleet_rollup("fleet_rollup_1h")
fleet_rollup_1d = _fleet_rollup("fleet_rollup_1d")

# Watermarks of the rollup job ('received_at': batches up to here are accounted for).
rollup_state = Table(
    "rollup_state",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

# Buckets waiting to be recomputed, per resolution ('5m', '1h', '1d'): the job's to-do
# list, so a backlog survives restarts and is worked off in bounded chunks.
rollup_pending = Table(
    "rollup_pending",
    metadata,
    Column("resolution", String(4), nullable=False),
    Column("bucket", BigInteger, nullable=False),
    PrimaryKeyConstraint("resolution", "bucket"),
    sqlite_with_rowid=False,
)


# One row per UTC day: the farm's totals that day (store/snapshots.py builds it from the
# rollups and events). Atomic payouts are JSON strings so sums stay exact past 2**63;
# `revenue` (JSON: sats with basis actual|expected|unknown, chain payouts per coin, USD) is
# retaken until it is known; `data` is the whole snapshot for the API.
snapshots = Table(
    "snapshots",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("taken_at", BigInteger, nullable=False),
    Column("hashrate_mean_hs", Float),
    Column("expected_mean_hs", Float),
    Column("power_mean_w", Float),
    Column("energy_kwh", Float),
    Column("efficiency_j_th", Float),
    Column("uptime_pct", Float),
    Column("miners_total", Integer, nullable=False),
    Column("miners_online", Integer, nullable=False),
    Column("miners_warning", Integer, nullable=False),
    Column("miners_offline", Integer, nullable=False),
    Column("accepted", BigInteger),
    Column("rejected", BigInteger),
    Column("shares_found", BigInteger, nullable=False),
    Column("blocks_found", BigInteger, nullable=False),
    Column("by_model", Text, nullable=False),
    Column("payouts", Text, nullable=False),
    Column("revenue", Text),
    Column("partial", Boolean, nullable=False),
    Column("data", Text, nullable=False),
)


# --- Network and price (migration 0005) ---------------------------------------------
#
# Series written by the network job (store/network.py), one row per successful sync.
# A figure whose source failed is NULL in that row, so "the newest non-NULL value" is
# the last good one, with the row's `ts` as its age. Fees in sat/vB; `next_retarget_ts`
# in µs like every timestamp.
network_stats = Table(
    "network_stats",
    metadata,
    Column("chain", String(16), nullable=False, server_default="BTC"),
    Column("ts", BigInteger, nullable=False),
    Column("height", BigInteger),
    Column("difficulty", Float),
    Column("network_hashrate_hs", Float),
    Column("next_retarget_height", BigInteger),
    Column("next_retarget_ts", BigInteger),
    Column("difficulty_change_pct", Float),
    Column("fee_fast", Float),
    Column("fee_half_hour", Float),
    Column("fee_hour", Float),
    Column("fee_economy", Float),
    PrimaryKeyConstraint("chain", "ts"),
    sqlite_with_rowid=False,
)

# Fiat per coin; `ts` is the quote's own time when the source gives one.
prices = Table(
    "prices",
    metadata,
    Column("coin", String(16), nullable=False),
    Column("currency", String(8), nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("price", Float, nullable=False),
    PrimaryKeyConstraint("coin", "currency", "ts"),
    sqlite_with_rowid=False,
)

# Recent blocks of the chain; a block seen again (or replaced by a reorg) is updated.
network_blocks = Table(
    "network_blocks",
    metadata,
    Column("chain", String(16), nullable=False),
    Column("height", BigInteger, nullable=False),
    Column("hash", String(64)),
    Column("ts", BigInteger),
    Column("pool", String(100)),
    Column("fees_sat", BigInteger),
    Column("reward_sat", BigInteger),
    Column("tx_count", Integer),
    Column("seen_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("chain", "height"),
    sqlite_with_rowid=False,
)


# --- Payouts from the chain (migration 0007) ----------------------------------------
#
# `wallets` are watched addresses with their sync state; `payments` one row per output
# paying a wallet in a confirmed block, unique by (wallet, txid, vout) so a replayed page
# stores nothing twice. `payment_retries` holds transactions that were listed but could
# not be read, retried on later syncs. `revenue_daily` sums payments per wallet and UTC
# day; it has no foreign key and outlives both the payments (retention) and the wallet.
WALLET_BACKENDS = ("esplora", "blockbook")

wallets = Table(
    "wallets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("coin", String(16), nullable=False),
    Column("address", String(200), nullable=False),
    Column("backend", String(16), nullable=False),
    Column("base_url", String(500), nullable=False),
    Column("label", String(200)),
    Column("created_at", BigInteger, nullable=False),
    Column("synced_height", BigInteger),
    # Set by an admin's reset: the next sync scans from here, then clears it.
    Column("rescan_from", BigInteger),
    Column("last_sync_at", BigInteger),
    Column("last_success_at", BigInteger),
    Column("consecutive_failures", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    UniqueConstraint("coin", "address"),
    CheckConstraint("backend IN ('esplora', 'blockbook')", name="backend"),
    # Ids are never reused: `revenue_daily` keeps a deleted wallet's totals under its id.
    sqlite_autoincrement=True,
)

payments = Table(
    "payments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("wallet_id", Integer, ForeignKey("wallets.id", ondelete="CASCADE"), nullable=False),
    Column("txid", String(64), nullable=False),
    Column("vout", Integer, nullable=False),
    Column("amount_atomic", BigInteger, nullable=False),
    Column("block_height", BigInteger, nullable=False),
    Column("block_hash", String(64), nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("coinbase", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("wallet_id", "txid", "vout"),
    Index(None, "wallet_id", "block_height"),
    Index(None, "ts"),
)

payment_retries = Table(
    "payment_retries",
    metadata,
    Column("wallet_id", Integer, ForeignKey("wallets.id", ondelete="CASCADE"), nullable=False),
    Column("txid", String(64), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_try_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("wallet_id", "txid"),
)

revenue_daily = Table(
    "revenue_daily",
    metadata,
    Column("wallet_id", Integer, nullable=False),
    Column("day", String(10), nullable=False),
    Column("coin", String(16), nullable=False),
    Column("amount_atomic", BigInteger, nullable=False),
    Column("payments", Integer, nullable=False),
    PrimaryKeyConstraint("wallet_id", "day"),
)


# --- Profit (migration 0008) ----------------------------------------------------------
#
# What a site pays for power and to its pool (domain/profit.py `SitePower`): a base price
# per kWh in `currency`, optional time-of-use periods as JSON text
# ([{"start_hour", "end_hour", "price_per_kwh"}], hours UTC), the pool's fee in percent.
# NULL price or fee: not configured, so the figures that need it are unknown.
site_power = Table(
    "site_power",
    metadata,
    Column(
        "site_id",
        Integer,
        ForeignKey("sites.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("currency", String(8), nullable=False),
    Column("price_per_kwh", Float),
    Column("tou", Text, nullable=False),
    Column("pool_fee_pct", Float),
    Column("updated_at", BigInteger, nullable=False),
)


# --- Pool accounts (migration 0006) -------------------------------------------------
#
# Accounts at pools (Ocean, public-pool, ckpool, P2Pool) and what their sync job reads
# (commander/pool_sync.py, store/pools.py). Amounts are atomic units (sats, piconero) in
# BIGINT: all BTC ever is 2.1e15 sats and one XMR payout would need 9.2 million XMR to
# pass 2**63, so single amounts fit; sums are made in Python ints, never in SQL.
# `hashrates` is JSON text {window: H/s} ("5m", "1h", ...), since each pool has its own
# windows. Payout `txid` and block `hash` are "" when the pool gives none, so that the
# unique keys (which treat NULLs as distinct) still hold.
POOL_KINDS = ("ocean", "public-pool", "ckpool", "p2pool")

pool_accounts = Table(
    "pool_accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("name", String(100), nullable=False),
    Column("base_url", String(500), nullable=False),
    Column("account", String(200), nullable=False),
    Column("interval_s", Integer, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_sync_at", BigInteger),
    Column("last_success_at", BigInteger),
    Column("consecutive_failures", Integer, nullable=False),
    Column("last_error", Text),
    UniqueConstraint("kind", "base_url", "account"),
    CheckConstraint(
        "kind IN ('ocean', 'public-pool', 'ckpool', 'p2pool', 'p2pool-observer')", name="kind"
    ),
)

pool_account_samples = Table(
    "pool_account_samples",
    metadata,
    Column(
        "account_id",
        Integer,
        ForeignKey("pool_accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("ts", BigInteger, nullable=False),
    Column("hashrates", Text, nullable=False),
    Column("workers", Integer),
    Column("last_share_ts", BigInteger),
    Column("unpaid_atomic", BigInteger),
    Column("estimated_atomic", BigInteger),
    Column("coin", String(8), nullable=False),
    Column("pool_hashrate_hs", Float),
    Column("network_difficulty", Float),
    Column("network_height", BigInteger),
    PrimaryKeyConstraint("account_id", "ts"),
    sqlite_with_rowid=False,
)

pool_workers = Table(
    "pool_workers",
    metadata,
    Column(
        "account_id",
        Integer,
        ForeignKey("pool_accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(255), nullable=False),
    Column("hashrate_hs", Float),
    Column("hashrates", Text, nullable=False),
    Column("last_share_ts", BigInteger),
    Column("updated_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "name"),
)

pool_payouts = Table(
    "pool_payouts",
    metadata,
    Column(
        "account_id",
        Integer,
        ForeignKey("pool_accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("ts", BigInteger, nullable=False),
    Column("txid", String(200), nullable=False),
    Column("amount_atomic", BigInteger, nullable=False),
    Column("coin", String(8), nullable=False),
    Column("first_seen", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "ts", "txid"),
)

pool_blocks = Table(
    "pool_blocks",
    metadata,
    Column(
        "account_id",
        Integer,
        ForeignKey("pool_accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("height", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("ts", BigInteger),
    Column("reward_atomic", BigInteger),
    Column("finder", String(255)),
    Column("first_seen", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "height", "hash"),
)

# One row per (account, miner) the worker matching paired: both hashrates at the last
# sync, and the running gap episode (`gap_since`; `gap_raised` once its event is out).
pool_miner_gaps = Table(
    "pool_miner_gaps",
    metadata,
    Column(
        "account_id",
        Integer,
        ForeignKey("pool_accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("miner_id", Integer, ForeignKey("miners.id", ondelete="CASCADE"), nullable=False),
    Column("worker", String(255), nullable=False),
    Column("pool_hashrate_hs", Float),
    Column("miner_hashrate_hs", Float),
    Column("gap_since", BigInteger),
    Column("gap_raised", Boolean, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "miner_id"),
    Index(None, "miner_id"),
)


# --- Notifications (migration 0010) -------------------------------------------------
#
# `channels`: where notices go (webhook, e-mail, Telegram, Discord, ntfy). `config` is
# JSON text with the channel's address and its secrets (SMTP password, bot token, webhook
# secret; the API masks them); `filters` JSON {min_severity, sites, tags}; `quiet_hours`
# JSON {start, end} as local "HH:MM" in `timezone` (NULL: none); `digest_minutes` 0 = off;
# `daily_summary_at` local "HH:MM" (NULL: no summary). The delivery state of the channel
# (`last_success_at`, `last_error`, `consecutive_failures`) is what the API shows.
# `notifications`: the outbox (store/notify.py). `event_id` is the alert event notified;
# for a daily summary the local day it was sent for as yyyymmdd; NULL for digests and
# tests. Unique (channel_id, event_id, kind): an event is notified once per channel.
# `notify_state`: the dispatcher's watermark over `events.id`.
CHANNEL_KINDS = ("webhook", "email", "telegram", "discord", "ntfy")
NOTIFICATION_KINDS = ("firing", "resolved", "flapping", "digest", "summary", "test")
NOTIFICATION_STATES = ("pending", "held", "sent", "failed", "folded")

channels = Table(
    "channels",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("name", String(100), nullable=False, unique=True),
    Column("config", Text, nullable=False),
    Column("filters", Text, nullable=False),
    Column("quiet_hours", Text),
    Column("digest_minutes", Integer, nullable=False, server_default="0"),
    Column("daily_summary_at", String(5)),
    Column("timezone", String(64), nullable=False, server_default="UTC"),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_success_at", BigInteger),
    Column("last_error", Text),
    Column("consecutive_failures", Integer, nullable=False, server_default="0"),
    CheckConstraint("kind IN ('webhook', 'email', 'telegram', 'discord', 'ntfy')", name="kind"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel_id", Integer, ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("event_id", BigInteger),
    Column("payload", Text, nullable=False),
    Column("state", String(8), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_try_at", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("sent_at", BigInteger),
    Column("last_error", Text),
    UniqueConstraint("channel_id", "event_id", "kind"),
    CheckConstraint(
        "kind IN ('firing', 'resolved', 'flapping', 'digest', 'summary', 'test')", name="kind"
    ),
    CheckConstraint("state IN ('pending', 'held', 'sent', 'failed', 'folded')", name="state"),
    Index(None, "state", "next_try_at"),
)

notify_state = Table(
    "notify_state",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
)


# --- Alerts (migration 0009) ----------------------------------------------------------
#
# `alert_rules`: what is checked (domain/alerts.py: kinds, params per kind, scopes and
# which rule wins for a subject). `params` is JSON text as given (defaults are filled in
# when read). `alerts`: one row per episode of a (rule, subject); `open_key`
# ("<rule_id>|<subject>") is set while the alert is open (pending / firing / flapping)
# and NULL once resolved, and unique, so at most one alert per (rule, subject) is open.
# `kind` is kept on the alert so its history reads after the rule is deleted (rule_id
# then NULL). `ok_since`: while open, when the condition last became clear (NULL: it
# holds); `flips`: JSON list of the recent flip times (µs) for flap detection;
# `silenced_notice`: the last notice was written while silenced (said again when the
# silence ends). `silences`: per rule and/or subject, until a time, with a reason.
ALERT_STATES = ("pending", "firing", "flapping", "resolved")

alert_rules = Table(
    "alert_rules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("scope", String(120), nullable=False),
    Column("params", Text, nullable=False),
    Column("severity", String(16), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("hold_s", Integer, nullable=False),
    Column("recover_s", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    CheckConstraint("severity IN ('info', 'warning', 'critical')", name="severity"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("rule_id", Integer, ForeignKey("alert_rules.id", ondelete="SET NULL")),
    Column("kind", String(32), nullable=False),
    Column("subject", String(100), nullable=False),
    Column("state", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("started_at", BigInteger, nullable=False),
    Column("fired_at", BigInteger),
    Column("resolved_at", BigInteger),
    Column("last_change_at", BigInteger, nullable=False),
    Column("ok_since", BigInteger),
    Column("changes", Integer, nullable=False),
    Column("flips", Text, nullable=False),
    Column("value", Float),
    Column("message", Text, nullable=False),
    Column("acked_by", String(200)),
    Column("acked_at", BigInteger),
    Column("silenced_until", BigInteger),
    Column("silenced_notice", Boolean, nullable=False),
    Column("open_key", String(150), unique=True),
    CheckConstraint("state IN ('pending', 'firing', 'flapping', 'resolved')", name="state"),
    Index(None, "state", "id"),
    Index(None, "subject", "id"),
    Index(None, "rule_id"),
)

silences = Table(
    "silences",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("rule_id", Integer, ForeignKey("alert_rules.id", ondelete="CASCADE")),
    Column("subject", String(100)),
    Column("until", BigInteger, nullable=False),
    Column("reason", String(500), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    CheckConstraint("rule_id IS NOT NULL OR subject IS NOT NULL", name="target"),
    Index(None, "until"),
)

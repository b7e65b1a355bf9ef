"""Every setting of rigwatch, in one place.

Env `RIGWATCH_*`, nested with `__`, `*_FILE` for secrets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Commander and CLI settings. Each field's description is its documentation."""

    model_config = SettingsConfigDict(
        env_prefix="RIGWATCH_", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Field(
        default=Path("./rigwatch-data"),
        description="Directory for the SQLite database, generated secrets and the sentry's spool.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the store. Unset: a SQLite file `rigwatch.db` in the data "
            "directory. `postgresql+psycopg://user@host/db` selects PostgreSQL."
        ),
    )
    database_url_file: Path | None = Field(
        default=None, description="File holding the database URL (for secrets managers)."
    )
    host: str = Field(default="127.0.0.1", description="Address the commander listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the commander listens on.")
    offline_after_s: float = Field(
        default=120.0,
        gt=0,
        description="A miner silent this long is shown offline even if no event said so.",
    )
    stream_max_clients: int = Field(
        default=200, ge=1, description="Cap on concurrent live-stream (SSE) connections."
    )
    stream_replay: int = Field(
        default=5000,
        ge=10,
        description="Updates kept for clients that reconnect with Last-Event-ID.",
    )
    stream_heartbeat_s: float = Field(
        default=15.0, gt=0, description="Seconds between heartbeats on an idle live stream."
    )
    writer_max_rows: int = Field(
        default=20000, ge=1, description="The ingest writer commits after this many queued rows."
    )
    writer_max_delay_s: float = Field(
        default=0.25, gt=0, description="The ingest writer commits at least this often when busy."
    )
    session_hours: float = Field(default=24.0 * 7, gt=0, description="Lifetime of a login session.")
    metrics_public: bool = Field(
        default=False,
        description=(
            "Serve `GET /metrics` (Prometheus) without a credential. Off: it needs a viewer "
            "(or higher) API key as `Authorization: Bearer KEY` (Prometheus' "
            "`authorization.credentials_file`) or a session. Turn on only when the "
            "commander's port is reachable from trusted networks alone: the metrics name "
            "every miner, worker and site."
        ),
    )
    demo_autologin: bool = Field(
        default=False,
        description="Sign loopback browsers in as the demo viewer (set by `rigwatch demo` only).",
    )
    label: str | None = Field(
        default=None, description="Banner shown on every page, e.g. 'simulated farm'."
    )
    retention_raw_hours: float = Field(
        default=48.0,
        gt=0,
        description=(
            "Hours raw samples (and per-board, per-device, host and P2Pool readings) are "
            "kept; older rows are deleted once the rollups cover them."
        ),
    )
    retention_5m_days: float = Field(
        default=30.0, gt=0, description="Days the 5-minute rollups are kept."
    )
    retention_1h_days: float = Field(
        default=730.0, gt=0, description="Days the 1-hour rollups are kept (default 2 years)."
    )
    retention_1d_days: float = Field(
        default=0.0, ge=0, description="Days the daily rollups are kept; 0 keeps them forever."
    )
    # --- payouts from the chain (wallet sync) ---
    esplora_url: str = Field(
        default="https://mempool.space/api",
        description=(
            "Esplora / mempool.space API base for Bitcoin wallets (with its `/api`); a new "
            "esplora wallet uses it unless it names its own."
        ),
    )
    blockbook_url: str = Field(
        default="",
        description=(
            "Blockbook base URL (e.g. `https://btc1.trezor.io`) for wallets of other coins; "
            "empty: each blockbook wallet must name its own."
        ),
    )
    wallet_sync_s: float = Field(
        default=300.0, gt=0, description="Seconds between syncs of the watched wallets."
    )
    reorg_depth: int = Field(
        default=6,
        ge=1,
        le=1000,
        description="Blocks below a wallet's synced height re-checked on every sync (reorgs).",
    )
    payment_retention_days: float = Field(
        default=365.0,
        gt=0,
        description="Days chain payments are kept; their daily revenue totals stay forever.",
    )
    # --- network and price (network job) ---
    mempool_url: str = Field(
        default="https://mempool.space",
        max_length=500,
        description=(
            "Esplora / mempool-compatible explorer the network job reads tip height, "
            "difficulty, hashrate, next adjustment, fees, recent blocks and BTC prices from "
            "(base URL without `/api`; a self-hosted mempool works the same)."
        ),
    )
    network_sync_s: float = Field(
        default=300.0, ge=10, description="Seconds between two runs of the network job."
    )
    external_sync: bool = Field(
        default=True,
        description=(
            "Run the jobs that reach services outside the farm (explorer, price feed, pool "
            "accounts, wallets). `rigwatch demo` and the test suite turn it off."
        ),
    )

    # --- pool accounts (pool sync) ---
    ocean_url: str = Field(
        default="https://api.ocean.xyz/v1",
        max_length=500,
        description="OCEAN API base (with `/v1`); new Ocean accounts use it unless they name one.",
    )
    public_pool_url: str = Field(
        default="https://public-pool.io:40557/api",
        max_length=500,
        description=(
            "public-pool API base (with `/api`); new public-pool accounts use it unless they "
            "name their own (a self-hosted public-pool: `http://host:3334/api`)."
        ),
    )
    ckpool_url: str = Field(
        default="https://solo.ckpool.org",
        max_length=500,
        description="ckpool web root serving `/users/<address>`; default of new ckpool accounts.",
    )
    p2pool_observer_url: str = Field(
        default="https://p2pool.observer",
        max_length=500,
        description=(
            "P2Pool observer web root serving `/api/...`; default of new p2pool-observer "
            "accounts (the mini side chain's: `https://mini.p2pool.observer`)."
        ),
    )
    pool_interval_s: int = Field(
        default=300,
        ge=30,
        le=86400,
        description="Seconds between two syncs of a pool account that does not set its own.",
    )
    pool_timeout_s: float = Field(
        default=15.0,
        gt=0,
        le=120,
        description="Timeout of each request to a pool API; one slow pool never holds the others.",
    )
    pool_gap_pct: float = Field(
        default=20.0,
        gt=0,
        le=1000,
        description=(
            "A pool-side worker hashrate this many percent off the miner's own hashrate is a "
            "gap (the pool credits less than the farm produces, or a worker mines elsewhere)."
        ),
    )
    pool_gap_s: float = Field(
        default=3600.0,
        ge=0,
        description="Seconds a gap must last before it raises one `pool_hashrate_gap` event.",
    )

    # --- notifications (notify job, channels) ---
    public_url: str = Field(
        default="",
        max_length=500,
        description=(
            "The dashboard's address as people reach it (e.g. `https://rigs.example.com`), "
            "for the links in notices; empty: `http://HOST:PORT` of the commander."
        ),
    )
    telegram_url: str = Field(
        default="https://api.telegram.org",
        max_length=500,
        description="Telegram Bot API base; new Telegram channels use it unless they name one.",
    )
    ntfy_url: str = Field(
        default="https://ntfy.sh",
        max_length=500,
        description="ntfy server; new ntfy channels use it unless they name their own.",
    )
    notify_every_s: float = Field(
        default=10.0,
        ge=1,
        le=3600,
        description="Seconds between two runs of the notify job (route alert events, deliver).",
    )
    notify_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=120,
        description="Timeout of each delivery (HTTP request or SMTP conversation) of a notice.",
    )
    notify_max_attempts: int = Field(
        default=8,
        ge=1,
        le=100,
        description="Tries of one notice before it is given up as failed.",
    )
    notify_backoff_s: float = Field(
        default=30.0,
        gt=0,
        description="Wait before the first retry of a notice; doubled after each failure.",
    )
    notify_backoff_max_s: float = Field(
        default=3600.0,
        gt=0,
        description="Longest wait between two tries of a notice.",
    )

    @model_validator(mode="before")
    @classmethod
    def _read_secret_files(cls, values: Any) -> Any:
        if isinstance(values, dict):
            path = values.get("database_url_file")
            if path and not values.get("database_url"):
                values["database_url"] = Path(path).read_text().strip()
        return values

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'rigwatch.db').resolve()}"


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)

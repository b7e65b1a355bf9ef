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

"""What one sentry process is told to do; checked once, at start, so mistakes fail early."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rigwatch.protocols.ingest import MAX_SAMPLES
from rigwatch.sentry.pollers.rigs import parse_rig_arg

PollerChoice = Literal["auto", "pyasic"]

MIN_INTERVAL_S = 1.0
DEFAULT_SPOOL_MAX_BYTES = 2 * 1024**3
DEFAULT_SPOOL_MAX_BATCHES = 1_000_000


@dataclass(frozen=True, slots=True)
class SentryConfig:
    """Settings of `rigwatch sentry run`.

    There is deliberately no default scan range: scanning a network nobody asked for is
    rude at best, so a config that names nothing to watch (no `scan`, `targets_file`,
    `rigs`, `host_metrics` or P2Pool source) is rejected. `rigs` are `SOFTWARE=URL[#TOKEN]`
    strings (`--rig`); with `host_metrics` they are taken to run on this sentry's host.
    """

    commander_url: str
    data_dir: Path
    enroll_token: str | None = None
    scan: Sequence[str] = ()
    targets_file: Path | None = None
    interval_s: float = 30.0
    rediscover_s: float = 600.0
    concurrency: int = 256
    deadline_s: float = 10.0
    batch_max_samples: int = 2000
    poller: PollerChoice = "auto"
    spool_max_bytes: int = DEFAULT_SPOOL_MAX_BYTES
    spool_max_batches: int = DEFAULT_SPOOL_MAX_BATCHES
    rigs: Sequence[str] = ()
    host_metrics: bool = False
    host_key: str | None = None
    p2pool_log: Path | None = None
    p2pool_api: Path | None = None

    def __post_init__(self) -> None:
        if not self.commander_url.startswith(("http://", "https://")):
            raise ValueError(
                f"commander URL must start with http:// or https://, got {self.commander_url!r}"
            )
        local = self.rigs or self.host_metrics or self.p2pool_log or self.p2pool_api
        if not self.scan and self.targets_file is None and not local:
            raise ValueError(
                "nothing to watch: give --scan (CIDR or range), --targets FILE, --rig, "
                "--host-metrics, --p2pool-log or --p2pool-api; the sentry has no default "
                "scan range"
            )
        for rig in self.rigs:
            parse_rig_arg(rig)
        if self.host_key is not None and not 1 <= len(self.host_key) <= 64:
            raise ValueError("host key must be 1 to 64 characters")
        if self.interval_s < MIN_INTERVAL_S:
            raise ValueError(f"interval must be at least {MIN_INTERVAL_S} s, got {self.interval_s}")
        if self.rediscover_s <= 0:
            raise ValueError(f"rediscovery interval must be positive, got {self.rediscover_s}")
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {self.concurrency}")
        if self.deadline_s <= 0:
            raise ValueError(f"per-miner deadline must be positive, got {self.deadline_s}")
        if not 1 <= self.batch_max_samples <= MAX_SAMPLES:
            raise ValueError(
                f"batch_max_samples must be between 1 and {MAX_SAMPLES}, "
                f"got {self.batch_max_samples}"
            )
        if self.poller not in ("auto", "pyasic"):
            raise ValueError(f"poller must be 'auto' or 'pyasic', got {self.poller!r}")
        if self.spool_max_bytes < 1024 * 1024:
            raise ValueError("spool_max_bytes must be at least 1 MiB")
        if self.spool_max_batches < 1:
            raise ValueError("spool_max_batches must be at least 1")

    @property
    def commander_base(self) -> str:
        """The commander URL without a trailing slash, ready for `f"{base}/api/v1/..."`."""
        return self.commander_url.rstrip("/")

"""SentryConfig refuses settings that cannot work, before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from rigwatch.sentry.config import SentryConfig


def test_without_scan_or_targets_the_config_says_there_is_no_default(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no default scan range"):
        SentryConfig(commander_url="http://127.0.0.1:1", data_dir=tmp_path)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"commander_url": "ftp://x"}, "http:// or https://"),
        ({"interval_s": 0.5}, "at least 1.0"),
        ({"concurrency": 0}, "concurrency"),
        ({"deadline_s": 0}, "deadline"),
        ({"batch_max_samples": 0}, "batch_max_samples"),
        ({"batch_max_samples": 5001}, "batch_max_samples"),
        ({"poller": "fast"}, "poller"),
    ],
)
def test_unusable_settings_are_refused(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {
        "commander_url": "http://127.0.0.1:1",
        "data_dir": tmp_path,
        "scan": ["127.0.40.1"],
    }
    args.update(changes)
    with pytest.raises(ValueError, match=message):
        SentryConfig(**args)  # type: ignore[arg-type]


def test_defaults_match_the_documented_values(tmp_path: Path) -> None:
    cfg = SentryConfig(commander_url="http://127.0.0.1:1/", data_dir=tmp_path, scan=["127.0.40.1"])
    assert (cfg.interval_s, cfg.rediscover_s, cfg.concurrency, cfg.deadline_s) == (30, 600, 256, 10)
    assert cfg.batch_max_samples == 2000
    assert cfg.poller == "auto"
    assert cfg.commander_base == "http://127.0.0.1:1"

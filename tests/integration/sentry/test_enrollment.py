"""Enrollment trades the one-time token once and reuses the saved credential after."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from rigwatch.sentry.config import SentryConfig
from rigwatch.sentry.enrollment import (
    CommanderUnavailable,
    EnrollmentError,
    ensure_credential,
    load_credential,
)
from tests.integration.sentry.fake_commander import (
    CREDENTIAL,
    GOOD_TOKEN,
    HOST,
    FakeCommander,
    free_port,
)


@pytest.fixture
async def commander() -> AsyncIterator[FakeCommander]:
    fc = FakeCommander()
    await fc.start()
    yield fc
    await fc.stop()


def cfg(url: str, data_dir: Path, token: str | None) -> SentryConfig:
    return SentryConfig(
        commander_url=url, data_dir=data_dir, enroll_token=token, scan=["127.0.40.1"]
    )


async def test_a_token_is_traded_once_and_the_credential_saved_privately(
    commander: FakeCommander, tmp_path: Path
) -> None:
    async with httpx.AsyncClient() as client:
        cred = await ensure_credential(cfg(commander.url, tmp_path, GOOD_TOKEN), client)
        assert (cred.credential, cred.sentry_id, cred.name) == (CREDENTIAL, 1, "test-sentry")
        path = tmp_path / "sentry.json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert load_credential(path) == cred
        # A restart: the used token would now be refused, but it is not needed.
        again = await ensure_credential(cfg(commander.url, tmp_path, GOOD_TOKEN), client)
        assert again == cred
        assert await ensure_credential(cfg(commander.url, tmp_path, None), client) == cred


async def test_a_refused_token_is_a_clear_error(commander: FakeCommander, tmp_path: Path) -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(EnrollmentError, match="rejected the enrollment token"):
            await ensure_credential(cfg(commander.url, tmp_path, "rwe_wrong"), client)
    assert not (tmp_path / "sentry.json").exists()


async def test_no_token_and_no_saved_credential_is_a_clear_error(tmp_path: Path) -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(EnrollmentError, match="no enrollment token"):
            await ensure_credential(cfg("http://127.0.40.1:9", tmp_path, None), client)


async def test_an_unreachable_commander_is_a_transient_error(tmp_path: Path) -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(CommanderUnavailable):
            url = f"http://{HOST}:{free_port()}"
            await ensure_credential(cfg(url, tmp_path, GOOD_TOKEN), client)


async def test_a_corrupt_credential_file_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "sentry.json").write_text("{not json")
    async with httpx.AsyncClient() as client:
        with pytest.raises(EnrollmentError, match="remove it and enroll again"):
            await ensure_credential(cfg("http://127.0.40.1:9", tmp_path, None), client)

"""Getting and keeping this sentry's credential for the commander.

The one-time enrollment token is traded once for a long-lived credential, which is saved
in `data_dir/sentry.json` (mode 0600) so restarts do not need, or burn, a new token.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from rigwatch.sentry.config import SentryConfig

logger = logging.getLogger(__name__)

CREDENTIAL_FILE = "sentry.json"
ENROLL_PATH = "/api/v1/sentries/enroll"


class EnrollmentError(RuntimeError):
    """Enrollment cannot succeed without an operator: no token, or a rejected one."""


class CommanderUnavailable(RuntimeError):
    """The commander could not be reached or failed (5xx); trying again later may work."""


@dataclass(frozen=True, slots=True)
class Credential:
    commander_url: str
    sentry_id: int
    name: str
    credential: str

    @property
    def auth_header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credential}"}


def credential_path(data_dir: Path) -> Path:
    return data_dir / CREDENTIAL_FILE


def load_credential(path: Path) -> Credential | None:
    """The saved credential, or None when there is none; a corrupt file is an error."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        doc = json.loads(raw)
        return Credential(
            commander_url=str(doc["commander_url"]),
            sentry_id=int(doc["sentry_id"]),
            name=str(doc["name"]),
            credential=str(doc["credential"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise EnrollmentError(
            f"{path} is not a valid sentry credential file ({exc}); remove it and enroll again"
        ) from None


def save_credential(path: Path, cred: Credential) -> None:
    """Write atomically with mode 0600: the file holds a secret."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(asdict(cred), fh, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


async def enroll(commander_url: str, token: str, client: httpx.AsyncClient) -> Credential:
    """Trade a one-time token for a credential at the commander."""
    base = commander_url.rstrip("/")
    try:
        resp = await client.post(f"{base}{ENROLL_PATH}", json={"token": token})
    except httpx.HTTPError as exc:
        raise CommanderUnavailable(f"cannot reach commander at {base}: {exc!r}") from exc
    if resp.status_code in (401, 403):
        raise EnrollmentError(
            "the commander rejected the enrollment token (invalid, expired or already used); "
            "create a new token on the commander"
        )
    if resp.status_code >= 500 or resp.status_code == 429:
        raise CommanderUnavailable(f"commander answered {resp.status_code} to enrollment")
    if resp.status_code != 200:
        raise EnrollmentError(
            f"commander answered {resp.status_code} to enrollment: {resp.text[:200]}"
        )
    try:
        doc = resp.json()
        return Credential(
            commander_url=base,
            sentry_id=int(doc["sentry_id"]),
            name=str(doc["name"]),
            credential=str(doc["credential"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise EnrollmentError(f"commander sent an unusable enrollment reply: {exc!r}") from None


async def ensure_credential(cfg: SentryConfig, client: httpx.AsyncClient) -> Credential:
    """The saved credential for this commander, or a new one from `cfg.enroll_token`.

    Raises EnrollmentError when neither exists (or the token is refused) and
    CommanderUnavailable when the commander cannot be reached to enroll.
    """
    path = credential_path(cfg.data_dir)
    saved = load_credential(path)
    if saved is not None and saved.commander_url == cfg.commander_base:
        return saved
    if saved is not None:
        logger.warning(
            "saved credential in %s is for %s, not %s",
            path,
            saved.commander_url,
            cfg.commander_base,
        )
    if not cfg.enroll_token:
        raise EnrollmentError(
            f"no saved credential for {cfg.commander_base} in {path} and no enrollment token; "
            "run with --token rwe_... (created on the commander) once"
        )
    cred = await enroll(cfg.commander_base, cfg.enroll_token, client)
    save_credential(path, cred)
    logger.info("enrolled with %s as sentry %d (%s)", cred.commander_url, cred.sentry_id, cred.name)
    return cred

"""The admin commands work on the store, also while a commander runs on it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

from tests.helpers import batch, running_commander


def rigwatch(
    data_dir: Path, *args: str, db_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"RIGWATCH_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    if db_url:
        env["RIGWATCH_DATABASE_URL"] = db_url
    return subprocess.run(
        [sys.executable, "-m", "rigwatch.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_sentry_add_enroll_and_revoke_while_the_commander_runs(tmp_path: Path, db_url: str) -> None:
    data = tmp_path / "data"
    with running_commander(data, database_url=db_url) as rc:
        added = rigwatch(data, "sentry", "add", "rack-a", db_url=db_url)
        assert added.returncode == 0, added.stderr
        token = re.search(r"rwe_\S+", added.stdout)
        assert token, added.stdout
        with httpx.Client(base_url=rc.url) as client:
            credential = client.post(
                "/api/v1/sentries/enroll", json={"token": token.group(0)}
            ).json()["credential"]
            auth = {"Authorization": f"Bearer {credential}"}
            assert client.post("/api/v1/ingest", json=batch(1), headers=auth).status_code == 200
            listed = rigwatch(data, "sentry", "list", db_url=db_url)
            assert "rack-a" in listed.stdout
            assert rigwatch(data, "sentry", "revoke", "rack-a", db_url=db_url).returncode == 0
            assert client.post("/api/v1/ingest", json=batch(2), headers=auth).status_code == 401
        assert rigwatch(data, "sentry", "add", "rack-a", db_url=db_url).returncode == 1
        assert rigwatch(data, "sentry", "revoke", "nope", db_url=db_url).returncode == 1


def test_api_keys_carry_their_role(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running_commander(data) as rc:
        out = rigwatch(data, "apikey", "create", "grafana", "--role", "viewer")
        key = re.search(r"rwk_\S+", out.stdout)
        assert key, out.stdout + out.stderr
        with httpx.Client(
            base_url=rc.url, headers={"Authorization": f"Bearer {key.group(0)}"}
        ) as c:
            assert c.get("/api/v1/summary").status_code == 200
            assert c.post("/api/v1/sentries", json={"name": "x"}).status_code == 403
        admin = re.search(
            r"rwk_\S+", rigwatch(data, "apikey", "create", "ops", "--role", "admin").stdout
        )
        assert admin
        with httpx.Client(
            base_url=rc.url, headers={"Authorization": f"Bearer {admin.group(0)}"}
        ) as c:
            assert c.post("/api/v1/sentries", json={"name": "x"}).status_code == 201


def test_users_and_the_first_admin(tmp_path: Path) -> None:
    data = tmp_path / "data"
    pw = tmp_path / "pw"
    pw.write_text("a long enough password\n")
    assert (
        rigwatch(
            data, "user", "add", "bob", "--role", "operator", "--password-file", str(pw)
        ).returncode
        == 0
    )
    assert rigwatch(data, "user", "add", "bob").returncode == 1
    short = tmp_path / "short"
    short.write_text("123\n")
    assert rigwatch(data, "user", "add", "eve", "--password-file", str(short)).returncode == 1
    changed = rigwatch(data, "user", "passwd", "bob")
    assert changed.returncode == 0 and "shown once" in changed.stdout
    assert rigwatch(data, "db", "upgrade").returncode == 0


def test_the_sentry_refuses_to_run_without_targets(tmp_path: Path) -> None:
    out = rigwatch(tmp_path, "sentry", "run", "--commander", "http://127.0.0.1:9")
    assert out.returncode == 1
    assert "no default scan range" in out.stderr


def test_a_bad_scan_range_is_a_clear_error(tmp_path: Path) -> None:
    out = rigwatch(
        tmp_path,
        "sentry",
        "run",
        "--commander",
        "http://127.0.0.1:9",
        "--scan",
        "not-an-address",
        "--data-dir",
        str(tmp_path / "s"),
    )
    assert out.returncode == 1
    assert "error" in out.stderr.lower()


def _serve_once(data: Path, port: int) -> str:
    env = os.environ | {"RIGWATCH_DATA_DIR": str(data), "RIGWATCH_PORT": str(port)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "rigwatch.cli", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "rigwatch commander on" in line:
            break
    proc.terminate()
    proc.communicate(timeout=30)
    return "".join(lines)


def test_the_first_start_creates_an_admin_and_says_its_password_once(tmp_path: Path) -> None:
    from tests.helpers import free_port

    data = tmp_path / "data"
    first = _serve_once(data, free_port())
    found = re.search(r"user (\w+) with password (\S+)", first)
    assert found, first
    user, password = found.groups()
    assert user == "admin"
    assert "password" not in _serve_once(data, free_port())
    with running_commander(data) as rc, httpx.Client(base_url=rc.url) as browser:
        form = browser.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf
        signed_in = browser.post(
            "/login",
            data={"username": user, "password": password, "csrf": csrf.group(1), "next": "/"},
        )
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
        assert browser.get("/api/v1/sentries").status_code == 200
        # Changes through a session need the CSRF token of that session.
        assert browser.post("/api/v1/sentries", json={"name": "x"}).status_code == 403

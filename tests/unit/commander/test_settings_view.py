"""The settings page's view of the commander's settings: every one shown, secrets masked."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, SecretStr

from rigwatch.commander.web.fleet import MASK, UNSET, effective_settings, mask_url
from rigwatch.config import Settings


def test_a_password_in_a_url_is_masked_and_the_rest_kept() -> None:
    assert (
        mask_url("postgresql+psycopg://rig:s3cret@db.lan:5432/rigwatch")
        == "postgresql+psycopg://rig:***@db.lan:5432/rigwatch"
    )
    assert mask_url("https://hooks.example/x?token=abc&room=7") == (
        "https://hooks.example/x?token=%2A%2A%2A&room=7"
    )
    assert mask_url("https://mempool.space") == "https://mempool.space"
    assert mask_url("not a url: s3cret") == "not a url: s3cret"


def test_every_setting_is_listed_with_its_description(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, label="north farm")
    rows = {r.name: r for r in effective_settings(settings)}
    assert set(rows) >= set(Settings.model_fields) - {
        n for n, f in Settings.model_fields.items() if isinstance(f.default, BaseModel)
    }
    assert rows["label"].value == "north farm" and rows["label"].explicit
    assert rows["offline_after_s"].value == "120.0" and not rows["offline_after_s"].explicit
    assert all(r.description for r in rows.values())


def test_secrets_are_masked_by_type_by_name_and_inside_urls(tmp_path: Path) -> None:
    class Mail(BaseModel):
        host: str = "smtp.lan"
        password: SecretStr | None = None
        token_file: Path | None = None

    class WithSecrets(BaseModel):
        database_url: str = "postgresql://rig:hunter2@db/rigwatch"
        api_key: str = ""
        session_secret: str = "abc"
        mail: Mail = Mail(password=SecretStr("pw"), token_file=Path("/run/secrets/t"))

    rows = {r.name: r for r in effective_settings(WithSecrets())}
    assert rows["database_url"].value == "postgresql://rig:***@db/rigwatch"
    assert rows["database_url"].masked
    assert rows["api_key"].value == UNSET
    assert rows["session_secret"].value == MASK
    assert rows["mail.password"].value == MASK
    assert rows["mail.host"].value == "smtp.lan"
    assert rows["mail.token_file"].value == "/run/secrets/t"  # a path, not the secret
    assert "hunter2" not in repr(rows) and "pw'" not in repr(rows)

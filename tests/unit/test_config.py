"""Every setting is documented, in the code and in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from rigwatch.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_has_a_description_and_a_readme_line(name: str) -> None:
    field = Settings.model_fields[name]
    assert field.description and len(field.description) > 10, name
    assert f"RIGWATCH_{name.upper()}" in README.read_text(), f"README does not document {name}"


def test_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RIGWATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RIGWATCH_PORT", "9123")
    s = Settings()
    assert s.port == 9123
    assert s.resolved_database_url() == f"sqlite:///{tmp_path.resolve() / 'rigwatch.db'}"


def test_the_database_url_can_come_from_a_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = tmp_path / "url"
    secret.write_text("postgresql+psycopg://u@127.0.0.1/x\n")
    monkeypatch.setenv("RIGWATCH_DATABASE_URL_FILE", str(secret))
    assert Settings().resolved_database_url() == "postgresql+psycopg://u@127.0.0.1/x"

"""Settings: defaults, environment and file precedence, and errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from obslab.errors import SettingsError
from obslab.settings import load_settings


def test_defaults_use_sqlite_in_the_data_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OBSLAB_DATA_DIR")
    settings = load_settings()
    assert settings.data_dir == platformdirs.user_data_path("obslab")
    assert settings.resolved_database_url == f"sqlite:///{settings.data_dir / 'obslab.sqlite3'}"
    assert settings.dask_scheduler == ""
    assert settings.site.name == "Kitt Peak"


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBSLAB_DATABASE_URL", "postgresql+psycopg://ops@db.example/obslab")
    monkeypatch.setenv("OBSLAB_SITE_LATITUDE_DEG", "-30.2407")
    monkeypatch.setenv("OBSLAB_SITE_TIMEZONE", "America/Santiago")
    monkeypatch.setenv("OBSLAB_DASK_SCHEDULER", "tcp://127.0.0.1:8786")
    settings = load_settings()
    assert settings.resolved_database_url == "postgresql+psycopg://ops@db.example/obslab"
    assert settings.site.latitude_deg == pytest.approx(-30.2407)
    assert settings.site.zone.key == "America/Santiago"
    assert settings.dask_scheduler == "tcp://127.0.0.1:8786"


def test_file_is_read_and_environment_wins_over_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "obslab.toml"
    config.write_text('site_name = "Cerro Pachon"\nsite_height_m = 2715.0\nsmtp_host = "mail.example"\n')
    monkeypatch.setenv("OBSLAB_CONFIG_FILE", str(config))
    monkeypatch.setenv("OBSLAB_SMTP_HOST", "127.0.0.1")
    settings = load_settings()
    assert settings.site.name == "Cerro Pachon"
    assert settings.site.height_m == 2715.0
    assert settings.smtp_host == "127.0.0.1"


def test_out_of_range_value_names_variable_and_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBSLAB_SITE_LATITUDE_DEG", "95")
    with pytest.raises(SettingsError, match=r"OBSLAB_SITE_LATITUDE_DEG='95'.*less than or equal to 90"):
        load_settings()


def test_unknown_time_zone_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBSLAB_SITE_TIMEZONE", "Mars/Olympus_Mons")
    with pytest.raises(SettingsError, match="OBSLAB_SITE_TIMEZONE='Mars/Olympus_Mons'.*unknown IANA time zone"):
        load_settings()


def test_unknown_key_in_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "obslab.toml"
    config.write_text("site_lattitude_deg = 10\n")
    monkeypatch.setenv("OBSLAB_CONFIG_FILE", str(config))
    with pytest.raises(SettingsError, match="site_lattitude_deg"):
        load_settings()


def test_missing_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OBSLAB_CONFIG_FILE", str(tmp_path / "absent.toml"))
    with pytest.raises(SettingsError, match="absent.toml.*no such file"):
        load_settings()


def test_smtp_password_is_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBSLAB_SMTP_PASSWORD", "hunter2-secret")
    settings = load_settings()
    assert settings.smtp_password.get_secret_value() == "hunter2-secret"
    assert "hunter2-secret" not in repr(settings)

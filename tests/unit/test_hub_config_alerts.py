"""deploy/jupyterhub/jupyterhub_config.py as the hub loads it: the alert services it adds, and what they are given."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "jupyterhub" / "jupyterhub_config.py"


def hub_services(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **environment: str) -> dict[str, dict[str, Any]]:
    """Load the file as JupyterHub does (``get_config`` given) and return its services by name."""
    for name, value in {"OBSLAB_HUB_STATE_DIR": str(tmp_path / "state"), "OBSLAB_HUB_PASSWORD": "try-out-1"}.items():
        monkeypatch.setenv(name, value)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    config = Config()
    exec(compile(CONFIG.read_text(), str(CONFIG), "exec"), {"get_config": lambda: config, "__file__": str(CONFIG)})
    return {service["name"]: service for service in config.JupyterHub.services}


def test_without_alert_settings_the_hub_runs_no_alert_service(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    services = hub_services(monkeypatch, tmp_path)

    assert "obslab-alerts" not in services and "obslab-alerts-kafka" not in services


def test_the_kafka_listener_runs_as_the_alerts_user_with_the_kafka_and_site_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    services = hub_services(
        monkeypatch,
        tmp_path,
        OBSLAB_HUB_ALERTS_KAFKA="1",
        OBSLAB_HUB_ALERTS_DIR=str(tmp_path / "inbox"),
        OBSLAB_HUB_ALERTS_USER="alert-bot",
        OBSLAB_DATABASE_URL="postgresql+psycopg://obslab@db/obslab",
        OBSLAB_KAFKA_CLIENT_ID="client-id",
        OBSLAB_KAFKA_CLIENT_SECRET="client-secret",
        OBSLAB_KAFKA_TOPICS="igwn.gwalert",
        OBSLAB_TELESCOPE_FOV_DEG="0.7",
        OBSLAB_SITE_NAME="Palomar",
        OBSLAB_SMTP_PASSWORD="not-for-the-listener",
    )

    listener, watcher = services["obslab-alerts-kafka"], services["obslab-alerts"]
    assert listener["command"][1:] == [
        "alerts",
        "listen",
        "--health-file",
        str(tmp_path / "state" / "alerts-kafka-health.json"),
    ]
    assert listener["environment"] == {
        "OBSLAB_DATABASE_URL": "postgresql+psycopg://obslab@db/obslab",
        "OBSLAB_ACTING_USER": "alert-bot",
        "OBSLAB_KAFKA_CLIENT_ID": "client-id",
        "OBSLAB_KAFKA_CLIENT_SECRET": "client-secret",
        "OBSLAB_KAFKA_TOPICS": "igwn.gwalert",
        "OBSLAB_TELESCOPE_FOV_DEG": "0.7",
        "OBSLAB_SITE_NAME": "Palomar",
    }
    # The folder watcher gets the same site and user, but never the Kafka credentials.
    assert watcher["command"][1:] == ["alerts", "watch", str(tmp_path / "inbox")]
    assert not any(name.startswith("OBSLAB_KAFKA_") for name in watcher["environment"])
    assert watcher["environment"]["OBSLAB_SITE_NAME"] == "Palomar" and "url" not in listener and "url" not in watcher

"""The composition root: one rule for who acts, and a deployment's own policy files reaching every face."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from obslab.catalog.changes.change_rules import ChangeRulesError
from obslab.cli import main
from obslab.context import ObslabContext, identity
from obslab.errors import NotFoundError, PermissionDeniedError, SettingsError
from obslab.settings import Settings, load_settings
from obslab.users import add_user
from tests.helpers.support import fixed_clock


def test_the_hub_user_wins_then_the_acting_user_then_the_login_name() -> None:
    both = Settings(acting_user="mallory")
    assert identity(both, {"JUPYTERHUB_USER": "alice"}) == "alice"  # a kernel's variable cannot override the hub
    assert identity(both, {}) == "mallory"
    assert identity(Settings(), {}) == getpass.getuser()


def test_unknown_and_deactivated_users_may_not_act_but_bootstrap_sees_nobody(
    migrated_url: str, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with sessions() as session, session.begin():
        add_user(session, "ada", ["usint"], now=fixed_clock)
        add_user(session, "gone", ["usint"], now=fixed_clock).is_active = False
    for name, error, message in [
        ("nobody", NotFoundError, "user 'nobody' is not known to obslab"),
        ("gone", PermissionDeniedError, "gone's account is deactivated"),
    ]:
        monkeypatch.setenv("OBSLAB_ACTING_USER", name)
        context = ObslabContext.from_settings(load_settings(database_url=migrated_url))
        with context.sessions() as session:
            with pytest.raises(error, match=message):
                context.actor(session)
            assert (context.bootstrap_actor(session) is None) == (name == "nobody")
        context.close()
    monkeypatch.setenv("OBSLAB_ACTING_USER", "ada")
    context = ObslabContext.from_settings(load_settings(database_url=migrated_url))
    with context.sessions() as session:
        assert context.actor(session).username == "ada"
    context.close()


def test_policy_files_named_in_the_settings_replace_the_packaged_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packaged = resources.files("obslab.catalog.changes").joinpath("change_rules.toml").read_text()
    assert "within_hours = 48" in packaged
    rules = tmp_path / "our_rules.toml"
    rules.write_text(packaged.replace("within_hours = 48", "within_hours = 6"))
    monkeypatch.setenv("OBSLAB_CHANGE_RULES_FILE", str(rules))
    context = ObslabContext.from_settings(load_settings())
    assert context.catalog_policy.rules.undo_within_hours == 6
    monkeypatch.delenv("OBSLAB_CHANGE_RULES_FILE")
    assert ObslabContext.from_settings(load_settings()).catalog_policy.rules.undo_within_hours == 48

    broken = tmp_path / "broken.toml"
    broken.write_text(packaged.replace("within_hours = 48", "within_hours = 'soon'"))
    monkeypatch.setenv("OBSLAB_CHANGE_RULES_FILE", str(broken))
    with pytest.raises(ChangeRulesError, match="broken.toml"):
        _ = ObslabContext.from_settings(load_settings()).catalog_policy

    monkeypatch.setenv("OBSLAB_ALERT_POLICIES_FILE", str(tmp_path / "missing.toml"))
    with pytest.raises(SettingsError, match="OBSLAB_ALERT_POLICIES_FILE=.*no such file"):
        load_settings()


def test_the_command_line_uses_the_deployments_alert_policies(migrated_url: str, tmp_path: Path) -> None:
    from tests.helpers.voevents import swift_bat_grb

    context = ObslabContext.from_settings(Settings(database_url=migrated_url))
    with context.transaction() as session:
        add_user(session, "nina", ["scheduler"], now=fixed_clock)
    context.close()
    # A deployment that follows no Swift alert at all (the packaged policies observe this one).
    policies = tmp_path / "policies.toml"
    policies.write_text('[[policy]]\nname = "no-swift-here"\nstream = "ivo://nasa.gsfc.gcn/SWIFT"\naccept = false\n')
    env = {"OBSLAB_DATABASE_URL": migrated_url, "OBSLAB_ACTING_USER": "nina"}
    decisions = {}
    for trigger, extra in [(1, {}), (2, {"OBSLAB_ALERT_POLICIES_FILE": str(policies)})]:
        packet = tmp_path / f"grb{trigger}.xml"
        packet.write_text(swift_bat_grb(trigger, datetime.now(UTC) - timedelta(minutes=5), 84.5, 10.2))
        result = CliRunner().invoke(main, ["alerts", "ingest", str(packet), "--json"], env=env | extra)
        assert result.exit_code == 0, result.output
        (decisions[trigger],) = json.loads(result.output)
    assert decisions[1]["request"] is not None, decisions[1]
    assert decisions[2]["request"] is None and "no-swift-here" in decisions[2]["decision"], decisions[2]

"""The dashboards' hub service without a hub: what it needs from the hub's environment, and where a login returns."""

from __future__ import annotations

import pytest

from obslab.dashboards.serving.hub_service import (
    HUB_SERVICE_VARIABLES,
    page_after_login,
    require_hub_environment,
    service_address,
)
from obslab.errors import SettingsError

PREFIX = "/services/obslab-dashboards"


def test_outside_a_hub_the_service_refuses_naming_what_is_missing() -> None:
    with pytest.raises(SettingsError) as refused:
        require_hub_environment({"JUPYTERHUB_SERVICE_NAME": "obslab-dashboards"})
    for name in HUB_SERVICE_VARIABLES[1:]:
        assert name in str(refused.value)
    assert "JUPYTERHUB_SERVICE_NAME," not in str(refused.value)


def test_the_service_listens_where_the_hub_said() -> None:
    environ = {name: "x" for name in HUB_SERVICE_VARIABLES} | {
        "JUPYTERHUB_SERVICE_URL": "http://127.0.0.1:55295",
        "JUPYTERHUB_SERVICE_PREFIX": PREFIX + "/",
    }
    assert service_address(require_hub_environment(environ)) == ("127.0.0.1", 55295, PREFIX)


@pytest.mark.parametrize(
    ("wanted", "returns"),
    [
        (f"{PREFIX}/signoff", f"{PREFIX}/signoff"),
        (f"{PREFIX}/runs?night=2026-11-21", f"{PREFIX}/runs?night=2026-11-21"),
        ("", f"{PREFIX}/"),
        ("https://elsewhere.example/", f"{PREFIX}/"),  # an open redirect, refused
        ("//elsewhere.example/", f"{PREFIX}/"),
        (f"{PREFIX}//elsewhere.example/", f"{PREFIX}/"),
        (f"{PREFIX}/\\\\elsewhere.example/", f"{PREFIX}/"),
        ("/hub/admin", f"{PREFIX}/"),  # the hub's own pages are not this service's to return to
        (f"{PREFIX}-evil/x", f"{PREFIX}/"),
    ],
)
def test_a_login_returns_only_to_a_page_of_the_service(wanted: str, returns: str) -> None:
    assert page_after_login(wanted, PREFIX) == returns

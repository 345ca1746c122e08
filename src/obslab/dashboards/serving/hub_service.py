"""The dashboards as a JupyterHub service: one Panel server whose every viewer is the hub user its OAuth login names.

JupyterHub starts the service with its name, API token, OAuth client id and URL prefix in the environment
(``JUPYTERHUB_*``). Every page, the index and the websocket need a hub login: ``HubAuthProvider`` asks the hub who
the token in the service's cookie belongs to (cached for a few minutes by ``HubOAuth``), and a browser without one
is sent through the hub's OAuth and back. A page's viewer is read from the cookie its Bokeh session was opened with,
which the signed session token carries, so nothing a user sets (a variable, a header, a name in a URL) changes
who they are.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any
from urllib.parse import urlparse

import tornado.web
from bokeh.server.auth_provider import AuthProvider
from jupyterhub.services.auth import HubOAuth, HubOAuthCallbackHandler

from obslab.errors import SettingsError

#: What JupyterHub sets in a managed service's environment, and the dashboards need.
HUB_SERVICE_VARIABLES = (
    "JUPYTERHUB_SERVICE_NAME",
    "JUPYTERHUB_API_TOKEN",
    "JUPYTERHUB_API_URL",
    "JUPYTERHUB_CLIENT_ID",
    "JUPYTERHUB_SERVICE_PREFIX",
    "JUPYTERHUB_SERVICE_URL",
)
LOGIN_PATH = "/login"
CALLBACK_PATH = "/oauth_callback"


def require_hub_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The hub's variables for this service, or SettingsError naming the missing ones (not run by a hub)."""
    environ = os.environ if environ is None else environ
    missing = [name for name in HUB_SERVICE_VARIABLES if not environ.get(name)]
    if missing:
        raise SettingsError(
            f"--hub-service runs only as a service JupyterHub starts (with a url): {', '.join(missing)} not set; "
            "see deploy/jupyterhub/README.md"
        )
    return {name: environ[name] for name in HUB_SERVICE_VARIABLES}


@cache
def hub_auth() -> HubOAuth:
    """The service's one HubOAuth, configured from the hub's variables."""
    # Bokeh's websocket needs the cookie too; the server checks each websocket's Origin (allow_websocket_origin).
    return HubOAuth(cache_max_age=300, allow_websocket_cookie_auth=True)


def service_address(environ: Mapping[str, str]) -> tuple[str, int, str]:
    """Host, port and URL prefix the hub gave this service (``JUPYTERHUB_SERVICE_URL`` and ``_PREFIX``)."""
    url = urlparse(environ["JUPYTERHUB_SERVICE_URL"])
    return url.hostname or "127.0.0.1", url.port or 80, environ["JUPYTERHUB_SERVICE_PREFIX"].rstrip("/")


def permitted_name(model: Mapping[str, Any] | None) -> str | None:
    """The hub user's name when the token is a user's and may use this service; None for anything else."""
    auth = hub_auth()
    if not model or model.get("kind", "user") != "user":  # a service's token is nobody's identity here
        return None
    if not auth.check_scopes(auth.access_scopes, model):
        return None
    return str(model["name"])


def user_of_handler(handler: tornado.web.RequestHandler) -> str | None:
    """Who a request comes from: the owner of the hub token in its cookie (or Authorization header)."""
    return permitted_name(hub_auth().get_user(handler))


def user_of_cookies(cookies: Mapping[str, Any], cookie_secret: str) -> str | None:
    """Who opened a Bokeh session: the hub token in the cookie the session was opened with, checked with the hub."""
    auth = hub_auth()
    raw = cookies.get(auth.cookie_name)
    value = getattr(raw, "value", raw)  # Bokeh hands cookies on as Morsels or as plain strings
    if not value:
        return None
    token = tornado.web.decode_signed_value(cookie_secret, auth.cookie_name, value)
    if token is None:
        return None
    return permitted_name(auth.user_for_token(token.decode("ascii", "replace"), use_cache=True))


def page_after_login(wanted: str, prefix: str) -> str:
    """Where a login returns: the page asked for when it is one of ours, else the index (never another site)."""
    ours = wanted.startswith(prefix + "/") and "//" not in wanted and "\\" not in wanted
    return wanted if ours else prefix + "/"


class HubLoginHandler(tornado.web.RequestHandler):
    """``<prefix>/login``: start the hub's OAuth, remembering the page to come back to (only one of ours)."""

    prefix = ""

    def get(self) -> None:
        auth = hub_auth()
        state = auth.set_state_cookie(self, next_url=page_after_login(self.get_argument("next", ""), self.prefix))
        self.redirect(tornado.httputil.url_concat(auth.login_url, {"state": state}))


class HubCallbackHandler(HubOAuthCallbackHandler):
    """``<prefix>/oauth_callback``: JupyterHub's own handler, bound to this service's HubOAuth."""

    @property
    def hub_auth(self) -> HubOAuth:
        return hub_auth()


class HubAuthProvider(AuthProvider):
    """Bokeh's authentication hooks: the hub user, or a redirect through the hub's login."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._login = type("PrefixedHubLoginHandler", (HubLoginHandler,), {"prefix": prefix})
        super().__init__()

    @property
    def get_user(self) -> Callable[[tornado.web.RequestHandler], str | None]:
        return user_of_handler

    @property
    def login_url(self) -> str:
        return LOGIN_PATH

    @property
    def login_handler(self) -> type[tornado.web.RequestHandler]:
        return self._login


def server_secrets() -> dict[str, Any]:
    """Per-process secrets: Bokeh signs its session tokens (so the cookies a session carries cannot be forged), and
    Tornado signs the hub token's cookie. A restart makes new ones; a viewer then passes through the hub's OAuth
    again, which the hub's own login cookie answers without asking."""
    return {
        "cookie_secret": secrets.token_hex(32),
        "secret_key": secrets.token_urlsafe(32),
        "sign_sessions": True,
        "generate_session_ids": True,
    }


class HubIndexHandler(tornado.web.RequestHandler):
    """``<prefix>/``: obslab's index for the signed-in hub user (a browser without a login goes to the hub's)."""

    prefix = ""

    def get_current_user(self) -> str | None:
        return user_of_handler(self)

    def get_login_url(self) -> str:
        return self.prefix + LOGIN_PATH

    @tornado.web.authenticated
    def get(self) -> None:
        from obslab.dashboards.registry import DASHBOARDS
        from obslab.dashboards.serving.index import current_index

        self.set_header("Content-Type", "text/html; charset=utf-8")
        hrefs = [entry.slug for entry in DASHBOARDS]
        self.write(
            current_index(hrefs, home="./", served_by="Panel, as a JupyterHub service", signed_in_as=self.current_user)
        )


class FaviconHandler(tornado.web.RequestHandler):
    """``<prefix>/favicon.ico``: Bokeh answers the icon at ``/favicon.ico`` only, outside any prefix."""

    def get(self) -> None:
        from panel.io.resources import DIST_DIR

        self.set_header("Content-Type", "image/x-icon")
        self.set_header("Cache-Control", "max-age=86400")
        self.write((DIST_DIR / "images" / "favicon.ico").read_bytes())


def hub_routes(prefix: str) -> list[tuple[str, type[tornado.web.RequestHandler]]]:
    """The index (ahead of Panel's own, which needs the internet), the OAuth callback and the icon, below the prefix."""
    index = type("PrefixedHubIndexHandler", (HubIndexHandler,), {"prefix": prefix})
    return [(r"/?", index), (CALLBACK_PATH, HubCallbackHandler), (r"/favicon.ico", FaviconHandler)]

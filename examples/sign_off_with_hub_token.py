"""Sign one area of an obslab change request with your JupyterHub token, as you, from a terminal in your hub server.

    OBSLAB_API_URL=https://hub.example/services/obslab-api python sign_off_with_hub_token.py 30001.001 acis

JupyterHub puts your token in JUPYTERHUB_API_TOKEN inside your server; obslab's API (running as the hub's service
obslab-api) asks the hub whose token it is and acts as that person, whatever else the request or the environment
says. The script reads the change request, signs AREA stating the version of the sign-off it read (so a sign-off
someone changed in between is refused rather than overwritten) and prints the outcome. A refusal prints the API's
message and exits 1. Standard library only: it runs in any Python 3.8 or newer.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


class Refused(Exception):
    """The API (or something in front of it) said no; the message is its own."""


def call(base: str, token: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """One request to the API; the JSON answer, or Refused with the API's message."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base.rstrip("/") + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            text = error.read().decode("utf-8", "replace")
        try:
            answer = json.loads(text)
            message = f"{answer['message']} ({error.code} {answer['code']})"
        except (ValueError, KeyError, TypeError):  # not obslab's answer: a proxy's page, say
            message = f"{error.code} {error.reason}: {text.strip()[:300]}"
        raise Refused(message) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise Refused(f"cannot reach obslab's API at {base}: {reason}") from None


def sign(base: str, token: str, label: str, area: str) -> str:
    """Read the revision, sign ``area`` with the version read; a line saying what happened."""
    quoted = urllib.parse.quote(label, safe="")
    revision = call(base, token, "GET", f"/api/v1/changes/{quoted}")
    signoff = next((s for s in revision["signoffs"] if s["area"] == area), None)
    if signoff is None:
        areas = ", ".join(s["area"] for s in revision["signoffs"])
        raise Refused(f"revision {label} has no sign-off area {area!r}; its areas are {areas}")
    path = f"/api/v1/changes/{quoted}/signoffs/{urllib.parse.quote(area, safe='')}"
    signed = call(base, token, "POST", path, {"seen_version": signoff["version"]})
    done = next(s for s in signed["signoffs"] if s["area"] == area)
    return f"signed the {area} area of {label} as {done['by']} at {done['at']}; the request is now {signed['status']}"


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(f"usage: {os.path.basename(argv[0])} REVISION AREA   (e.g. 30001.001 acis)", file=sys.stderr)
        return 2
    token = os.environ.get("JUPYTERHUB_API_TOKEN", "").strip()
    base = os.environ.get("OBSLAB_API_URL", "").strip()
    if not token or not base:
        print(
            "set OBSLAB_API_URL to obslab's API (e.g. https://hub.example/services/obslab-api) and run this inside "
            "your JupyterHub server, where JUPYTERHUB_API_TOKEN is your token",
            file=sys.stderr,
        )
        return 2
    try:
        print(sign(base, token, argv[1], argv[2]))
    except Refused as refusal:
        print(f"refused: {refusal}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

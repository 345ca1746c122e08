"""The fplane client: fetch the file in force at a date from the obslab API, keep it, and stand in when it is down.

Standard library only, so a pipeline or a script on another machine can use it as ``obslab config get`` does.

The seed's clients, when the server was down, picked the newest ``fplane_YYYYMMDD.txt`` lying around by hand and
so could take another night's focal plane, or a short file where a full one was wanted, or nominal positions where
actual ones were: wrong geometry, silently. Here every file fetched is kept under a name saying what it answers::

    <night YYYYMMDD>-<moment YYYYMMDDThhmmss[.ffffff]Z>-<full|short>-<nominal|actual>.txt

``night`` is the local date the night starts (the site's noon to noon) and ``moment`` the UTC instant the file
was asked for (``latest`` is the moment it was fetched). The stand-in for a request is the kept file with the
same two flags, of the same night, asked for at or before the requested moment, the latest such: focal planes
change in the daytime (a new version starts between nights), so within one night what held earlier still holds.
Nothing from another night is ever used. It stands in when the server cannot be reached (refused, timed out) or
fails itself (5xx); a refusal (4xx) is the server's answer and is passed on.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path

from obslab.configs.datestr import Moment, parse_datestr
from obslab.errors import InvalidInputError, ObslabError

#: The folder under the data directory holding the copies.
FOLDER = "fplane-cache"
#: Where the API listens unless a deployment says otherwise (``obslab api``'s default port).
DEFAULT_URL = "http://127.0.0.1:8867"
_NAME = re.compile(r"^(\d{8})-(\d{8}T\d{6}(?:\.\d{6})?)Z-(full|short)-(nominal|actual)\.txt$", re.ASCII)

# A name the server suggests is used only if it is a plain file name: never a path, never hidden.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}", re.ASCII)


class ServerUnreachableError(ObslabError):
    """The API did not answer (refused, timed out) or failed itself (5xx), and no kept copy could stand in."""

    code = "server_unreachable"


class ServerRefusedError(ObslabError):
    """The API refused the request (4xx), with its message naming what was wrong."""

    code = "server_refused"


@dataclass(frozen=True)
class CachedFplane:
    """One kept file: where it is, the moment it was fetched for, and its night."""

    path: Path
    at: datetime
    night: date


def flags(*, full: bool, actual: bool) -> str:
    """How the two server flags read in a file name: ``full-nominal``, ``short-actual``, ..."""
    return f"{'full' if full else 'short'}-{'actual' if actual else 'nominal'}"


def cache_name(moment: Moment, *, full: bool, actual: bool) -> str:
    """The file name a copy of the answer for ``moment`` with these flags is kept under."""
    at = moment.at.astimezone(UTC)
    stamp = f"{at:%Y%m%dT%H%M%S}" + (f".{at:%f}" if at.microsecond else "")
    return f"{moment.night:%Y%m%d}-{stamp}Z-{flags(full=full, actual=actual)}.txt"


def keep(folder: Path, moment: Moment, body: bytes, *, full: bool, actual: bool) -> Path:
    """Keep ``body`` (the server's bytes, unchanged) as the copy for ``moment``; a later fetch for it replaces it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / cache_name(moment, full=full, actual=actual)
    # Written aside then renamed, so a reader (or a fallback after a crash) never finds half a file.
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".fetching-", suffix=".txt")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(body)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def kept(folder: Path) -> list[CachedFplane]:
    """Every copy in ``folder`` with the flags it was fetched with, oldest moment first; other files are ignored."""
    found = []
    for path in sorted(folder.glob("*.txt")) if folder.is_dir() else []:
        match = _NAME.fullmatch(path.name)
        if match is None:
            continue
        night, stamp = match.group(1), match.group(2)
        at = datetime.strptime(stamp, "%Y%m%dT%H%M%S.%f" if "." in stamp else "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        found.append(CachedFplane(path, at, date(int(night[:4]), int(night[4:6]), int(night[6:]))))
    return sorted(found, key=lambda copy: copy.at)


def stand_in(folder: Path, moment: Moment, *, full: bool, actual: bool) -> CachedFplane | None:
    """The copy that may answer for ``moment`` when the server cannot (see the module's rule), or None."""
    suffix = f"Z-{flags(full=full, actual=actual)}.txt"
    usable = [
        copy
        for copy in kept(folder)
        if copy.path.name.endswith(suffix) and copy.night == moment.night and copy.at <= moment.at
    ]
    return usable[-1] if usable else None


@dataclass(frozen=True)
class Fetched:
    """An fplane file as obtained: its bytes, the name to save it under, and whether a kept copy stood in (and why)."""

    body: bytes
    file_name: str
    moment: Moment
    version: str | None = None
    stand_in: CachedFplane | None = None
    unreachable: str = ""


def api_base(url: str, field: str) -> str:
    """The API's base URL without a trailing slash, or a refusal naming ``field`` (where the URL came from)."""
    allowed = f"an http:// or https:// URL of the obslab API, such as {DEFAULT_URL}"
    parts = urllib.parse.urlsplit(url.strip())
    try:
        parts.port  # noqa: B018 - reading the port checks it: one that is not a number raises ValueError
    except ValueError:
        raise InvalidInputError(field, url, allowed) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise InvalidInputError(field, url, allowed)
    return url.strip().rstrip("/")


def get_fplane(
    base: str, datestr: str, *, full: bool, actual: bool, folder: Path, now: datetime, zone: tzinfo, timeout: float
) -> Fetched:
    """The fplane file in force at ``datestr`` from the API at ``base``, kept in ``folder``; a kept copy if it is down.

    Parameters
    ----------
    datestr
        As the API takes it (see :func:`obslab.configs.datestr.parse_datestr`); read here too, with ``now`` and
        the site's ``zone``, to name the copy and to find a stand-in.
    full, actual
        The API's ``full_fplane`` and ``actual_pos`` flags; a stand-in must have been fetched with the same ones.

    Raises
    ------
    ServerRefusedError
        The API answered 4xx (its message says why); no copy stands in for a refusal.
    ServerUnreachableError
        The API could not be reached and no kept copy may stand in; the message names the URL and the fix.
    """
    moment = parse_datestr(datestr, now=now, zone=zone)
    query = urllib.parse.urlencode({"actual_pos": int(actual), "full_fplane": int(full)})
    address = f"{base}/fplane/{urllib.parse.quote(datestr.strip(), safe='')}?{query}"
    try:
        body, suggested, version = fetch(address, timeout)
    except ServerUnreachableError as down:
        copy = stand_in(folder, moment, full=full, actual=actual)
        if copy is None:
            raise ServerUnreachableError(
                f"{down}, and no fplane of the night of {moment.night} ({flags(full=full, actual=actual)}) fetched "
                f"for {moment.at:%Y-%m-%d %H:%M:%S} UTC or earlier is kept in {folder}: start the API ('obslab api' "
                "on its machine) or name the deployment's server with --url or OBSLAB_API_URL",
                url=address,
            ) from None
        return Fetched(copy.path.read_bytes(), moment.file_name, moment, stand_in=copy, unreachable=str(down))
    keep(folder, moment, body, full=full, actual=actual)
    return Fetched(body, suggested or f"fplane{datestr.strip() or f'{moment.night:%Y%m%d}'}.txt", moment, version)


def fetch(address: str, timeout: float) -> tuple[bytes, str | None, str | None]:
    """The body (the bytes as sent), the file name the server suggests (if plain) and the configuration version."""
    request = urllib.request.Request(address, headers={"Accept": "text/plain"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            name = response.headers.get_filename()
            plain = name if name and _PLAIN_NAME.fullmatch(name) else None
            return response.read(), plain, response.headers.get("X-Config-Version")
    except urllib.error.HTTPError as answer:
        with answer:
            said = f"the obslab API at {address} answered {answer.code} {answer.reason}: {_message(answer.read())}"
        # A 5xx says nothing about the date asked, so a kept copy is as good an answer as when the server is down.
        if answer.code >= 500:
            raise ServerUnreachableError(said, url=address, status=answer.code) from None
        raise ServerRefusedError(said, url=address, status=answer.code) from None
    except (OSError, http.client.HTTPException) as error:
        reason = error.reason if isinstance(error, urllib.error.URLError) else error
        text = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
        raise ServerUnreachableError(f"cannot reach the obslab API at {address} ({text})", url=address) from None


def _message(body: bytes) -> str:
    """The API's ``{message}``, else the start of whatever it sent."""
    try:
        return str(json.loads(body)["message"])
    except (ValueError, KeyError, TypeError):
        return " ".join(body.decode("utf-8", "replace").split())[:200] or "(no message)"

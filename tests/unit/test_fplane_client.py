"""The fplane client: kept copies and which may stand in, and what a timeout, a 5xx, a 4xx and a bad name do."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from obslab.configs.datestr import Moment, parse_datestr
from obslab.configs.fplane_client import (
    Fetched,
    ServerRefusedError,
    ServerUnreachableError,
    api_base,
    cache_name,
    get_fplane,
    keep,
    kept,
    stand_in,
)
from obslab.errors import InvalidInputError

ZONE = ZoneInfo("America/Phoenix")
NOW = datetime(2026, 11, 21, 18, 30, tzinfo=UTC)
NIGHT = date(2026, 11, 20)
MIDNIGHT = datetime(2026, 11, 21, 7, tzinfo=UTC)  # local midnight of the night starting 2026-11-20


def moment(text: str) -> Moment:
    return parse_datestr(text, now=NOW, zone=ZONE)


def test_names_say_night_moment_and_flags_and_read_back(tmp_path: Path) -> None:
    exact = Moment(MIDNIGHT + timedelta(hours=2, microseconds=500), NIGHT)
    assert cache_name(moment("20261120"), full=True, actual=False) == "20261120-20261121T070000Z-full-nominal.txt"
    assert cache_name(exact, full=False, actual=True) == "20261120-20261121T090000.000500Z-short-actual.txt"
    keep(tmp_path, exact, b"x", full=False, actual=True)
    (tmp_path / "notes.txt").write_text("not a copy")
    (copy,) = kept(tmp_path)
    assert (copy.at, copy.night, copy.path.read_bytes()) == (exact.at, NIGHT, b"x")


def test_a_later_fetch_for_the_same_moment_replaces_the_copy_whole(tmp_path: Path) -> None:
    keep(tmp_path, moment("20261120"), b"first", full=True, actual=False)
    path = keep(tmp_path, moment("20261120"), b"second", full=True, actual=False)
    assert [p.name for p in tmp_path.iterdir()] == [path.name] and path.read_bytes() == b"second"


def test_the_stand_in_is_the_latest_copy_of_the_night_with_the_flags_at_or_before_the_moment(tmp_path: Path) -> None:
    evening = Moment(datetime(2026, 11, 21, 3, tzinfo=UTC), NIGHT)  # 20:00 local
    for asked, full, actual in [
        (evening, True, False),
        (moment("20261120"), True, False),
        (moment("20261120"), False, False),  # short
        (moment("20261120"), True, True),  # actual positions
        (moment("2026-11-21T12:00:00"), True, False),  # 05:00 local, later the same night
        (moment("20261119"), True, False),  # the night before
    ]:
        keep(tmp_path, asked, f"{asked.at}-{full}-{actual}".encode(), full=full, actual=actual)

    def found(asked: Moment, full: bool = True, actual: bool = False) -> datetime | None:
        copy = stand_in(tmp_path, asked, full=full, actual=actual)
        return copy.at if copy is not None else None

    assert found(moment("2026-11-21T09:00:00")) == MIDNIGHT  # after midnight, before the 05:00 copy
    assert found(moment("2026-11-21T13:00:00")) == datetime(2026, 11, 21, 12, tzinfo=UTC)
    assert found(moment("2026-11-21T05:00:00")) == evening.at  # 22:00 local: the evening's copy, not midnight's
    assert found(moment("2026-11-21T02:00:00")) is None  # 19:00 local: before every copy of the night
    assert found(moment("20261120"), full=False) == MIDNIGHT
    assert found(moment("20261120"), actual=True) == MIDNIGHT
    assert found(moment("20261120"), full=False, actual=True) is None  # never a copy with other flags
    assert found(moment("20261121")) is None  # never another night's, however close
    assert found(moment("20261119")) == moment("20261119").at
    assert stand_in(tmp_path / "none", moment("20261120"), full=True, actual=False) is None


@contextmanager
def answering(status: int, body: bytes, headers: dict[str, str] | None = None) -> Iterator[str]:
    """A loopback HTTP server giving every GET the same answer."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def fetch(base: str, folder: Path, datestr: str = "20261120", timeout: float = 5.0) -> Fetched:
    return get_fplane(base, datestr, full=True, actual=False, folder=folder, now=NOW, zone=ZONE, timeout=timeout)


def test_a_server_failing_itself_is_as_good_as_down_and_a_refusal_is_passed_on(tmp_path: Path) -> None:
    failing = json.dumps({"message": "the database is not reachable", "code": "unavailable"}).encode()
    with answering(503, failing) as base:
        with pytest.raises(ServerUnreachableError, match="answered 503 Service Unavailable: the database is not"):
            fetch(base, tmp_path)
        keep(tmp_path, moment("20261120"), b"kept", full=True, actual=False)
        got = fetch(base, tmp_path)
    assert got.body == b"kept" and got.stand_in is not None and "503" in got.unreachable
    assert got.file_name == "fplane20261120.txt"
    with answering(400, json.dumps({"message": "datestr: 'x' is not allowed"}).encode()) as base:
        with pytest.raises(ServerRefusedError, match="answered 400 Bad Request: datestr: 'x' is not allowed"):
            fetch(base, tmp_path)  # a copy is kept, but a refusal is the server's answer


def test_a_server_that_never_answers_times_out_into_the_kept_copy(tmp_path: Path) -> None:
    with socket.socket() as silent:  # listens, so the connection is made, but never accepts nor answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        base = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with pytest.raises(ServerUnreachableError, match=r"cannot reach the obslab API at .* \(timed out\), and no"):
            fetch(base, tmp_path, timeout=0.3)
        keep(tmp_path, moment("20261120"), b"kept", full=True, actual=False)
        assert fetch(base, tmp_path, timeout=0.3).body == b"kept"


def test_only_a_plain_file_name_from_the_server_is_taken(tmp_path: Path) -> None:
    for suggested, name in [("fplane20261120.txt", "fplane20261120.txt"), ("../../etc/evil.txt", "fplane20261120.txt")]:
        disposition = {"Content-Disposition": f'attachment; filename="{suggested}"'}
        with answering(200, b"# IFUSLOT\n", disposition) as base:
            got = fetch(base, tmp_path)
        assert (got.file_name, got.body, got.stand_in) == (name, b"# IFUSLOT\n", None)
    with answering(200, b"x") as base:
        assert fetch(base, tmp_path, datestr="2026-11-21T09:00:00").file_name == "fplane2026-11-21T09:00:00.txt"


@pytest.mark.parametrize("url", ["ftp://host", "127.0.0.1:8867", "http://", "http://host:port", "http://h/?q=1"])
def test_a_url_it_cannot_use_is_refused_by_name(url: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(f"--url: {url!r} is not allowed; expected an http://")):
        api_base(url, "--url")
    assert api_base(" http://obslab.example:8867/ ", "--url") == "http://obslab.example:8867"

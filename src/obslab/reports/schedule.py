"""The morning's nightly report as a crontab line and as a systemd service and timer (text people install)."""

from __future__ import annotations

import re
import shlex

from obslab.errors import InvalidInputError

CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


def _clock(at: str) -> tuple[int, int]:
    match = CLOCK.fullmatch(at)
    if match is None or int(match.group(1)) < 12:
        raise InvalidInputError("at", at, "a local time HH:MM from 12:00 on (a night is over at local noon)")
    return int(match.group(1)), int(match.group(2))


def cron_line(command: str, at: str, timezone: str, user: str) -> str:
    """A crontab entry (cronie reads CRON_TZ; on a cron without it, set the server's clock to the site's zone)."""
    hour, minute = _clock(at)
    return (
        f"# obslab nightly report, every day at {at} {timezone}, after the night ends at local noon\n"
        f"CRON_TZ={timezone}\n"
        f"{minute} {hour} * * * OBSLAB_ACTING_USER={shlex.quote(user)} {command}  # with the deployment's OBSLAB_*"
    )


def systemd_units(command: str, at: str, timezone: str, user: str) -> str:
    """A service and its timer for ``~/.config/systemd/user/``, enabled with
    ``systemctl --user enable --now obslab-nightly.timer``."""
    _clock(at)
    return (
        "# ~/.config/systemd/user/obslab-nightly.service\n"
        "[Unit]\n"
        "Description=obslab nightly report of the night that ended at local noon\n\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"Environment=OBSLAB_ACTING_USER={user}\n"
        "# and the deployment's settings, e.g. Environment=OBSLAB_CONFIG_FILE=/etc/obslab/obslab.toml\n"
        f"ExecStart={command}\n\n"
        "# ~/.config/systemd/user/obslab-nightly.timer\n"
        "[Unit]\n"
        "Description=obslab nightly report, every day\n\n"
        "[Timer]\n"
        f"OnCalendar=*-*-* {at}:00 {timezone}\n"
        "Persistent=true\n\n"
        "[Install]\n"
        "WantedBy=timers.target"
    )


__all__ = ["cron_line", "systemd_units"]

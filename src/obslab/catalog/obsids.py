"""Parse people's obsid lists: single numbers and ranges separated by commas, semicolons or spaces."""

from __future__ import annotations

import re

from obslab.errors import InvalidInputError

#: Largest obsid accepted (Chandra's are five digits; leave room for other observatories).
MAX_OBSID = 99_999_999
#: A range wider than this is almost certainly a typo (and would build a huge IN list).
MAX_RANGE = 100_000

_SEPARATORS = re.compile(r"[\s,;]+")
# ASCII digits only: str.isdigit() also accepts "²", which int() cannot read.
_NUMBER = re.compile(r"[0-9]+")
_RANGE = re.compile(r"([0-9]+)-([0-9]+)")
_ALLOWED = "obsids (whole numbers) or ranges like 10001-10050, separated by commas, semicolons or spaces"


def parse_obsid_list(text: str, *, field: str = "obsid") -> list[int]:
    """Return the obsids named in ``text``, in order of first mention, without repeats.

    Parameters
    ----------
    text
        For example ``"10001-10003, 10077; 10090 10091"``.
    field
        The field name used in error messages.

    Raises
    ------
    InvalidInputError
        For a token that is neither an obsid nor a range, a backwards range or one wider than MAX_RANGE.
    """
    # Let "10001 - 10003" mean a range, not three tokens.
    compact = re.sub(r"\s*-\s*", "-", text.strip())
    seen: dict[int, None] = {}
    for token in filter(None, _SEPARATORS.split(compact)):
        for obsid in _expand(token, field):
            seen.setdefault(obsid, None)
    return list(seen)


def _expand(token: str, field: str) -> range | tuple[int]:
    if _NUMBER.fullmatch(token):
        return (_checked(token, token, field),)
    match = _RANGE.fullmatch(token)
    if not match:
        raise InvalidInputError(field, token, _ALLOWED)
    first, last = (_checked(part, token, field) for part in match.groups())
    if last < first:
        raise InvalidInputError(field, token, "a range whose end is not below its start")
    if last - first >= MAX_RANGE:
        raise InvalidInputError(field, token, f"a range of at most {MAX_RANGE:,} obsids")
    return range(first, last + 1)


def _checked(digits: str, token: str, field: str) -> int:
    # Compare lengths first: int() of thousands of digits is slow and, past 4,300, refused.
    significant = digits.lstrip("0") or "0"
    if len(significant) > len(str(MAX_OBSID)) or not 1 <= int(significant) <= MAX_OBSID:
        raise InvalidInputError(field, token, f"obsids from 1 to {MAX_OBSID}")
    return int(significant)

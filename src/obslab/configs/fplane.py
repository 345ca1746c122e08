"""The HETDEX fplane text format: which IFU sits in which seat of the focal plane, parsed, checked and rendered.

The format
----------
One line per IFU, eight columns (tab-separated, shown here with spaces), after a header comment::

    # IFUSLOT X_FP Y_FP SPECID SPECSLOT IFUID IFUROT PLATESC
    000  0.000  0.000  900  900  900  0.000  1.000
    013  -400.031  -200.000  008  001  021  0.000  1.000
    #014  -400.000  -100.000  900  900  900  0.000  1.000

Reading, columns may be separated by any run of spaces or tabs. Writing, every column is rendered exactly so:

=========  ==========================================  =====================================
column     value                                       rendered
=========  ==========================================  =====================================
IFUSLOT    3 ASCII digits: column 01-10, then row 1-9   as given (``013``, ``106``)
X_FP       focal-plane x, arcsec                        ``%.3f`` (``-400.031``, ``0.000``)
Y_FP       focal-plane y, arcsec                        ``%.3f``
SPECID     spectrograph id, an integer >= 0             ``%03d`` (``008``, ``302``, ``900``)
SPECSLOT   spectrograph's slot, an integer >= 0         ``%03d`` (``001``)
IFUID      fibre-bundle id, 3 characters                as given (``021``, ``N01``)
IFUROT     rotation in the seat, degrees                ``%.3f``
PLATESC    relative plate scale (1 nominal)             ``%.3f``
=========  ==========================================  =====================================

Columns are joined by one tab; every line, the last included, ends with one ``\\n`` (a file read without the
final newline is written with it). A line whose first non-blank character is ``#`` (the header, ``##`` headers,
svn ``$Id$`` lines, seats commented out) and a blank line are kept verbatim and in place, so parsing then
rendering a file written this way gives back the same bytes. Floats are held to the 3 decimals the file carries.

Rows whose SPECID or IFUID is 900 or more are not VIRUS IFUs: the ``000`` placeholder at 0,0 and the LRS2, HRS
and HPF feeds. Consumers drop them (:func:`is_placeholder`). IFUSLOT is unique among all rows (it is the
configuration's item key); IFUID and SPECID among the VIRUS rows. A VIRUS row must sit in a seat of the IFU head
mounting plate. A full file lists every seat, the unused ones commented out, plus the non-VIRUS rows; a short file
lists the VIRUS rows only. Nominal positions are the seat's place on the 100 arcsec grid (:func:`nominal_position`);
actual positions are the measured ``x_fp``/``y_fp`` of the configuration items.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from obslab.configs.types import Items
from obslab.errors import InvalidInputError

HEADER = "# IFUSLOT X_FP Y_FP SPECID SPECSLOT IFUID IFUROT PLATESC"
COLUMNS = ("IFUSLOT", "X_FP", "Y_FP", "SPECID", "SPECSLOT", "IFUID", "IFUROT", "PLATESC")
#: Configuration item attributes, in column order after IFUSLOT (the item key).
ATTRIBUTES = ("x_fp", "y_fp", "specid", "specslot", "ifuid", "ifurot", "platesc")
#: SPECID or IFUID from this value up marks a non-VIRUS row.
#: The instrument whose configuration the fplane format describes (HETDEX's VIRUS IFUs).
FPLANE_INSTRUMENT = "VIRUS"
PLACEHOLDER = 900
#: Every seat of the IFU head mounting plate, in file order: two-digit column 01-10, then one-digit row 1-9.
SEATS = tuple(f"{column:02d}{row}" for column in range(1, 11) for row in range(1, 10))
#: Spacing of the nominal grid, arcsec, and the seat at its origin.
GRID_ARCSEC = 100.0
CENTRE = (5, 5)

_FLOATS = ("x_fp", "y_fp", "ifurot", "platesc")
_INTS = ("specid", "specslot")
# ASCII only: \d and str.isdigit() accept other scripts' digits, and float() accepts "nan", "1_0" and "infinity".
_SLOT = re.compile(r"[0-9]{3}")
_INT = re.compile(r"[0-9]+")
_FLOAT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_SEAT_ALLOWED = "a seat of the IFU head mounting plate (column 01-10 then row 1-9), or SPECID/IFUID 900 for others"


class FplaneFormatError(InvalidInputError):
    """A line of an fplane file was refused; ``lines`` and ``column`` say where."""

    code = "invalid_fplane"

    def __init__(self, lines: int | Sequence[int], column: str, value: Any, allowed: str) -> None:
        numbers = (lines,) if isinstance(lines, int) else tuple(lines)
        where = f"line {numbers[0]}" if len(numbers) == 1 else "lines " + ", ".join(map(str, numbers))
        super().__init__(f"{where}, {column}", value, allowed)
        self.details.update(lines=list(numbers), column=column)


@dataclass(frozen=True)
class FplaneRow:
    """One IFU line of an fplane file; floats are held to the 3 decimals the file carries."""

    ifuslot: str
    x_fp: float
    y_fp: float
    specid: int
    specslot: int
    ifuid: str
    ifurot: float
    platesc: float

    def __post_init__(self) -> None:
        # round() and "%.3f" round the same exact binary value, so a rendered row parses back equal.
        for name in _FLOATS:
            object.__setattr__(self, name, round(float(getattr(self, name)), 3))

    def render(self) -> str:
        """The row as one tab-separated line, without the newline."""
        return (
            f"{self.ifuslot}\t{self.x_fp:.3f}\t{self.y_fp:.3f}\t{self.specid:03d}\t{self.specslot:03d}\t"
            f"{self.ifuid}\t{self.ifurot:.3f}\t{self.platesc:.3f}"
        )

    def as_item(self) -> dict[str, Any]:
        """The row's configuration item attributes (the item key is ``ifuslot``)."""
        return {name: getattr(self, name) for name in ATTRIBUTES}


@dataclass(frozen=True)
class Fplane:
    """An fplane file: its lines in order, each a row or a comment/blank line kept verbatim."""

    lines: tuple[FplaneRow | str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "lines", tuple(self.lines))

    @property
    def rows(self) -> tuple[FplaneRow, ...]:
        """The active rows (not commented out) in file order, non-VIRUS placeholders included."""
        return tuple(line for line in self.lines if isinstance(line, FplaneRow))

    @property
    def virus_rows(self) -> tuple[FplaneRow, ...]:
        """The active VIRUS IFUs: the rows consumers keep."""
        return tuple(row for row in self.rows if not is_placeholder(row))


def is_placeholder(row: FplaneRow | Mapping[str, Any]) -> bool:
    """Whether a row (or an item's attributes) is a placeholder or non-VIRUS entry: SPECID or IFUID of 900 or more."""
    specid, ifuid = (row.get("specid"), row.get("ifuid")) if isinstance(row, Mapping) else (row.specid, row.ifuid)
    if isinstance(specid, int) and specid >= PLACEHOLDER:
        return True
    return isinstance(ifuid, str) and bool(_INT.fullmatch(ifuid)) and int(ifuid) >= PLACEHOLDER


def is_seat(ifuslot: str) -> bool:
    """Whether ``ifuslot`` names a seat of the IFU head mounting plate."""
    return ifuslot in SEATS


def nominal_position(ifuslot: str) -> tuple[float, float]:
    """The seat's nominal focal-plane position (x, y) in arcsec: 100 arcsec per column and row from seat 055."""
    if not is_seat(ifuslot):
        raise InvalidInputError("IFUSLOT", ifuslot, _SEAT_ALLOWED)
    column, row = int(ifuslot[:2]), int(ifuslot[2])
    return (column - CENTRE[0]) * GRID_ARCSEC, (row - CENTRE[1]) * GRID_ARCSEC


def find_duplicates(rows: Sequence[FplaneRow]) -> list[tuple[str, Any, tuple[int, ...]]]:
    """(column, value, indexes of the rows holding it) for every IFUSLOT, and every VIRUS IFUID or SPECID, held twice.

    IFUSLOT counts over all rows, since it keys the configuration; IFUID and SPECID over the VIRUS rows only,
    since every placeholder carries 900.
    """
    found: list[tuple[str, Any, tuple[int, ...]]] = []
    for column, value_of, virus_only in (
        ("IFUSLOT", lambda row: row.ifuslot, False),
        ("IFUID", lambda row: row.ifuid, True),
        ("SPECID", lambda row: row.specid, True),
    ):
        holders: dict[Any, list[int]] = {}
        for index, row in enumerate(rows):
            if not (virus_only and is_placeholder(row)):
                holders.setdefault(value_of(row), []).append(index)
        found += [(column, value, tuple(indexes)) for value, indexes in holders.items() if len(indexes) > 1]
    return found


def parse_fplane(text: str) -> Fplane:
    """Read an fplane file; comment and blank lines are kept in place.

    Raises
    ------
    FplaneFormatError
        Naming the line, the column and the value: a wrong number of columns, a value of the wrong kind, a VIRUS
        row outside the seats, or an IFUSLOT, IFUID or SPECID on two rows (naming both lines).
    """
    texts = text.split("\n")
    if texts[-1] == "":
        texts.pop()  # the newline ending the last line, not an empty line after it
    lines: list[FplaneRow | str] = []
    numbers: list[int] = []
    for number, line in enumerate(texts, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            lines.append(line)
        else:
            lines.append(_parse_row(line.split(), number))
            numbers.append(number)
    rows = [line for line in lines if isinstance(line, FplaneRow)]
    for column, value, indexes in find_duplicates(rows):
        raise FplaneFormatError([numbers[i] for i in indexes], column, value, f"each {column} on one row only")
    return Fplane(tuple(lines))


def _parse_row(fields: list[str], number: int) -> FplaneRow:
    if len(fields) != len(COLUMNS):
        raise FplaneFormatError(number, "columns", len(fields), f"{len(COLUMNS)} columns: {' '.join(COLUMNS)}")
    values = dict(zip(COLUMNS, fields, strict=True))
    if not _SLOT.fullmatch(values["IFUSLOT"]):
        raise FplaneFormatError(number, "IFUSLOT", values["IFUSLOT"], "3 digits, such as 013")
    if len(values["IFUID"]) != 3:
        raise FplaneFormatError(number, "IFUID", values["IFUID"], "3 characters, such as 021")
    for column in ("SPECID", "SPECSLOT"):
        if not _INT.fullmatch(values[column]):
            raise FplaneFormatError(number, column, values[column], "a whole number of 0 or more, such as 008")
    for column in ("X_FP", "Y_FP", "IFUROT", "PLATESC"):
        if not _FLOAT.fullmatch(values[column]) or not math.isfinite(float(values[column])):
            raise FplaneFormatError(number, column, values[column], "a finite decimal number, such as -400.031")
    row = FplaneRow(
        values["IFUSLOT"],
        float(values["X_FP"]),
        float(values["Y_FP"]),
        int(values["SPECID"]),
        int(values["SPECSLOT"]),
        values["IFUID"],
        float(values["IFUROT"]),
        float(values["PLATESC"]),
    )
    if not is_placeholder(row) and not is_seat(row.ifuslot):
        raise FplaneFormatError(number, "IFUSLOT", row.ifuslot, _SEAT_ALLOWED)
    return row


def render_fplane(fplane: Fplane) -> str:
    """The file's text: rows rendered as the module docstring says, other lines verbatim, each ending in a newline."""
    return "".join((line.render() if isinstance(line, FplaneRow) else line) + "\n" for line in fplane.lines)


def row_from_item(key: str, attributes: Any, *, where: str = "") -> FplaneRow:
    """Check one configuration item (seat ``key`` and its attributes) and return its row; extra attributes are ignored.

    Errors name ``<where><key>.<attribute>``, the value and what is allowed (``where`` is, say, ``"ifus."``).
    """
    if not isinstance(key, str) or not _SLOT.fullmatch(key):
        raise InvalidInputError(f"{where}{key}", key, "an IFU seat of 3 digits, such as 013")
    if not isinstance(attributes, Mapping):
        raise InvalidInputError(f"{where}{key}", attributes, f"an object with {', '.join(ATTRIBUTES)}")
    values: dict[str, Any] = {}
    for name in ATTRIBUTES:
        value, field = attributes.get(name), f"{where}{key}.{name}"
        if name in _INTS:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidInputError(field, value, "a whole number of 0 or more")
        elif name == "ifuid":
            if not isinstance(value, str) or len(value) != 3 or any(char.isspace() for char in value):
                raise InvalidInputError(field, value, "a string of 3 characters without spaces, such as '021'")
        elif not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            raise InvalidInputError(field, value, "a finite number")
        values[name] = value
    row = FplaneRow(key, **values)
    if not is_placeholder(row) and not is_seat(key):
        raise InvalidInputError(f"{where}{key}", key, _SEAT_ALLOWED)
    return row


def rows_from_items(items: Items, *, where: str = "") -> list[FplaneRow]:
    """Every item's row in seat order; an IFUID or SPECID in two seats is refused naming both."""
    rows = [row_from_item(key, items[key], where=where) for key in sorted(items)]
    for column, value, indexes in find_duplicates(rows):
        places = " and ".join(f"{where}{rows[i].ifuslot}.{column.lower()}" for i in indexes)
        raise InvalidInputError(places, value, f"each {column} in one seat only")
    return rows


def fplane_from_items(items: Items, *, full: bool = True, actual: bool = False) -> Fplane:
    """The fplane file of one configuration's items (item key = IFU seat).

    Parameters
    ----------
    full
        True: every seat in order, unused ones commented out (at their nominal position, with 900 values), and the
        non-VIRUS entries; False: the VIRUS IFUs only.
    actual
        True: the measured ``x_fp``/``y_fp`` of the items; False: each VIRUS seat's nominal position. Non-VIRUS
        entries always keep their own position (they are fixed feeds, not seats on the grid).
    """
    rows = {row.ifuslot: row for row in rows_from_items(items)}
    slots = sorted(set(SEATS) | set(rows)) if full else sorted(rows)
    lines: list[FplaneRow | str] = [HEADER]
    for slot in slots:
        row = rows.get(slot)
        if row is None:
            lines.append("#" + _unused_seat(slot).render())
        elif not is_placeholder(row):
            lines.append(row if actual else _at_nominal(row))
        elif full:
            lines.append(row)
    return Fplane(tuple(lines))


def _unused_seat(slot: str) -> FplaneRow:
    x, y = nominal_position(slot)
    return FplaneRow(slot, x, y, PLACEHOLDER, PLACEHOLDER, str(PLACEHOLDER), 0.0, 1.0)


def _at_nominal(row: FplaneRow) -> FplaneRow:
    x, y = nominal_position(row.ifuslot)
    return FplaneRow(row.ifuslot, x, y, row.specid, row.specslot, row.ifuid, row.ifurot, row.platesc)


def items_from_fplane(fplane: Fplane) -> dict[str, dict[str, Any]]:
    """The configuration items of a file's active rows, non-VIRUS entries included, keyed by IFUSLOT."""
    items: dict[str, dict[str, Any]] = {}
    for row in fplane.rows:
        if row.ifuslot in items:
            raise InvalidInputError("IFUSLOT", row.ifuslot, "each IFUSLOT on one row only")
        items[row.ifuslot] = row.as_item()
    return items

"""A report template's parameters: read from its cell tagged ``parameters``, and the values people give checked.

Each parameter is one annotated assignment with its help as a trailing comment, the form papermill also reads::

    night: str = ""  # the night, YYYYMMDD (the local date it began)
    seeing_limit: float = 1.5  # arcsec: seeing above this is drawn as poor

Types are ``str``, ``int``, ``float`` and ``bool``. A parameter named ``night`` must be a night as YYYYMMDD. Pure.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from obslab.errors import InvalidInputError, ObslabError

TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool}
TRUE, FALSE = {"true", "yes", "1", "on"}, {"false", "no", "0", "off"}
NIGHT = re.compile(r"\d{8}")


class TemplateError(ObslabError):
    """A template that cannot be used: named with the line and the problem (the deployment's to fix, not input)."""

    code = "invalid_template"


@dataclass(frozen=True)
class Parameter:
    name: str
    type_name: str
    default: Any
    help: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type_name, "default": self.default, "help": self.help}


def parameters_cell(notebook: dict[str, Any]) -> tuple[int, str]:
    """The position and source of the one code cell tagged ``parameters`` (a template without one is refused)."""
    tagged = [
        (i, cell)
        for i, cell in enumerate(notebook.get("cells", []))
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get("tags", [])
    ]
    if len(tagged) != 1:
        raise TemplateError(f"expected one code cell tagged 'parameters', found {len(tagged)}")
    position, cell = tagged[0]
    source = cell.get("source", "")
    return position, "".join(source) if isinstance(source, list) else str(source)


def read_parameters(source: str) -> tuple[Parameter, ...]:
    """Every ``name: type = default  # help`` line of a parameters cell, in order."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise TemplateError(f"parameters cell, line {error.lineno}: {error.msg}") from None
    lines = source.splitlines()
    found = []
    for statement in tree.body:
        where = f"parameters cell, line {statement.lineno}"
        if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)):
            raise TemplateError(f"{where}: expected 'name: type = default  # help'")
        type_name = ast.unparse(statement.annotation)
        if type_name not in TYPES:
            raise TemplateError(f"{where}: type {type_name!r} is not allowed; expected one of {', '.join(TYPES)}")
        try:
            default = ast.literal_eval(statement.value) if statement.value is not None else None
        except ValueError:
            raise TemplateError(f"{where}: the default must be a literal") from None
        if not isinstance(default, TYPES[type_name]) or (type_name == "int" and isinstance(default, bool)):
            raise TemplateError(f"{where}: default {default!r} is not a {type_name}")
        _, _, comment = lines[statement.lineno - 1].partition("#")
        found.append(Parameter(statement.target.id, type_name, default, comment.strip()))
    return tuple(found)


def check_values(parameters: tuple[Parameter, ...], given: dict[str, str]) -> dict[str, Any]:
    """Every parameter's value: the defaults, overridden by ``given`` (text, as typed), each checked by its type.

    Refuses an unknown name, a value of the wrong type and a night that is not one, naming parameter and value.
    """
    known = {p.name: p for p in parameters}
    for name in given:
        if name not in known:
            allowed = ", ".join(known) or "none"
            raise InvalidInputError("parameter", name, f"a parameter this template takes ({allowed})")
    values = {p.name: p.default for p in parameters}
    for name, text in given.items():
        values[name] = _typed(known[name], text)
    if "night" in values:
        _check_night(str(values["night"]))
    return values


def _typed(parameter: Parameter, text: str) -> Any:
    if parameter.type_name == "str":
        return text
    if parameter.type_name == "bool":
        if text.strip().lower() in TRUE | FALSE:
            return text.strip().lower() in TRUE
        raise InvalidInputError(parameter.name, text, "true or false")
    allowed = "a whole number" if parameter.type_name == "int" else "a finite number"
    try:
        value = TYPES[parameter.type_name](text)
    except ValueError:
        raise InvalidInputError(parameter.name, text, allowed) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidInputError(parameter.name, text, allowed)
    return value


def _check_night(text: str) -> date:
    try:
        if not NIGHT.fullmatch(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError("night", text, "a night as YYYYMMDD") from None


__all__ = ["Parameter", "TemplateError", "check_values", "parameters_cell", "read_parameters"]

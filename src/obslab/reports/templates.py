"""Report templates: the packaged notebooks and a deployment's own folder, each with its parameters and version.

A template is a notebook with one cell tagged ``parameters`` (see ``parameters.py``) and, in its metadata under
``obslab``, a ``title``, a ``description`` and a ``version``. Its version as recorded is that number, the first
12 hex digits of the file's SHA-256 and obslab's version (whose code draws the figures), so an edited template or
an upgrade never reuses a report made by the old one.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from obslab import __version__
from obslab.errors import NotFoundError
from obslab.reports.parameters import Parameter, TemplateError, parameters_cell, read_parameters

PACKAGED = Path(__file__).with_name("templates")
NAME = re.compile(r"[a-z][a-z0-9_-]{0,63}")


@dataclass(frozen=True)
class Template:
    name: str
    path: Path
    title: str
    description: str
    version: str
    parameters: tuple[Parameter, ...]
    cells: int  # how many cells it has; papermill adds one, with the values, after the parameters cell
    parameters_at: int  # the parameters cell's position (0 = the first)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "version": self.version,
            "path": str(self.path),
            "parameters": [p.as_dict() for p in self.parameters],
        }


def load_template(path: Path) -> Template:
    """One template file, read and checked; a broken one is refused naming the file."""
    try:
        raw = path.read_bytes()
        notebook = json.loads(raw)
        meta = notebook.get("metadata", {}).get("obslab", {})
        parameters_at, source = parameters_cell(notebook)
        parameters = read_parameters(source)
    except (OSError, ValueError, TemplateError) as error:
        raise TemplateError(f"report template {path}: {error}") from None
    declared = str(meta.get("version", "0"))
    return Template(
        name=path.stem,
        path=path,
        title=str(meta.get("title", path.stem)),
        description=str(meta.get("description", "")),
        version=f"{declared}+{hashlib.sha256(raw).hexdigest()[:12]}.obslab-{__version__}",
        parameters=parameters,
        cells=len(notebook.get("cells", [])),
        parameters_at=parameters_at,
    )


def template_paths(own_folder: Path | None) -> dict[str, Path]:
    """Every template file by name: the packaged ones, then the deployment's, which may replace one by name."""
    found = {}
    for folder in (PACKAGED, own_folder):
        if folder is None:
            continue
        for path in sorted(folder.glob("*.ipynb")):
            if NAME.fullmatch(path.stem):
                found[path.stem] = path
    return found


def find_template(name: str, own_folder: Path | None) -> Template:
    """The template called ``name``; an unknown name is refused listing the ones there are."""
    paths = template_paths(own_folder)
    if name not in paths:
        raise NotFoundError(f"no report template {name!r}; there are: {', '.join(sorted(paths)) or 'none'}")
    return load_template(paths[name])


__all__ = ["Template", "find_template", "load_template", "template_paths"]

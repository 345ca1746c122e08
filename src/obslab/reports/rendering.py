"""An executed report notebook as one self-contained HTML page, through one exporter kept for the process."""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Any

HTML_TEMPLATES = Path(__file__).with_name("html")
_exporter_lock = threading.Lock()


def to_html(executed: Path) -> str:
    """The executed notebook as one HTML page: code hidden, images embedded, no script or style from elsewhere."""
    import nbformat

    notebook = nbformat.read(executed, as_version=4)
    for cell in notebook.cells:
        # A display with no data at all (BokehJS's loader leaves one) has nothing to show, and nbconvert warns of it.
        cell["outputs"] = [o for o in cell.get("outputs", []) if "data" not in o or o["data"]]
    with _exporter_lock:  # an exporter keeps state while it converts
        body, _ = html_exporter().from_notebook_node(notebook)
    return body


@functools.cache
def html_exporter() -> Any:
    """One exporter per process: a new one compiles its Jinja templates again (0.18 s of every report)."""
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name="obslab", extra_template_basedirs=[str(HTML_TEMPLATES)], exclude_input=True, embed_images=True
    )


@functools.cache  # once per process: the costs it pays are first-use ones
def rehearse_html() -> None:
    """Pay the conversion's first-use costs ahead (its templates compiled, nbformat's schema validator built)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    notebook = new_notebook(cells=[new_code_cell("")])
    nbformat.validate(notebook)
    with _exporter_lock:
        html_exporter().from_notebook_node(notebook)


__all__ = ["html_exporter", "rehearse_html", "to_html"]

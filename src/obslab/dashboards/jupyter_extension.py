"""The server extension's name before serving/ existed, which Jupyter configs installed then still enable."""

from obslab.dashboards.serving.jupyter_extension import (  # noqa: F401  (Jupyter looks these names up)
    _jupyter_server_extension_points,
    _load_jupyter_server_extension,
)

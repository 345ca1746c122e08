"""Where a dashboard is hosted: under Voila's preheat a page's kernel renders it before anyone has asked for it."""

from __future__ import annotations

import os


def wait_for_a_viewer() -> None:
    """Block (in a worker thread) until a person has the page: at once, unless Voila keeps this kernel in its pool.

    Voila's preheated kernels render their dashboard ahead and wait for a request; work meant for a viewer, such as
    warming a kernel of one's own, would otherwise run for a page nobody may open, in every pooled kernel.
    """
    if os.environ.get("VOILA_PREHEAT") != "True":
        return
    from voila.utils import wait_for_request

    wait_for_request()


__all__ = ["wait_for_a_viewer"]

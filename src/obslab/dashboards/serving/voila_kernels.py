"""Voila frees the kernel of a page left: the _xsrf cookie its unload beacon needs was never set."""

from __future__ import annotations

from typing import Any

from voila.tornado.handler import TornadoVoilaHandler


class RenderHandler(TornadoVoilaHandler):
    """Voila's page handler, also setting the ``_xsrf`` cookie the page's unload beacon sends back.

    On ``beforeunload`` Voila's page posts ``/voila/api/shutdown/<kernel>`` with ``navigator.sendBeacon``,
    putting in the form the ``_xsrf`` value it reads from ``document.cookie``.  Tornado sets that cookie
    only when a handler reads ``self.xsrf_token``; jupyter_server's own pages do it through their
    template namespace, but Voila renders the notebook through nbconvert's and never reads it.  So the
    cookie was never set, the beacon carried an empty token and every shutdown was refused (403
    "'_xsrf' argument missing from POST"), leaving one kernel per page view.  Reading the token here
    sets the cookie before the page streams out; the XSRF check itself stays on.
    """

    async def prepare(self) -> Any:
        result = await super().prepare()
        if self.request.method == "GET":
            self.xsrf_token  # noqa: B018  (reading it sets the cookie)
        return result

"""Voila's config in binder's environment (installed as <prefix>/etc/jupyter/voila.py by binder/postBuild).

jupyter-server-proxy serves `obslab serve` at <the Jupyter server's base URL>obslab/ and strips that prefix on the
way in: Voila then answers at / (server_url) while its pages link below the prefix (base_url), which the proxy's
entry in obslab-binder.json hands over in BINDER_OBSLAB_URL_PREFIX. Without it (any other Voila) nothing changes.
"""

import os

prefix = os.environ.get("BINDER_OBSLAB_URL_PREFIX", "")
if prefix:
    c = get_config()  # noqa: F821  (traitlets provides it to config files)
    c.Voila.base_url = prefix if prefix.endswith("/") else prefix + "/"
    c.Voila.server_url = "/"

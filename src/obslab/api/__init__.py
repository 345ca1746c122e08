"""obslab's REST API (a face): FastAPI routes over the composition root, served by ``obslab api``."""

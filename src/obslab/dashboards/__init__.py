"""Panel dashboards: per dashboard a state class with no Panel import and a thin Viewer, offline by construction."""

from obslab.dashboards.serving.resources import configure_offline_resources

# Panel reads its CDN root once, when it is first imported; set it before any view module imports Panel.
configure_offline_resources()

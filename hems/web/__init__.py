"""Local web UI for the homeowner: JSON API, live events, static pages. See README.md."""
from hems.web.server import create_web_app
from hems.web.views import attach_aggregator

__all__ = ["attach_aggregator", "create_web_app"]

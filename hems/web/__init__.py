"""Local web UI for the homeowner: JSON API, live events, static pages. See README.md."""
from hems.web.server import create_web_app

__all__ = ["create_web_app"]

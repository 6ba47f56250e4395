"""The site's time zone: from the config when it names one, else the system's local zone."""
from __future__ import annotations

import logging
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger(__name__)


def site_timezone(config: Any) -> tzinfo:
    for holder in (getattr(config, "site", None), getattr(config, "web", None), config):
        name = getattr(holder, "timezone", None) if holder is not None else None
        if isinstance(name, str) and name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                log.warning("unknown time zone %r in the config; using the system's", name)
    return datetime.now().astimezone().tzinfo or ZoneInfo("UTC")


def tz_name(tz: tzinfo) -> str:
    return getattr(tz, "key", None) or str(tz)

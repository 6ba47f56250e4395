"""Every fetched series kept on disk, so a restart or an offline day keeps what was known.

One JSON file per source (written to a temporary file, then renamed: a power cut leaves the old
file or the new one, never half of one). A damaged file is reported once and ignored.
"""
from __future__ import annotations

import json
import logging
import math
import os
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from hems.sources.series import Series, SeriesError

log = logging.getLogger(__name__)
VERSION = 1


class SeriesCache:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def load(self) -> Series | None:
        """The stored series, or None (no file yet, or a damaged one: logged)."""
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("cache %s unreadable, starting empty: %s", self.path, exc)
            return None
        try:
            if doc.get("version") != VERSION:
                raise ValueError(f"version {doc.get('version')!r}")
            rows = doc["rows"]
            arr = np.array([[r[0], r[1], r[2], math.nan if r[3] is None else r[3]] for r in rows],
                           dtype=float).reshape(-1, 4)
            with_imp = bool(np.isfinite(arr[:, 3]).any())
            return Series(arr[:, 0], arr[:, 1], arr[:, 2], str(doc["source"]), arr[:, 3] if with_imp else np.zeros(0))
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, SeriesError) as exc:
            log.warning("cache %s damaged, starting empty: %s", self.path, exc)
            return None

    def save(self, series: Series, now: datetime) -> None:
        imp = series.import_value if series.has_import else np.full(len(series), math.nan)
        rows = [[float(s), float(n), float(v), None if not math.isfinite(i) else float(i)]
                for s, n, v, i in zip(series.start_s, series.length_s, series.value, imp)]
        doc = {"version": VERSION, "source": series.source,
               "saved_at": now.astimezone(timezone.utc).isoformat(), "rows": rows}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        tmp.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, self.path)

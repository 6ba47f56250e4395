"""What a failed write means for the owner: the real cause of a storage error, in words."""
from __future__ import annotations

import errno
import sqlite3

DISK_FULL = "the disk is full"


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return code == sqlite3.SQLITE_FULL or "disk is full" in str(exc)
    return False


def describe(exc: BaseException) -> str:
    """'the disk is full (database or disk is full)', 'disk I/O error', ...: one line."""
    text = str(exc) or exc.__class__.__name__
    if is_disk_full(exc):
        return f"{DISK_FULL} ({text}): free space on the SD card or move data_dir"
    return text

"""The SD card image's version: /etc/hems-image-version, written when the image is built."""
from __future__ import annotations

from pathlib import Path

IMAGE_VERSION = Path("/etc/hems-image-version")


def image_version(path: Path = IMAGE_VERSION) -> str | None:
    """The image's version, or None off the image (no file, or an empty one)."""
    try:
        return path.read_text().strip() or None
    except OSError:
        return None

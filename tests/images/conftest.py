"""Fixtures for the SD card image tests (helpers in image_vm.py)."""
from image_vm import image  # noqa: F401  (session fixture: the built test image)

"""hems: a home V2G energy manager."""

__version__ = "0.1.0"

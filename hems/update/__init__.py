"""Signed update bundles (RAUC): check a bundle before it is installed, install it, report."""

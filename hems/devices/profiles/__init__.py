"""Device profiles as data: one TOML file per device model, checked against a schema on load."""
from hems.devices.profiles.connectors import for_connector
from hems.devices.profiles.loader import (
    PROFILE_DIR, available_profiles, load_profile, parse_profile, resolve_name,
)
from hems.devices.profiles.schema import (
    Check, Heartbeat, Point, Profile, ProfileError, Write,
)

__all__ = [
    "PROFILE_DIR", "Check", "Heartbeat", "Point", "Profile", "ProfileError", "Write",
    "available_profiles", "for_connector", "load_profile", "parse_profile", "resolve_name",
]

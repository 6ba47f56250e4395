"""Multi-connector chargers: the same profile points, moved to another connector's registers.

A charger such as the EVtec BiDiPro keeps one register object per connector: connector n at
n * stride. Its profile is written for connector 1 (registers stride .. 2*stride-1); the other
registers (the charge point's own, e.g. a communication timeout) are shared and stay put.
"""
from __future__ import annotations

from dataclasses import replace

from hems.devices.profiles.schema import Heartbeat, Point, Profile, ProfileError, Write


def for_connector(profile: Profile, connector: int) -> Profile:
    """The profile for connector `connector` (1-based). Pure; raises ProfileError."""
    if isinstance(connector, bool) or not isinstance(connector, int):
        raise ProfileError(f"{profile.source}: connector {connector!r} is not a whole number")
    if profile.connector_stride == 0:
        if connector == 1:
            return profile
        raise ProfileError(f"{profile.source}: {profile.title} has one connector; "
                           f"connector {connector} does not exist")
    if not 1 <= connector <= profile.connector_count:
        raise ProfileError(f"{profile.source}: connector {connector} is not in "
                           f"1..{profile.connector_count}")
    shift = (connector - profile.connector) * profile.connector_stride
    lo = profile.connector * profile.connector_stride
    hi = lo + profile.connector_stride

    def move(p: Point) -> Point:
        if p.sunspec or p.register is None or not lo <= p.register < hi:
            return p
        sf = p.sf + shift if p.sf is not None and lo <= p.sf < hi else p.sf
        return replace(p, register=p.register + shift, sf=sf)

    hb = profile.heartbeat
    return replace(
        profile, connector=connector,
        points={n: move(p) for n, p in profile.points.items()},
        controls={n: move(p) for n, p in profile.controls.items()},
        writes={k: tuple(Write(move(w.point), w.value) for w in ws)
                for k, ws in profile.writes.items()},
        heartbeat=Heartbeat(move(hb.point), hb.timeout_s) if hb else None)

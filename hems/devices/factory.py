"""Build drivers from the validated device configs (hems.config.DeviceConfig).

Devices on the same bus (one TCP host:port, or one serial port) share one connection.
The class of each driver says which optional capabilities it has (Heartbeat, Curtailable),
so `isinstance(device, Heartbeat)` at wiring time is truthful.
"""
from __future__ import annotations

from typing import Any, Iterable

from hems.devices.drivers import (
    ChargerDriver, CurtailablePvDriver, HeartbeatChargerDriver, MeterDriver, PvDriver,
)
from hems.devices.modbus import BusRegistry, SerialEndpoint, TcpEndpoint
from hems.devices.profiles import Profile, load_profile
from hems.domain.clock import Clock


def endpoint_of(cfg: Any) -> TcpEndpoint | SerialEndpoint:
    if cfg.transport == "tcp":
        return TcpEndpoint(cfg.host, int(cfg.port or 502))
    if cfg.transport == "rtu":
        return SerialEndpoint(cfg.serial_port, int(cfg.baudrate or 9600), cfg.parity or "N",
                              int(cfg.stopbits or 1))
    raise ValueError(f"devices.{cfg.name}.transport: {cfg.transport!r} is not 'tcp' or 'rtu'")


def make_driver(name: str, profile: Profile, link, clock: Clock | None = None,
                heartbeat_timeout_s: float | None = None):
    """The driver class for a profile's role and capabilities."""
    if profile.role == "meter":
        return MeterDriver(name, profile, link, clock)
    if profile.role == "pv":
        cls = CurtailablePvDriver if "limit_pct" in profile.controls else PvDriver
        return cls(name, profile, link, clock)
    if profile.heartbeat is not None:
        return HeartbeatChargerDriver(name, profile, link, clock,
                                      heartbeat_timeout_s=heartbeat_timeout_s)
    return ChargerDriver(name, profile, link, clock)


def build_devices(device_configs: Iterable[Any], clock: Clock | None = None,
                  buses: BusRegistry | None = None) -> dict[str, Any]:
    """name -> driver for each config. Raises ProfileError for an unknown or broken profile."""
    buses = buses if buses is not None else BusRegistry()
    devices: dict[str, Any] = {}
    for cfg in device_configs:
        profile = load_profile(cfg.profile, role=cfg.role, connector=getattr(cfg, "connector", None))
        bus = buses.get(endpoint_of(cfg), timeout_s=float(cfg.timeout_s))
        devices[cfg.name] = make_driver(cfg.name, profile, bus.unit(int(cfg.unit)), clock,
                                        heartbeat_timeout_s=getattr(cfg, "comm_timeout_s", None))
    return devices

"""Build the OCPP chargers of config.toml around one shared server (the composition root calls it)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from hems.devices.ocpp.charger import OcppCharger
from hems.devices.ocpp.profiles import Electrical
from hems.devices.ocpp.server import OcppServer, OcppSettings
from hems.domain.clock import Clock

DEFAULT_VALIDITY_S = 60.0


def read_password(path: Path | None) -> str | None:
    """The first line of a password file (the charge point's basic-auth password)."""
    if path is None:
        return None
    text = Path(path).read_text().strip()
    return text.splitlines()[0].strip() if text else None


def build_ocpp_devices(settings: OcppSettings, device_configs: Iterable[Any], *, voltage_v: float,
                       phases: int, clock: Clock | None = None) -> dict[str, OcppCharger]:
    """name -> OcppCharger for every device with transport "ocpp", all on one server.

    Each device config gives `charge_point_id`, optional `password_file`, `connector` (1.6) or
    `evse` (2.x), `phases`, `rate_unit` and `comm_timeout_s` (the setpoint profile's validity)."""
    server = OcppServer(settings, clock=clock) if clock is not None else OcppServer(settings)
    out: dict[str, OcppCharger] = {}
    for cfg in device_configs:
        if cfg.transport != "ocpp":
            continue
        el = Electrical(phases=cfg.phases or phases, voltage_v=voltage_v, rate_unit=cfg.rate_unit or "A")
        charger = OcppCharger(
            cfg.name, cfg.charge_point_id, server, connector=cfg.evse or cfg.connector or 1,
            electrical=el, validity_s=cfg.comm_timeout_s or DEFAULT_VALIDITY_S,
            fallback_current_a=settings.fallback_current_a,
            meter_stale_s=max(60.0, 3 * settings.meter_interval_s),
            password=read_password(cfg.password_file), clock=server.clock)
        server.add(charger)
        out[cfg.name] = charger
    return out

"""config.toml -> validated, frozen dataclasses.

`load_config(path)` reads a TOML file; `parse_config(data, source)` validates a dict (tests use
it). Both raise `ConfigError` whose `.errors` lists every problem at once, each naming the key
path, the bad value and what is expected, e.g.
``devices.charger.port: 70000 is not a TCP port (1-65535)``. Unknown keys are errors.
Relative paths resolve against the config file's folder. Powers are W, energies Wh, shares %.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hems.config.checks import (
    MISSING, ConfigError, Table, boolean, choice, clock_time, day_list, dir_path, file_path, identifier,
    integer, ip_address, iso_date, number, show, string, timezone, topic_prefix, week_coverage,
)
from hems.config.model import (
    ROLES, WEEKDAYS, AggregatorConfig, BridgeConfig, Config, Departure, DeviceConfig, EvConfig,
    OcppConfig, PlannerConfig, PvPlane, SimConfig, SolarConfig, SiteConfig, StorageConfig, TariffConfig,
    TouPeriod, WebConfig,
)
from hems.config.sources import solar
from hems.config.sections import (
    _SECTIONS, BRIDGE_PROFILES, MIN_AC_CURRENT_A, PROFILES_DIR, _aggregator, _bridge, _devices, _ev, _ocpp,
    _planner, _sim, _site, _storage, _tariff, _web, known_profiles,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def load_config(path: str | Path) -> Config:
    """Read and validate a config file. Raises ConfigError listing every problem."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read ({exc.strerror})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML ({exc})"]) from None
    return parse_config(data, source=str(path), base_dir=path.resolve().parent)


def parse_config(data: dict[str, Any], source: str = "<dict>", base_dir: Path | None = None) -> Config:
    """Validate a config dict (as tomllib gives it). Raises ConfigError listing every problem."""
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    top = Table([], "", data)
    sections = {name: top.table(name, required) for name, required in _SECTIONS.items()}
    site = _site(sections["site"])
    cfg = Config(
        site=site,
        devices=_devices(sections["devices"], base),
        ev=_ev(sections["ev"], site),
        tariff=_tariff(sections["tariff"], base),
        web=_web(sections["web"]),
        storage=_storage(sections["storage"], base),
        planner=_planner(sections["planner"]),
        aggregator=_aggregator(sections["aggregator"], base),
        bridge=_bridge(sections["bridge"]),
        sim=_sim(sections["sim"]),
        ocpp=_ocpp(sections["ocpp"], base),
        solar=solar(sections["solar"], base),
        source=source,
        base_dir=base,
    )
    if cfg.bridge is None and any(d.transport == "bridge" for d in cfg.devices):
        names = ", ".join(f"devices.{d.name}" for d in cfg.devices if d.transport == "bridge")
        top.errors.append(f'{names}: transport "bridge" needs a [bridge] table with its serial_port')
    if cfg.ocpp is None and any(d.transport == "ocpp" for d in cfg.devices):
        names = ", ".join(f"devices.{d.name}" for d in cfg.devices if d.transport == "ocpp")
        top.errors.append(f'{names}: transport "ocpp" needs an [ocpp] table (the server chargers connect to)')
    if cfg.ocpp is not None and cfg.ocpp.security_profile in (1, 2):
        for d in cfg.devices:
            if d.transport == "ocpp" and d.password_file is None:
                top.errors.append(f"devices.{d.name}.password_file: missing: security profile "
                                  f"{cfg.ocpp.security_profile} needs the charger's basic-auth password")
    ids = [d.charge_point_id for d in cfg.devices if d.transport == "ocpp" and d.charge_point_id]
    if len(ids) != len(set(ids)):
        top.errors.append("devices: two chargers with the same charge_point_id")
    top.finish()
    if top.errors:
        raise ConfigError(top.errors)
    return cfg

"""config.toml -> validated, frozen dataclasses.

`load_config(path)` reads a TOML file; `parse_config(data, source)` validates a dict (tests use
it). Both raise `ConfigError` whose `.errors` lists every problem at once, each naming the key
path, the bad value and what is expected, e.g.
``devices.charger.port: 70000 is not a TCP port (1-65535)``. Unknown keys are errors.
Relative paths resolve against the config file's folder. Powers are W, energies Wh, shares %.
"""
from __future__ import annotations

import difflib
import ipaddress
import json
import math
import re
import sys
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Callable


if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROLES = ("meter", "pv", "charger")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MIN_AC_CURRENT_A = 6.0
PROFILES_DIR = Path(__file__).parent / "devices" / "profiles"


@dataclass(frozen=True)
class SiteConfig:
    phases: int
    voltage_v: float
    main_fuse_a: float                       # per phase
    max_import_w: float
    max_export_w: float
    latitude: float
    longitude: float
    timezone: str                            # IANA name, checked with zoneinfo
    pv_peak_w: float = 0.0
    pv_tilt_deg: float = 35.0
    pv_azimuth_deg: float = 180.0            # 180 = south

    @property
    def fuse_power_w(self) -> float:
        """What the main fuse lets through on all phases together."""
        return self.phases * self.voltage_v * self.main_fuse_a


@dataclass(frozen=True)
class DeviceConfig:
    name: str
    role: str                                # meter | pv | charger
    profile: str                             # "sunspec" or a stem of hems/devices/profiles/*.toml
    transport: str                           # tcp | rtu
    unit: int
    poll_interval_s: float
    timeout_s: float
    host: str | None = None                  # tcp
    port: int | None = None                  # tcp
    serial_port: str | None = None           # rtu
    baudrate: int | None = None              # rtu
    parity: str | None = None                # rtu: N | E | O
    stopbits: int | None = None              # rtu
    comm_timeout_s: float | None = None      # charger: falls back on its own after this silence
    connector: int | None = None             # a multi-connector charger's connector (1-9)


@dataclass(frozen=True)
class Departure:
    weekday: int                             # 0 = Monday
    departure: time                          # local time
    target_soc_pct: float


@dataclass(frozen=True)
class EvConfig:
    capacity_wh: float
    min_charge_w: float
    max_charge_w: float
    min_discharge_w: float
    max_discharge_w: float
    charge_efficiency: float
    discharge_efficiency: float
    reserve_pct: float
    max_soc_pct: float
    default_departure: time                  # local time
    default_target_soc_pct: float
    degradation_per_kwh: float
    weekly: tuple[Departure, ...] = ()       # per weekday overrides

    def departure_for(self, weekday: int) -> Departure:
        """The departure rule of a weekday (0 = Monday): its own, or the default."""
        for d in self.weekly:
            if d.weekday == weekday:
                return d
        return Departure(weekday, self.default_departure, self.default_target_soc_pct)


@dataclass(frozen=True)
class TouPeriod:
    days: tuple[int, ...]                    # 0 = Monday
    start: time                              # local, inclusive
    end: time                                # local, exclusive; end <= start wraps past midnight
    price_per_kwh: float


@dataclass(frozen=True)
class TariffConfig:
    kind: str                                # fixed | tou | dynamic
    currency: str = "EUR"
    import_price_per_kwh: float | None = None    # fixed
    export_price_per_kwh: float | None = None    # fixed, tou, dynamic with export = "fixed"
    periods: tuple[TouPeriod, ...] = ()          # tou: import price by local time
    prices_csv: Path | None = None               # dynamic: spot prices, EUR/MWh, UTC
    import_markup_per_kwh: float = 0.0           # dynamic: import = spot + markup
    export: str = "spot"                         # dynamic: "spot" or "fixed"


@dataclass(frozen=True)
class WebConfig:
    bind: str = "127.0.0.1"
    port: int = 8080
    readonly_lan: bool = False


@dataclass(frozen=True)
class StorageConfig:
    data_dir: Path
    flush_interval_s: float = 60.0


@dataclass(frozen=True)
class AggregatorConfig:
    enabled: bool
    host: str | None
    port: int
    tls: bool
    ca_file: Path | None
    cert_file: Path | None                   # TLS client certificate
    key_file: Path | None                    # TLS client key
    username: str | None
    password_file: Path | None
    site_id: str | None
    topic_prefix: str
    auth: str                                # hmac | ed25519
    auth_key_file: Path | None               # per-site HMAC key, or the aggregator's Ed25519 public key
    telemetry_interval_s: float
    homeassistant_discovery: bool


@dataclass(frozen=True)
class BridgeConfig:
    serial_port: str
    baudrate: int = 115200
    heartbeat_interval_s: float = 1.0
    heartbeat_timeout_s: float = 3.0         # the bridge's watchdog trips after this silence
    max_current_a: float = 16.0              # what the charging hardware may draw per phase
    s0_imp_per_kwh: float | None = None      # an S0 energy meter wired to the bridge
    droop_enabled: bool = False              # local fast frequency response on the bridge
    droop_deadband_hz: float = 0.2
    droop_slope_a_per_hz: float = 20.0


@dataclass(frozen=True)
class SimConfig:
    speedup: float = 60.0
    start: str = "2024-06-03"                # ISO date within the data, 2024-03-01..2025-02-26
    seed: int = 0
    base_port: int = 15020


@dataclass(frozen=True)
class PlannerConfig:
    interval_s: int = 900
    horizon_h: float = 48.0


@dataclass(frozen=True)
class Config:
    site: SiteConfig
    devices: tuple[DeviceConfig, ...]
    ev: EvConfig
    tariff: TariffConfig
    web: WebConfig
    storage: StorageConfig
    planner: PlannerConfig
    aggregator: AggregatorConfig | None = None   # None = no aggregator link
    bridge: BridgeConfig | None = None
    sim: SimConfig | None = None
    source: str = "<dict>"
    base_dir: Path = field(default_factory=Path.cwd)

    def device(self, role: str) -> DeviceConfig | None:
        """The device with this role (meter and charger always exist), or None."""
        return next((d for d in self.devices if d.role == role), None)

    def summary(self) -> str:
        devs = ", ".join(f"{d.name} ({d.role}, {d.profile}, {d.transport})" for d in self.devices)
        agg = "on" if self.aggregator and self.aggregator.enabled else "off"
        return (f"{self.site.phases}-phase site, {self.site.main_fuse_a:g} A fuse, {self.site.timezone}; "
                f"devices: {devs}; EV {self.ev.capacity_wh / 1000:g} kWh; tariff {self.tariff.kind}; "
                f"web {self.web.bind}:{self.web.port}; data {self.storage.data_dir}; aggregator {agg}")


def known_profiles() -> tuple[str, ...]:
    """Valid device profile names, read from the profiles folder now (it grows)."""
    stems = sorted(p.stem for p in PROFILES_DIR.glob("*.toml")) if PROFILES_DIR.is_dir() else []
    return ("sunspec", *[s for s in stems if s != "sunspec"], *BRIDGE_PROFILES)


# Devices behind the microcontroller bridge ([bridge]): transport = "bridge".
BRIDGE_PROFILES = ("bridge_pilot", "bridge_s0")   # an AC charger via the pilot; an S0 meter


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
        devices=_devices(sections["devices"]),
        ev=_ev(sections["ev"], site),
        tariff=_tariff(sections["tariff"], base),
        web=_web(sections["web"]),
        storage=_storage(sections["storage"], base),
        planner=_planner(sections["planner"]),
        aggregator=_aggregator(sections["aggregator"], base),
        bridge=_bridge(sections["bridge"]),
        sim=_sim(sections["sim"]),
        source=source,
        base_dir=base,
    )
    if cfg.bridge is None and any(d.transport == "bridge" for d in cfg.devices):
        names = ", ".join(f"devices.{d.name}" for d in cfg.devices if d.transport == "bridge")
        top.errors.append(f'{names}: transport "bridge" needs a [bridge] table with its serial_port')
    top.finish()
    if top.errors:
        raise ConfigError(top.errors)
    return cfg


_SECTIONS = {"site": True, "devices": True, "ev": True, "tariff": True, "web": False,
             "storage": False, "planner": False, "aggregator": False, "bridge": False, "sim": False}


def _site(t: Table | None) -> SiteConfig | None:
    if t is None:
        return None
    s = SiteConfig(
        phases=t.get("phases", choice(1, 3)),
        voltage_v=t.get("voltage_v", number(100, 480, "a voltage in V (100-480)")),
        main_fuse_a=t.get("main_fuse_a", number(1, 1000, "a fuse rating in A (1-1000)")),
        max_import_w=t.get("max_import_w", number(0, 1e6, "a power in W (0-1000000)")),
        max_export_w=t.get("max_export_w", number(0, 1e6, "a power in W (0-1000000)")),
        latitude=t.get("latitude", number(-90, 90, "a latitude in degrees (-90 to 90)")),
        longitude=t.get("longitude", number(-180, 180, "a longitude in degrees (-180 to 180)")),
        timezone=t.get("timezone", timezone()),
        pv_peak_w=t.get("pv_peak_w", number(0, 1e6, "a peak power in W (0-1000000)"), 0.0),
        pv_tilt_deg=t.get("pv_tilt_deg", number(0, 90, "a tilt in degrees (0-90)"), 35.0),
        pv_azimuth_deg=t.get("pv_azimuth_deg", number(0, 360, "an azimuth in degrees (0-360, 180 = south)"), 180.0),
    )
    t.finish()
    return s


def _devices(t: Table | None) -> tuple[DeviceConfig, ...]:
    if t is None:
        return ()
    devices = []
    for name in list(t.data):
        sub = t.table(name, True)
        if sub is not None:
            devices.append(_device(name, sub))
    t.used.update(t.data)
    unknown_role = any(d.role is None for d in devices)
    for role in ROLES:
        names = [d.name for d in devices if d.role == role]
        if role != "pv" and not names and not unknown_role:
            t.error_at(f'no device with role "{role}" (exactly one is required)')
        elif len(names) > 1:
            t.error_at(f'{len(names)} devices with role "{role}" ({", ".join(names)}); '
                       f"{'at most' if role == 'pv' else 'exactly'} one is allowed")
    _check_addresses(t, devices)
    return tuple(devices)


def _device(name: str, t: Table) -> DeviceConfig:
    transport = t.get("transport", choice("tcp", "rtu", "bridge"))
    tcp, rtu = transport == "tcp", transport == "rtu"
    d = DeviceConfig(
        name=name,
        role=t.get("role", choice(*ROLES)),
        profile=t.get("profile", choice(*known_profiles(), what="a known profile")),
        transport=transport,
        unit=t.get("unit", integer(1, 247, "a Modbus unit id (1-247)"), 1),
        poll_interval_s=t.get("poll_interval_s", number(0.1, 3600, "a duration in s (0.1-3600)"), 2.0),
        timeout_s=t.get("timeout_s", number(0.1, 60, "a duration in s (0.1-60)"), 3.0),
        host=t.get("host", string("a host name or IP address")) if tcp else None,
        port=t.get("port", integer(1, 65535, "a TCP port (1-65535)"), 502) if tcp else None,
        serial_port=t.get("serial_port", string("a serial device path, e.g. /dev/ttyUSB0")) if rtu else None,
        baudrate=t.get("baudrate", choice(1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200), 9600) if rtu else None,
        parity=t.get("parity", choice("N", "E", "O"), "N") if rtu else None,
        stopbits=t.get("stopbits", choice(1, 2), 1) if rtu else None,
        comm_timeout_s=t.get("comm_timeout_s", number(5, 3600, "a duration in s (5-3600)"), None),
        connector=t.get("connector", integer(1, 9, "a connector number (1-9)"), None),
    )
    if transport is None:
        t.used.update(t.data)  # which keys belong here depends on the transport
    serial_keys, tcp_keys = ("serial_port", "baudrate", "parity", "stopbits"), ("host", "port")
    other = serial_keys if tcp else tcp_keys if rtu else serial_keys + tcp_keys if transport == "bridge" else ()
    _check_bridge_profile(t, d)
    for key in other:
        if key in t.data:
            t.used.add(key)
            t.error(key, f"does not apply to transport \"{transport}\"")
    t.finish()
    return d


def _check_bridge_profile(t: Table, d: DeviceConfig) -> None:
    """Bridge profiles go with transport "bridge" and their role, and nothing else does."""
    wanted = {"bridge_pilot": "charger", "bridge_s0": "meter"}
    if d.profile in wanted and d.transport not in (None, "bridge"):
        t.error("transport", f'{show(d.transport)} does not fit profile "{d.profile}" (use "bridge")')
    elif d.transport == "bridge" and d.profile is not None and d.profile not in wanted:
        t.error("profile", f'{show(d.profile)} is not a bridge device ("bridge_pilot" or "bridge_s0")')
    elif d.profile in wanted and d.role is not None and d.role != wanted[d.profile]:
        t.error("role", f'{show(d.role)} does not fit profile "{d.profile}" (role "{wanted[d.profile]}")')


def _check_addresses(t: Table, devices: list[DeviceConfig]) -> None:
    seen: dict[tuple, str] = {}
    buses: dict[str, DeviceConfig] = {}
    for d in devices:
        if d.transport == "tcp" and d.host and d.port:
            addr: tuple = (d.host, d.port, d.unit)
            where = f"{d.host}:{d.port} unit {d.unit}"
        elif d.transport == "rtu" and d.serial_port:
            addr = (d.serial_port, d.unit)
            where = f"{d.serial_port} unit {d.unit}"
            bus = buses.setdefault(d.serial_port, d)
            if (bus.baudrate, bus.parity, bus.stopbits) != (d.baudrate, d.parity, d.stopbits):
                t.error_at(f"{bus.name} and {d.name} share {d.serial_port} but not its baudrate, "
                           "parity and stopbits (one bus has one setting)")
        else:
            continue
        if addr in seen:
            t.error_at(f"{seen[addr]} and {d.name} both use {where} (each device needs its own address)")
        seen.setdefault(addr, d.name)


def _ev(t: Table | None, site: SiteConfig | None) -> EvConfig | None:
    if t is None:
        return None
    power = number(0, 1e6, "a power in W (0-1000000)")
    pct = number(0, 100, "a percentage (0-100)")
    eff = number(0, 1, "an efficiency in (0, 1]", lo_open=True)
    ev = EvConfig(
        capacity_wh=t.get("capacity_wh", number(1000, 300000, "a capacity in Wh (1000-300000)")),
        min_charge_w=t.get("min_charge_w", power), max_charge_w=t.get("max_charge_w", power),
        min_discharge_w=t.get("min_discharge_w", power), max_discharge_w=t.get("max_discharge_w", power),
        charge_efficiency=t.get("charge_efficiency", eff, 0.92),
        discharge_efficiency=t.get("discharge_efficiency", eff, 0.92),
        reserve_pct=t.get("reserve_pct", pct, 20.0),
        max_soc_pct=t.get("max_soc_pct", pct, 100.0),
        default_departure=t.get("default_departure", clock_time(), time(7, 30)),
        default_target_soc_pct=t.get("default_target_soc_pct", pct, 80.0),
        degradation_per_kwh=t.get("degradation_per_kwh", number(0, 10, "a cost per kWh (0-10)"), 0.0),
        weekly=_weekly(t.table("weekly", False)),
    )
    t.finish()
    _check_ev(t, ev, site)
    return ev


def _weekly(t: Table | None) -> tuple[Departure, ...]:
    if t is None:
        return ()
    out = []
    for day in WEEKDAYS:
        sub = t.table(day, False)
        if sub is None:
            continue
        dep = Departure(WEEKDAYS.index(day), sub.get("departure", clock_time()),
                        sub.get("target_soc_pct", number(0, 100, "a percentage (0-100)")))
        sub.finish()
        out.append(dep)
    t.finish()
    return tuple(out)


def _check_ev(t: Table, ev: EvConfig, site: SiteConfig | None) -> None:
    for lo, hi in (("min_charge_w", "max_charge_w"), ("min_discharge_w", "max_discharge_w")):
        a, b = getattr(ev, lo), getattr(ev, hi)
        if a is not None and b is not None and a > b:
            t.error(lo, f"{show(a)} is above {hi} ({show(b)})")
    if None not in (ev.reserve_pct, ev.max_soc_pct) and ev.reserve_pct >= ev.max_soc_pct:
        t.error("reserve_pct", f"{show(ev.reserve_pct)} is not below max_soc_pct ({show(ev.max_soc_pct)})")
    if None not in (ev.default_target_soc_pct, ev.max_soc_pct) and ev.default_target_soc_pct > ev.max_soc_pct:
        t.error("default_target_soc_pct",
                f"{show(ev.default_target_soc_pct)} is above max_soc_pct ({show(ev.max_soc_pct)})")
    if site is None or site.voltage_v is None or site.phases is None or site.main_fuse_a is None:
        return
    floor_w = MIN_AC_CURRENT_A * site.voltage_v   # 6 A on one phase: no AC charger goes lower
    fuse_w = site.fuse_power_w
    for key in ("min_charge_w", "min_discharge_w"):
        v = getattr(ev, key)
        if v is not None and v < floor_w:
            t.error(key, f"{show(v)} is below the 6 A AC minimum ({floor_w:g} W on one phase at "
                         f"{site.voltage_v:g} V; {floor_w * site.phases:g} W on {site.phases} phases)")
    for key in ("max_charge_w", "max_discharge_w"):
        v = getattr(ev, key)
        if v is not None and v > fuse_w:
            t.error(key, f"{show(v)} exceeds the main fuse ({site.phases} x {site.main_fuse_a:g} A "
                         f"x {site.voltage_v:g} V = {fuse_w:g} W)")


def _tariff(t: Table | None, base: Path) -> TariffConfig | None:
    if t is None:
        return None
    kind = t.get("kind", choice("fixed", "tou", "dynamic"))
    price = number(-10, 10, "a price per kWh (-10 to 10)")
    currency = t.get("currency", string("a currency code, e.g. \"EUR\""), "EUR")
    if kind == "fixed":
        tariff = TariffConfig(kind, currency, import_price_per_kwh=t.get("import_price_per_kwh", price),
                              export_price_per_kwh=t.get("export_price_per_kwh", price, 0.0))
    elif kind == "tou":
        tariff = TariffConfig(kind, currency, export_price_per_kwh=t.get("export_price_per_kwh", price, 0.0),
                              periods=_periods(t))
    elif kind == "dynamic":
        export = t.get("export", choice("spot", "fixed"), "spot")
        fixed = export == "fixed"
        tariff = TariffConfig(
            kind, currency,
            prices_csv=t.get("prices_csv", file_path(base, "a CSV file of day-ahead prices")),
            import_markup_per_kwh=t.get("import_markup_per_kwh", price, 0.0),
            export=export,
            export_price_per_kwh=t.get("export_price_per_kwh", price) if fixed else None)
        if not fixed and "export_price_per_kwh" in t.data:
            t.used.add("export_price_per_kwh")
            t.error("export_price_per_kwh", 'applies only with export = "fixed"')
    else:
        tariff = TariffConfig(kind, currency)
        t.used.update(t.data)  # which keys belong here depends on the kind
    t.finish()
    return tariff


def _periods(t: Table) -> tuple[TouPeriod, ...]:
    tables = t.array_of_tables("periods")
    periods = []
    for sub in tables:
        p = TouPeriod(days=sub.get("days", day_list(WEEKDAYS)),
                      start=sub.get("start", clock_time()),
                      end=sub.get("end", clock_time(allow_24=True)),
                      price_per_kwh=sub.get("price_per_kwh", number(-10, 10, "a price per kWh (-10 to 10)")))
        sub.finish()
        periods.append(p)
    if tables and all(None not in (p.days, p.start, p.end) for p in periods):
        for problem in week_coverage(
                [(p.days, p.start, p.end) for p in periods], WEEKDAYS):
            t.error("periods", problem)
    return tuple(periods)


def _web(t: Table | None) -> WebConfig:
    if t is None:
        return WebConfig()
    w = WebConfig(bind=t.get("bind", ip_address(), "127.0.0.1"),
                  port=t.get("port", integer(1, 65535, "a TCP port (1-65535)"), 8080),
                  readonly_lan=t.get("readonly_lan", boolean(), False))
    t.finish()
    return w


def _storage(t: Table | None, base: Path) -> StorageConfig:
    if t is None:
        return StorageConfig(data_dir=(base / "var").resolve())
    s = StorageConfig(data_dir=t.get("data_dir", dir_path(base), (base / "var").resolve()),
                      flush_interval_s=t.get("flush_interval_s", number(1, 3600, "a duration in s (1-3600)"), 60.0))
    t.finish()
    return s


def _planner(t: Table | None) -> PlannerConfig:
    if t is None:
        return PlannerConfig()
    p = PlannerConfig(interval_s=t.get("interval_s", choice(300, 600, 900, 1800, 3600,
                                                              what="an interval in s"), 900),
                      horizon_h=t.get("horizon_h", number(1, 168, "a horizon in hours (1-168)"), 48.0))
    t.finish()
    return p


def _aggregator(t: Table | None, base: Path) -> AggregatorConfig | None:
    if t is None:
        return None
    enabled = t.get("enabled", boolean(), True)
    tls = t.get("tls", boolean(), False)
    need = bool(enabled)
    path = file_path(base, "a readable file", must_exist=need)
    a = AggregatorConfig(
        enabled=enabled,
        host=t.get("host", string("a broker host name or IP address"), MISSING if need else None),
        port=t.get("port", integer(1, 65535, "a TCP port (1-65535)"), 8883 if tls else 1883),
        tls=tls,
        ca_file=t.get("ca_file", path, None),
        cert_file=t.get("cert_file", path, None),
        key_file=t.get("key_file", path, None),
        username=t.get("username", string("a user name"), None),
        password_file=t.get("password_file", path, None),
        site_id=t.get("site_id", identifier(), MISSING if need else None),
        topic_prefix=t.get("topic_prefix", topic_prefix(), "hems/v1"),
        auth=t.get("auth", choice("hmac", "ed25519"), "hmac"),
        auth_key_file=t.get("auth_key_file", path, MISSING if need else None),
        telemetry_interval_s=t.get("telemetry_interval_s", number(1, 3600, "a duration in s (1-3600)"), 10.0),
        homeassistant_discovery=t.get("homeassistant_discovery", boolean(), False),
    )
    if need and bool(a.cert_file) != bool(a.key_file):
        t.error("cert_file" if a.key_file else "key_file", "is needed too: a client certificate needs its key")
    t.finish()
    return a


def _bridge(t: Table | None) -> BridgeConfig | None:
    if t is None:
        return None
    b = BridgeConfig(serial_port=t.get("serial_port", string("a serial device path, e.g. /dev/ttyACM0")),
                     baudrate=t.get("baudrate", choice(9600, 19200, 38400, 57600, 115200, 230400, 460800,
                                                         921600), 115200),
                     heartbeat_interval_s=t.get("heartbeat_interval_s",
                                                number(0.1, 60, "a duration in s (0.1-60)"), 1.0),
                     heartbeat_timeout_s=t.get("heartbeat_timeout_s",
                                               number(0.5, 60, "a duration in s (0.5-60)"), 3.0),
                     max_current_a=t.get("max_current_a", number(6, 80, "a current in A (6-80)"), 16.0),
                     s0_imp_per_kwh=t.get("s0_imp_per_kwh",
                                          number(1, 100000, "pulses per kWh (1-100000)"), None),
                     droop_enabled=t.get("droop_enabled", boolean(), False),
                     droop_deadband_hz=t.get("droop_deadband_hz", number(0, 1, "a frequency in Hz (0-1)"), 0.2),
                     droop_slope_a_per_hz=t.get("droop_slope_a_per_hz",
                                                number(0, 1000, "a slope in A/Hz (0-1000)"), 20.0))
    if None not in (b.heartbeat_interval_s, b.heartbeat_timeout_s) and b.heartbeat_interval_s >= b.heartbeat_timeout_s:
        t.error("heartbeat_interval_s", f"{show(b.heartbeat_interval_s)} must be shorter than "
                f"heartbeat_timeout_s ({show(b.heartbeat_timeout_s)})")
    t.finish()
    return b


def _sim(t: Table | None) -> SimConfig | None:
    if t is None:
        return None
    s = SimConfig(speedup=t.get("speedup", number(0.1, 100000, "a speed-up factor (0.1-100000)"), 60.0),
                  start=t.get("start", iso_date("2024-03-01", "2025-02-26"), "2024-06-03"),
                  seed=t.get("seed", integer(0, 2**32 - 1, "a seed (0-4294967295)"), 0),
                  base_port=t.get("base_port", integer(1024, 65533, "a TCP port (1024-65533)"), 15020))
    t.finish()
    return s


# --- reading helpers: every check appends "key.path: <value> <problem>" and carries on ---

class ConfigError(Exception):
    """Every problem found in a config, one message per problem in `.errors`."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


MISSING: Any = object()


class _Bad(Exception):
    """A value failed a check; the message completes "<value> ..."."""


def show(value: Any) -> str:
    """A value as the user wrote it in TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return str(value)


class _Check:
    def __init__(self, expected: str, fn: Callable[[Any], Any]) -> None:
        self.expected, self.fn = expected, fn

    def __call__(self, value: Any) -> Any:
        try:
            return self.fn(value)
        except _Bad:
            raise
        except (TypeError, ValueError, KeyError):
            raise _Bad(f"is not {self.expected}") from None


class Table:
    """One TOML table being read: remembers which keys were used, collects errors."""

    def __init__(self, errors: list[str], path: str, data: dict[str, Any]) -> None:
        self.errors, self.path, self.data, self.used = errors, path, data, set()

    def key(self, k: str) -> str:
        return f"{self.path}.{k}" if self.path else k

    def error(self, k: str, message: str) -> None:
        self.errors.append(f"{self.key(k)}: {message}")

    def error_at(self, message: str) -> None:
        self.errors.append(f"{self.path or '<top>'}: {message}")

    def get(self, k: str, check: _Check, default: Any = MISSING) -> Any:
        self.used.add(k)
        if k not in self.data:
            if default is MISSING:
                self.error(k, f"missing: expected {check.expected}")
                return None
            return default
        value = self.data[k]
        try:
            return check(value)
        except _Bad as exc:
            self.error(k, f"{show(value)} {exc}")
            return None

    def table(self, k: str, required: bool) -> Table | None:
        self.used.add(k)
        if k not in self.data:
            if required:
                self.error(k, "missing: expected a table [" + self.key(k) + "]")
            return None
        value = self.data[k]
        if not isinstance(value, dict):
            self.error(k, f"{show(value)} is not a table")
            return None
        return Table(self.errors, self.key(k), value)

    def array_of_tables(self, k: str) -> list[Table]:
        self.used.add(k)
        value = self.data.get(k)
        if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
            shown = "missing" if value is None else show(value)
            self.error(k, f"{shown}: expected one or more [[{self.key(k)}]] tables")
            return []
        return [Table(self.errors, f"{self.key(k)}[{i}]", v) for i, v in enumerate(value)]

    def finish(self) -> None:
        """Report keys nobody asked for: a typo must not pass silently."""
        for k in self.data:
            if k not in self.used:
                close = difflib.get_close_matches(k, sorted(self.used), n=1)
                hint = f'; did you mean "{close[0]}"?' if close else f" (known: {', '.join(sorted(self.used))})"
                self.error(k, f"unknown key{hint}")


def number(lo: float, hi: float, expected: str, lo_open: bool = False) -> _Check:
    def fn(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v):
            raise TypeError
        if v < lo or v > hi or (lo_open and v == lo):
            raise ValueError
        return float(v)
    return _Check(expected, fn)


def integer(lo: int, hi: int, expected: str) -> _Check:
    def fn(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise ValueError
        return v
    return _Check(expected, fn)


def choice(*options: Any, what: str | None = None) -> _Check:
    shown = ", ".join(show(o) for o in options[:-1]) + (" or " if len(options) > 1 else "") + show(options[-1])
    expected = f"{what} ({shown})" if what else shown

    def fn(v: Any) -> Any:
        if isinstance(v, bool) or v not in options or type(v) is not type(options[options.index(v)]):
            raise ValueError
        return v
    return _Check(expected, fn)


def string(expected: str) -> _Check:
    def fn(v: Any) -> str:
        if not isinstance(v, str) or not v.strip():
            raise ValueError
        return v
    return _Check(expected, fn)


def ip_address() -> _Check:
    def fn(v: Any) -> str:
        if not isinstance(v, str):
            raise ValueError
        if v != "localhost":
            ipaddress.ip_address(v)
        return v
    return _Check('an IP address to listen on, e.g. "127.0.0.1", or "0.0.0.0" for the home network', fn)


def boolean() -> _Check:
    def fn(v: Any) -> bool:
        if not isinstance(v, bool):
            raise ValueError
        return v
    return _Check("true or false", fn)


def timezone() -> _Check:
    def fn(v: Any) -> str:
        if not isinstance(v, str) or not v:
            raise ValueError
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError from None
        return v
    return _Check('an IANA time zone, e.g. "Europe/Paris"', fn)


def clock_time(allow_24: bool = False) -> _Check:
    def fn(v: Any) -> time:
        if isinstance(v, time) and v.tzinfo is None:   # TOML local time, e.g. 07:30:00 unquoted
            return v.replace(second=0, microsecond=0)
        if not isinstance(v, str) or not re.fullmatch(r"\d\d:\d\d", v):
            raise ValueError
        h, m = int(v[:2]), int(v[3:])
        if allow_24 and (h, m) == (24, 0):
            return time(0, 0)
        return time(h, m)
    return _Check('a local time "HH:MM"' + (' (up to "24:00")' if allow_24 else ""), fn)


def iso_date(first: str, last: str) -> _Check:
    def fn(v: Any) -> str:
        if isinstance(v, date) and not isinstance(v, datetime):   # TOML date, unquoted
            v = v.isoformat()
        if not isinstance(v, str) or not first <= date.fromisoformat(v).isoformat() <= last:
            raise ValueError
        return v
    return _Check(f'a date "YYYY-MM-DD" from {first} to {last}', fn)


def identifier() -> _Check:
    def fn(v: Any) -> str:
        if not isinstance(v, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", v):
            raise ValueError
        return v
    return _Check("an id of letters, digits, _ and - (1-64 characters)", fn)


def topic_prefix() -> _Check:
    def fn(v: Any) -> str:
        if not isinstance(v, str) or not v or any(c in v for c in "+#\0") or v.startswith("/") or v.endswith("/"):
            raise ValueError
        return v
    return _Check('an MQTT topic prefix without wildcards or outer slashes, e.g. "hems/v1"', fn)


def file_path(base: Path, expected: str, must_exist: bool = True) -> _Check:
    def fn(v: Any) -> Path:
        if not isinstance(v, str) or not v:
            raise ValueError
        p = (base / v).resolve()
        if must_exist and not p.is_file():
            raise _Bad(f"is not {expected} (no such file: {p})")
        return p
    return _Check(expected, fn)


def dir_path(base: Path) -> _Check:
    def fn(v: Any) -> Path:
        if not isinstance(v, str) or not v:
            raise ValueError
        p = (base / v).resolve()
        if p.exists() and not p.is_dir():
            raise _Bad(f"is not a folder (a file is in the way: {p})")
        return p
    return _Check("a folder path (relative to the config file)", fn)


def day_list(names: tuple[str, ...]) -> _Check:
    groups = {"all": names, "weekdays": names[:5], "weekend": names[5:]}

    def fn(v: Any) -> tuple[int, ...]:
        if isinstance(v, str) and v in groups:
            v = list(groups[v])
        if not isinstance(v, list) or not v or not all(isinstance(d, str) and d in names for d in v):
            raise ValueError
        return tuple(sorted({names.index(d) for d in v}))
    return _Check('"all", "weekdays", "weekend" or a list of "mon".."sun"', fn)


def week_coverage(periods: list[tuple[tuple[int, ...], time, time]], names: tuple[str, ...]) -> list[str]:
    """Problems with a set of weekly periods: each minute of the week must be in exactly one."""
    count = [0] * (7 * 1440)
    for days, start, end in periods:
        a, b = start.hour * 60 + start.minute, end.hour * 60 + end.minute
        length = (b - a) % 1440 or 1440
        for d in days:
            for m in range(d * 1440 + a, d * 1440 + a + length):
                count[m % len(count)] += 1
    problems = []
    for label, bad in (("not covered by any period", lambda c: c == 0),
                       ("covered by more than one period", lambda c: c > 1)):
        for first, last in _runs([i for i, c in enumerate(count) if bad(c)])[:3]:
            problems.append(f"{names[first // 1440]} {_hhmm(first, False)}-{_hhmm(last + 1, True)} is {label}")
    return problems


def _runs(minutes: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for m in minutes:
        if runs and runs[-1][1] == m - 1 and m % 1440:
            runs[-1] = (runs[-1][0], m)
        else:
            runs.append((m, m))
    return runs


def _hhmm(minute_of_week: int, is_end: bool) -> str:
    m = minute_of_week % 1440 or (1440 if is_end else 0)
    return f"{m // 60:02d}:{m % 60:02d}"

"""One parser per section of config.toml: site, devices, ev, tariff, web, storage, planner,
aggregator, bridge, sim. Each takes its `Table` (None when the section is absent) and returns
its dataclass, appending every problem to the shared error list.
"""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import time
from pathlib import Path

from hems.config.checks import (
    MISSING, Table, _Check, boolean, choice, clock_time, day_list, dir_path, file_path, identifier, integer,
    ip_address, iso_date, number, show, string, timezone, topic_prefix, week_coverage,
)
from hems.config.sources import PRICE_SOURCES, export_keys, formula_keys, pv_planes, source_keys
from hems.config.model import (
    ROLES, WEEKDAYS, AggregatorConfig, BridgeConfig, Departure, DeviceConfig, EvConfig, PlannerConfig,
    OcppConfig, SimConfig, SiteConfig, StorageConfig, TariffConfig, TouPeriod, WebConfig,
)

MIN_AC_CURRENT_A = 6.0
PROFILES_DIR = Path(__file__).parent.parent / "devices" / "profiles"


def known_profiles() -> tuple[str, ...]:
    """Valid device profile names, read from the profiles folder now (it grows)."""
    stems = sorted(p.stem for p in PROFILES_DIR.glob("*.toml")) if PROFILES_DIR.is_dir() else []
    return ("sunspec", *[s for s in stems if s != "sunspec"], *BRIDGE_PROFILES, "ocpp")


# Devices behind the microcontroller bridge ([bridge]): transport = "bridge".
BRIDGE_PROFILES = ("bridge_pilot", "bridge_s0")   # an AC charger via the pilot; an S0 meter

_SECTIONS = {"site": True, "devices": True, "ev": True, "tariff": True, "web": False,
             "storage": False, "planner": False, "aggregator": False, "bridge": False, "sim": False,
             "ocpp": False, "solar": False}


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
        pv_planes=pv_planes(t),
    )
    if s.pv_planes:
        s = replace(s, pv_peak_w=sum(p.peak_w or 0.0 for p in s.pv_planes))
    t.finish()
    return s


def _devices(t: Table | None, base: Path | None = None) -> tuple[DeviceConfig, ...]:
    if t is None:
        return ()
    devices = []
    for name in list(t.data):
        sub = t.table(name, True)
        if sub is not None:
            devices.append(_ocpp_device(name, sub, base or Path.cwd()) if sub.data.get("transport") == "ocpp"
                           else _device(name, sub))
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
    transport = t.get("transport", choice("tcp", "rtu", "bridge", "ocpp"))
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
    if d.profile == "ocpp":
        t.error("transport", f'{show(d.transport)} does not fit profile "ocpp" (use "ocpp" and [ocpp])')
    for key in other:
        if key in t.data:
            t.used.add(key)
            t.error(key, f"does not apply to transport \"{transport}\"")
    t.finish()
    return d


def _ocpp_device(name: str, t: Table, base: Path) -> DeviceConfig:
    """A charger that connects to hems' OCPP server ([ocpp]) with its charge point id."""
    d = DeviceConfig(
        name=name, role=t.get("role", choice("charger")),
        profile=t.get("profile", choice("ocpp")), transport=t.get("transport", choice("ocpp")),
        unit=1,
        poll_interval_s=t.get("poll_interval_s", number(0.1, 3600, "a duration in s (0.1-3600)"), 2.0),
        timeout_s=t.get("timeout_s", number(0.1, 60, "a duration in s (0.1-60)"), 3.0),
        comm_timeout_s=t.get("comm_timeout_s", number(5, 3600, "a duration in s (5-3600)"), None),
        connector=t.get("connector", integer(1, 9, "a connector number (1-9)"), None),
        evse=t.get("evse", integer(1, 9, "an EVSE number (1-9)"), None),
        charge_point_id=t.get("charge_point_id", charge_point_id()),
        password_file=t.get("password_file", file_path(base, "a readable password file"), None),
        phases=t.get("phases", choice(1, 3), None),
        rate_unit=t.get("rate_unit", choice("A", "W"), "A"),
    )
    if d.connector is not None and d.evse is not None:
        t.error("evse", "give connector (OCPP 1.6) or evse (OCPP 2.x), not both")
    t.finish()
    return d


def _ocpp(t: Table | None, base: Path) -> OcppConfig | None:
    if t is None:
        return None
    level = t.get("security_profile", choice(0, 1, 2, 3), 0)
    tls = level in (2, 3)
    path = file_path(base, "a readable file")
    o = OcppConfig(
        bind=t.get("bind", ip_address(), "0.0.0.0"),
        port=t.get("port", integer(1, 65535, "a TCP port (1-65535)"), 8887),
        security_profile=level,
        tls_cert_file=t.get("tls_cert_file", path, MISSING if tls else None),
        tls_key_file=t.get("tls_key_file", path, MISSING if tls else None),
        tls_ca_file=t.get("tls_ca_file", path, MISSING if level == 3 else None),
        heartbeat_interval_s=t.get("heartbeat_interval_s", number(10, 86400, "a duration in s (10-86400)"), 60.0),
        meter_interval_s=t.get("meter_interval_s", number(1, 900, "a duration in s (1-900)"), 10.0),
        fallback_current_a=t.get("fallback_current_a", number(0, 80, "a current in A (0-80)"), 6.0),
        id_tokens=tuple(t.get("id_tokens", token_list(), []) or ()),
        max_message_bytes=t.get("max_message_bytes", integer(4096, 16 * 2**20, "a size in bytes (4096-16777216)"),
                                65536),
    )
    if o.fallback_current_a is not None and 0 < o.fallback_current_a < MIN_AC_CURRENT_A:
        t.error("fallback_current_a", f"{show(o.fallback_current_a)} is below the 6 A AC minimum (use 0 or 6-80)")
    t.finish()
    return o


def charge_point_id():
    """OCPP identities: printable ASCII without ':' or '/', 1-48 characters (OCPP 2.0.1 limit)."""
    def fn(v):
        if not isinstance(v, str) or not re.fullmatch(r"[A-Za-z0-9_.*+|@-]{1,48}", v):
            raise ValueError
        return v
    return _Check("a charge point id of letters, digits and _.*+|@- (1-48 characters)", fn)


def token_list():
    def fn(v):
        if not isinstance(v, list) or not all(isinstance(x, str) and 0 < len(x) <= 36 for x in v):
            raise ValueError
        return v
    return _Check("a list of id tokens (strings of 1-36 characters)", fn)


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
        source = t.get("source", choice(*PRICE_SOURCES, what="a price source"), "csv")
        tariff = TariffConfig(kind, currency, source=source or "csv",
                              **source_keys(t, source, currency, base), **formula_keys(t, source), **export_keys(t))
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
                  base_port=t.get("base_port", integer(1024, 65533, "a TCP port (1024-65533)"), 15020),
                  no_soc=t.get("no_soc", boolean(), False),
                  ocpp_version=t.get("ocpp_version", choice("1.6", "2.0.1", "2.1"), "2.1"))
    t.finish()
    return s

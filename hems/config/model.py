"""The validated config: frozen dataclasses, one per section of config.toml.

Powers are W, energies Wh, shares %; times are local to `SiteConfig.timezone`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from pathlib import Path

ROLES = ("meter", "pv", "charger")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class PvPlane:
    peak_w: float                            # DC peak power of the modules on this plane
    tilt_deg: float                          # 0 = flat
    azimuth_deg: float                       # compass: 90 east, 180 south, 270 west


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
    pv_planes: tuple[PvPlane, ...] = ()      # [[site.pv_planes]]; empty: one plane from the pv_* keys

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
    charge_point_id: str | None = None       # ocpp: the id the charger connects with
    password_file: Path | None = None        # ocpp: its HTTP Basic auth password (security profile 1/2)
    evse: int | None = None                  # ocpp 2.x: the EVSE (connector on 1.6)
    phases: int | None = None                # ocpp: phases the charger uses (default: the site's)
    rate_unit: str | None = None             # ocpp: "A" or "W", the unit of its charging profiles


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
    export: str = "spot"                         # dynamic: "spot", "fixed" or "spot_minus_fee"
    # dynamic: where spot prices come from, and the tariff formula around them
    source: str = "csv"                          # csv | entsoe | energycharts | awattar | octopus | tibber
    zone: str | None = None                      # entsoe: EIC code; energycharts: bzn; awattar: de | at
    token_file: Path | None = None               # entsoe, tibber
    base_url: str | None = None                  # a proxy or a test server
    product: str | None = None                   # octopus: e.g. "AGILE-24-10-01"
    region: str | None = None                    # octopus: grid supply point group letter A..P
    home_id: str | None = None                   # tibber: which home, when the token sees several
    timeout_s: float = 20.0
    energy_tax_per_kwh: float = 0.0
    grid_fee_per_kwh: float = 0.0
    grid_fee_windows: tuple[TouPeriod, ...] = ()  # price_per_kwh = the grid fee in that window
    vat_factor: float = 1.0                      # e.g. 1.21 for 21 % VAT
    export_fee_per_kwh: float = 0.0              # export = "spot_minus_fee"


@dataclass(frozen=True)
class SolarConfig:
    source: str = "clearsky"                     # clearsky | openmeteo | forecastsolar | solcast
    base_url: str | None = None
    token_file: Path | None = None               # solcast (required), forecastsolar (optional, paid plans)
    site_id: str | None = None                   # solcast: the rooftop site's resource id
    timeout_s: float = 20.0


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
class OcppConfig:
    """[ocpp]: the local OCPP server that chargers with transport = "ocpp" connect to."""
    bind: str = "0.0.0.0"
    port: int = 8887
    security_profile: int = 0                # 0 none, 1 basic auth, 2 TLS + basic auth, 3 TLS + client cert
    tls_cert_file: Path | None = None        # profiles 2, 3: the server's certificate ...
    tls_key_file: Path | None = None         # ... and key
    tls_ca_file: Path | None = None          # profile 3: the CA of the chargers' client certificates
    heartbeat_interval_s: float = 60.0
    meter_interval_s: float = 10.0
    fallback_current_a: float = 6.0          # what a charger keeps if hems goes silent (0 = stop)
    id_tokens: tuple[str, ...] = ()          # RFID cards allowed to charge; empty = free charging
    max_message_bytes: int = 65536


@dataclass(frozen=True)
class SimConfig:
    speedup: float = 60.0
    start: str = "2024-06-03"                # ISO date within the data, 2024-03-01..2025-02-26
    seed: int = 0
    base_port: int = 15020
    no_soc: bool = False                     # the simulated charger never reports the car's SoC
    ocpp_version: str = "2.1"                # a simulated OCPP charger speaks this version


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
    ocpp: OcppConfig | None = None               # None: no OCPP server
    solar: SolarConfig = field(default_factory=SolarConfig)
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

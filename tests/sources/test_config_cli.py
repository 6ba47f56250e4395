"""The [tariff] source keys, the tariff formula, [[site.pv_planes]] and [solar] in config.toml,
and `hems prices` / `hems forecast` as an installer runs them against a local provider."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from hems.config import ConfigError, parse_config
from tests.simhome import config_dict
from tests.sources import fakes
from tests.sources.fakes import Reply

ROOT = Path(__file__).resolve().parents[2]


def errors_of(**sections) -> list[str]:
    data = config_dict()
    for name, values in sections.items():
        data[name] = values
    try:
        parse_config(data, base_dir=ROOT)
    except ConfigError as exc:
        return exc.errors
    return []


def test_a_complete_entsoe_tariff_is_valid():
    t = {"kind": "dynamic", "source": "entsoe", "zone": "10YNL----------L", "token_file": "config.toml",
         "energy_tax_per_kwh": 0.1016, "grid_fee_per_kwh": 0.05, "vat_factor": 1.21, "export": "spot_minus_fee",
         "export_fee_per_kwh": 0.02,
         "grid_fee_windows": [{"days": "all", "start": "00:00", "end": "06:00", "fee_per_kwh": 0.01}]}
    assert errors_of(tariff=t) == []


@pytest.mark.parametrize("tariff,expected", [
    ({"source": "entsoe", "zone": "NL", "token_file": "config.toml"}, 'tariff.zone: "NL" is not an EIC bidding zone code'),
    ({"source": "entsoe", "zone": "10YNL----------L"}, "tariff.token_file: missing"),
    ({"source": "entsoe", "zone": "10YNL----------L", "token_file": "nope.txt"}, "tariff.token_file:"),
    ({"source": "nordpool"}, 'tariff.source: "nordpool" is not a price source'),
    ({"source": "energycharts", "zone": "NL", "prices_csv": "config.toml"}, "tariff.prices_csv: does not apply"),
    ({"source": "awattar", "zone": "ch"}, 'tariff.zone: "ch" is not an aWATTar market ("de" or "at")'),
    ({"source": "octopus", "product": "AGILE-24-10-01", "region": "C"}, 'tariff.currency: "EUR" is not the currency'),
    ({"source": "tibber", "token_file": "config.toml", "vat_factor": 1.2}, "tariff.vat_factor: does not apply"),
    ({"source": "energycharts", "zone": "NL", "vat_factor": 21}, "tariff.vat_factor: 21 is not a VAT factor from 1 to 2"),
    ({"source": "energycharts", "zone": "NL", "base_url": "ftp://x"}, "tariff.base_url:"),
    ({"source": "energycharts", "zone": "NL", "export_fee_per_kwh": 0.01}, 'applies only with export = "spot_minus_fee"'),
    ({"source": "energycharts", "zone": "NL", "grid_fee_windows": [
        {"days": "all", "start": "00:00", "end": "08:00", "fee_per_kwh": 0.01},
        {"days": ["mon"], "start": "07:00", "end": "09:00", "fee_per_kwh": 0.02}]}, "covered by more than one period"),
    ({"source": "energycharts", "zone": "NL", "grid_fee": 0.05}, 'tariff.grid_fee: unknown key; did you mean'),
])
def test_tariff_errors_name_key_and_expected_value(tariff, expected):
    errors = errors_of(tariff={"kind": "dynamic", "currency": "EUR", **tariff})
    assert any(expected in e for e in errors), errors


def test_planes_and_solar_section():
    data = config_dict()
    data["site"] = {k: v for k, v in data["site"].items() if not k.startswith("pv_")}
    data["site"]["pv_planes"] = [{"peak_w": 3000, "tilt_deg": 30, "azimuth_deg": 90},
                                 {"peak_w": 2500, "tilt_deg": 30, "azimuth_deg": 270}]
    data["solar"] = {"source": "openmeteo"}
    cfg = parse_config(data, base_dir=ROOT)
    assert cfg.site.pv_peak_w == 5500 and len(cfg.site.pv_planes) == 2 and cfg.solar.source == "openmeteo"
    assert any("solar.site_id: missing" in e for e in errors_of(solar={"source": "solcast", "token_file": "config.toml"}))
    assert any("solar.token_file: does not apply" in e for e in errors_of(solar={"source": "openmeteo", "token_file": "config.toml"}))


def write_config(tmp_path: Path, tariff: dict, solar: dict | None = None) -> Path:
    text = (ROOT / "config.toml").read_text()
    head, rest = text.split("[tariff]", 1)
    rest = rest[rest.index("[web]"):]
    lines = ["[tariff]"] + [f"{k} = {json.dumps(v)}" for k, v in tariff.items()]
    if solar:
        lines += ["", "[solar]"] + [f"{k} = {json.dumps(v)}" for k, v in solar.items()]
    body = head + "\n".join(lines) + "\n\n" + rest.replace('data_dir = "./var"', f'data_dir = "{tmp_path}/var"')
    path = tmp_path / "config.toml"
    path.write_text(body)
    return path


def hems(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "hems.cli", *args], capture_output=True, text=True, env=env, timeout=60)


@pytest.fixture
async def provider():
    p = await fakes.Provider().start()
    yield p
    await p.stop()


async def test_hems_prices_json_on_a_dst_day_and_one_line_on_a_bad_token(provider, tmp_path):
    import asyncio
    day = date(2025, 10, 26)
    provider.reply = Reply(body=fakes.a44_day(day, lambda k: -10.0 + k), content_type="text/xml")
    (tmp_path / "token").write_text("tok")
    cfg = write_config(tmp_path, {"kind": "dynamic", "currency": "EUR", "source": "entsoe", "zone": fakes.NL,
                                  "token_file": "token", "base_url": provider.url + "/api", "vat_factor": 1.21})
    out = await asyncio.to_thread(hems, "prices", "--config", str(cfg), "--day", "2025-10-26", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    # Paris is the site's zone: 25 hours that day
    assert len(rows) == 100 and set(rows[0]) == {"start", "interval_s", "spot_per_kwh", "import_per_kwh",
                                                "export_per_kwh", "source"}
    assert rows[0]["start"] == "2025-10-25T22:00:00Z" and rows[0]["source"] == "entsoe"
    assert rows[0]["spot_per_kwh"] == pytest.approx(-0.01) and rows[0]["import_per_kwh"] == pytest.approx(-0.0121)
    unknown = fakes.NO_DATA.replace("No matching data found for Data item Day-ahead Prices [12.1.D] (10YNL----------L)",
                                    "Input parameter in_Domain is not valid")
    provider.reply = Reply(status=400, body=unknown, content_type="text/xml")
    out = await asyncio.to_thread(hems, "prices", "--config", str(cfg), "--day", "2025-10-26")
    assert out.returncode == 1 and "refused the query" in out.stderr and out.stderr.count("\n") == 1
    provider.reply = Reply(status=401, body=fakes.UNAUTHORIZED_HTML, content_type="text/html")
    out = await asyncio.to_thread(hems, "prices", "--config", str(cfg), "--day", "2025-10-26")
    assert out.returncode == 1
    assert out.stderr.strip().count("\n") == 0 and "refused the token" in out.stderr and "tok" not in out.stdout


async def test_hems_forecast_with_open_meteo_and_no_connection(provider, tmp_path):
    import asyncio
    from datetime import datetime, timezone
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    provider.reply = Reply(body=fakes.openmeteo(now - timedelta(days=1), [500.0] * (4 * 24 * 4)))
    cfg = write_config(tmp_path, {"kind": "fixed", "currency": "EUR", "import_price_per_kwh": 0.3,
                                  "export_price_per_kwh": 0.05},
                       {"source": "openmeteo", "base_url": provider.url + "/v1/forecast"})
    out = await asyncio.to_thread(hems, "forecast", "--config", str(cfg), "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert {r["pv_source"] for r in rows} == {"openmeteo"}
    assert rows[0]["pv_w"] == pytest.approx(6000 * 0.85 * 0.5) and rows[0]["source"] == "fixed"
    await provider.stop()
    out = await asyncio.to_thread(hems, "forecast", "--config", str(cfg))
    assert out.returncode == 1 and "cannot reach" in out.stderr

"""Forecasts of PV power, house load and prices: pure functions over numpy arrays.

    pv_forecast_w(times_utc, site, history_times, history_pv_w) -> W per interval
    load_forecast_w(times_utc, tz, history_times, history_load_w) -> W per interval
    price_forecast(times_utc, tariff, known_times, known_price_per_kwh, tz=...) -> (import, export) per kWh

Times are interval starts, as numpy datetime64 (UTC) or aware datetimes. See README.md.
"""
from hems.forecast.data import load_house_csv, load_prices_csv
from hems.forecast.load import default_load_profile_w, load_forecast_w
from hems.forecast.prices import (dayahead_known_until, price_forecast, price_lookup, spot_price_forecast,
                                  tou_import_price)
from hems.forecast.pv import PvSite, clear_sky_pv_w, pv_forecast_w
from hems.forecast.timeutil import as_datetime64, utc_seconds

__all__ = [
    "PvSite", "as_datetime64", "clear_sky_pv_w", "dayahead_known_until", "default_load_profile_w",
    "load_forecast_w", "load_house_csv", "load_prices_csv", "price_forecast", "price_lookup", "pv_forecast_w",
    "spot_price_forecast", "tou_import_price", "utc_seconds",
]

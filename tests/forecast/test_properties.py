"""Whatever the history looks like, forecasts are finite, non-negative and the right length."""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hems.config import TariffConfig
from hems.forecast import PvSite, load_forecast_w, price_forecast, pv_forecast_w

START = datetime(2024, 3, 20, tzinfo=timezone.utc).timestamp()
values = st.one_of(st.just(float("nan")), st.floats(0, 20_000))


@st.composite
def histories(draw):
    n = draw(st.integers(0, 400))
    step = draw(st.sampled_from([60.0, 300.0, 900.0, 1800.0, 3600.0]))
    t = START - step * np.arange(n, 0, -1)
    if draw(st.booleans()):
        t = t[draw(st.permutations(list(range(n))))] if n else t     # unsorted
    v = np.array(draw(st.lists(values, min_size=n, max_size=n)), dtype=float)
    return t, v


@settings(max_examples=60, deadline=None)
@given(histories(), st.integers(0, 200), st.floats(-60, 60), st.floats(0, 90), st.floats(0, 360))
def test_pv_and_load_forecasts_are_sane(history, n, latitude, tilt, azimuth):
    t, v = history
    future = START + 900.0 * np.arange(n)
    site = PvSite(latitude, 6.0, 5000.0, tilt, azimuth)
    pv = pv_forecast_w(future, site, t, v)
    load = load_forecast_w(future, "Europe/Paris", t, v)
    for f in (pv, load):
        assert f.shape == (n,) and np.all(np.isfinite(f)) and np.all(f >= 0)
    assert np.all(pv <= 5000.0)


@settings(max_examples=40, deadline=None)
@given(histories(), st.integers(0, 200), st.floats(0, 1))
def test_dynamic_prices_are_finite_with_any_history(history, n, markup):
    t, v = history
    spot = v / 100_000 - 0.05                                  # some negative prices too
    future = START - 3600.0 * 24 + 900.0 * np.arange(n)       # partly inside the known span
    imp, exp = price_forecast(future, TariffConfig(kind="dynamic", import_markup_per_kwh=markup), t, spot)
    assert imp.shape == exp.shape == (n,) and np.all(np.isfinite(imp)) and np.all(np.isfinite(exp))
    assert np.allclose(imp - exp, markup)

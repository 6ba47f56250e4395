"""Regulation tracking: one hour of a 2 s signal, scored the way PJM scores regulation resources.

The aggregator commits a band (7.5 kW +/- 3 kW of charging, clear of the 6 A AC minimum), then
sends a signal in [-1, 1] every 2 s for an hour. The home (tests/aggregator/rig.py: link ->
agent as `hems run` builds it -> safety clamp -> SunSpec driver -> the simulated home's
charger, which ramps to full power in 1.5 s) follows it; the
response is the charger's AC power, sampled at each signal time. Scores, as in PJM Manual 12
(performance scoring), on the 2 s samples:
  correlation  max over delays d in 0..5 min of corr(signal(t), response(t + d))
  delay        1 - d* / 5 min, d* the delay of the best correlation
  precision    1 - mean(|response(t + d*) - signal(t)|) / mean(|signal|)  (in units of the band;
               the unshifted value is printed too)
  composite    mean of the three.  Goal: composite >= 0.9.
The signal is synthetic (RegD-like: fast, energy-neutral, random phases), not PJM's own test
signal. The simulation runs on a scaled clock (--speedup) so an hour takes minutes.

    .venv/bin/python bench/regulation.py [--minutes 60] [--speedup 20]
"""
from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.aggregator.rig import AggregatorRig, RigSettings  # noqa: E402

PERIOD_S = 2.0
MAX_DELAY_S = 300.0


def regd_like_signal(n: int, seed: int = 11) -> np.ndarray:
    """Fast, roughly energy-neutral signal in [-1, 1]: random-phase sines of 1-10 min plus a
    little noise, the character of PJM's RegD."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) * PERIOD_S
    x = np.zeros(n)
    for period_s in (60, 95, 150, 240, 400, 600):
        x += rng.uniform(0.5, 1.0) * np.sin(2 * np.pi * t / period_s + rng.uniform(0, 2 * np.pi))
    x += 0.15 * rng.standard_normal(n)
    x = x / np.max(np.abs(x))
    return np.round(np.clip(x, -1, 1), 3)


def pjm_scores(signal: np.ndarray, response: np.ndarray) -> dict[str, float]:
    """Correlation, delay, precision and composite for equally spaced samples (PERIOD_S)."""
    best_corr, best_shift = -1.0, 0
    for shift in range(0, int(MAX_DELAY_S / PERIOD_S) + 1):
        a, b = signal[: len(signal) - shift], response[shift:]
        if len(a) < 10 or np.std(a) == 0 or np.std(b) == 0:
            continue
        c = float(np.corrcoef(a, b)[0, 1])
        if c > best_corr:
            best_corr, best_shift = c, shift
    delay_s = best_shift * PERIOD_S
    delay = abs((delay_s - MAX_DELAY_S) / MAX_DELAY_S)
    mean_abs = float(np.mean(np.abs(signal)))
    a, b = signal[: len(signal) - best_shift], response[best_shift:]
    precision = max(0.0, 1.0 - float(np.mean(np.abs(b - a))) / mean_abs)
    unshifted = max(0.0, 1.0 - float(np.mean(np.abs(response - signal))) / mean_abs)
    corr = max(best_corr, 0.0)
    return {"correlation": corr, "delay": delay, "delay_s": delay_s, "precision": precision,
            "precision_unshifted": unshifted, "composite": (corr + delay + precision) / 3}


async def run(minutes: float, speedup: float) -> dict[str, float]:
    n = int(minutes * 60 / PERIOD_S)
    signal = regd_like_signal(n)
    with tempfile.TemporaryDirectory() as tmp:
        home = AggregatorRig(Path(tmp), RigSettings(soc_pct=40.0, poll_interval_s=1.0,
                                                    telemetry_interval_s=600.0), speedup=speedup)
        await home.start()
        clock = home.clock
        try:
            agg = home.aggregator
            reg = await agg.send("regulation", start=clock.now(), duration_s=int(minutes * 60 + 120),
                                 band_w=3000, center_w=7500)
            if reg["status"] not in ("accepted", "modified"):
                raise SystemExit(f"regulation refused: {reg}")
            center, band = reg["delivered"]["center_w"], reg["delivered"]["band_w"]
            response = np.zeros(n)
            written = np.zeros(n)
            t0 = clock.now().timestamp()
            for k in range(n):
                next_t = t0 + k * PERIOD_S
                while clock.now().timestamp() < next_t:
                    await asyncio.sleep(max(0.0, (next_t - clock.now().timestamp()) / speedup))
                home.home.step(clock.now())
                response[k] = (home.plant.actual_w - center) / band     # before signal k acts
                r = await agg.send("regulation_signal", regulation_id=reg["in_reply_to"], signal=float(signal[k]))
                written[k] = r.get("delivered", {}).get("ev_power_w", math.nan)
            misses = int(np.sum(np.abs(written - (center + signal * band)) > 1.0))
        finally:
            await home.stop()
    scores = pjm_scores(signal, response)
    scores.update(n=n, center_w=center, band_w=band, setpoints_off=misses,
                  rmse_w=float(np.sqrt(np.mean((response - signal) ** 2))) * band)
    return scores


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--speedup", type=float, default=20.0)
    args = parser.parse_args()
    s = asyncio.run(run(args.minutes, args.speedup))
    print(f"\nRegulation tracking, {s['n']} signals every {PERIOD_S:g} s ({args.minutes:g} min), "
          f"band {s['center_w']:.0f} +/- {s['band_w']:.0f} W, clock x{args.speedup:g}")
    print(f"{'score':<20}{'value':>8}")
    for key in ("correlation", "delay", "precision", "precision_unshifted", "composite"):
        print(f"{key:<20}{s[key]:>8.3f}")
    print(f"{'best delay':<20}{s['delay_s']:>7.0f}s")
    print(f"{'rmse (unshifted)':<20}{s['rmse_w']:>7.0f}W")
    print(f"setpoints not as asked: {s['setpoints_off']} of {s['n']}")
    print(f"composite {s['composite']:.3f} (goal >= 0.9): {'met' if s['composite'] >= 0.9 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

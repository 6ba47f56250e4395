"""State-of-charge estimation error over simulated weeks (hems.control.soc_estimate).

    .venv/bin/python bench/soc_estimate.py [--weeks 20]

The simulated car (hems.devices.sim.plant) charges and discharges at random (0, 4.2, 11 kW
charging, 7 kW V2G), leaves on ~80 % of mornings for 3-10 h and 20-90 km, behind an AC charger
that never reports the SoC. At each plug-in the owner enters the level read off the car's gauge
(+-3 %). The estimator counts energy through efficiencies it only knows roughly (it assumes 92 %,
the car has 90 %). Reported: the error |estimate - true| over all polls (10 s), and how often
the true value left the estimate's own error bound (goal 0).
"""
from __future__ import annotations

import argparse
import random
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from hems.control.soc_estimate import CarBattery, SocTrack, entered, observe
from hems.devices.sim.plant import CarSpec, ChargePoint, ChargerSpec
from hems.domain import ChargerReading, ChargerState

T0 = datetime(2024, 6, 3, tzinfo=timezone.utc)


def _reading(at: datetime, power_w: float, soc: float | None = None, state: ChargerState | None = None):
    if state is None:
        state = ChargerState.CHARGING if power_w > 0 else (
            ChargerState.DISCHARGING if power_w < 0 else ChargerState.CONNECTED)
    return ChargerReading(at=at, ev_power_w=power_w, state=state, soc_pct=soc)


@dataclass
class WeekResult:
    errors_pct: list[float]
    bound_pct: list[float]
    outside: int


def simulate_week(seed: int, car_eff: float = 0.90, assumed_eff: float = 0.92, poll_s: float = 10.0,
                  gauge_error_pct: float = 3.0) -> WeekResult:
    rng = random.Random(seed)
    car = CarSpec(charge_efficiency=car_eff, discharge_efficiency=car_eff)
    plant = ChargePoint(ChargerSpec(phases=3, max_current_a=16, reports_soc=False), car, soc_pct=55.0)
    battery = CarBattery(capacity_wh=car.capacity_wh, charge_efficiency=assumed_eff,
                         discharge_efficiency=assumed_eff)
    at = T0
    plant.advance(at)

    def gauge() -> float:
        return min(100.0, max(0.0, plant.soc_pct + rng.uniform(-gauge_error_pct, gauge_error_pct)))

    track = entered(SocTrack(), gauge(), at, battery)
    result = WeekResult([], [], 0)
    end = T0 + timedelta(days=7)
    while at < end:
        if at.hour == 7 and at.minute == 0 and at.second == 0 and rng.random() < 0.8:
            plant.unplug()
            track = observe(track, _reading(at, 0.0, state=ChargerState.NO_CAR), battery)
            plant.drive(rng.uniform(20, 90))
            at += timedelta(hours=rng.uniform(3, 10))
            at -= timedelta(seconds=at.second, microseconds=at.microsecond)
            plant.advance(at)
            plant.plug()
            track = entered(track, gauge(), at, battery)
        if at.minute == 0 and at.second == 0:
            plant.command(rng.choice([0.0, 0.0, 11_000.0, 4_200.0, -7_000.0]))
        at += timedelta(seconds=poll_s)
        plant.advance(at)
        track = observe(track, _reading(at, plant.actual_w, soc=plant.reported_soc_pct), battery)
        if track.known is not None:
            err = abs(track.known.soc_pct - plant.soc_pct)
            result.errors_pct.append(err)
            result.bound_pct.append(track.known.error_pct)
            result.outside += err > track.known.error_pct + 1e-6
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weeks", type=int, default=20)
    args = p.parse_args()
    print(f"{'week':>4} {'samples':>8} {'mean err %':>10} {'p95 err %':>9} {'max err %':>9} "
          f"{'mean bound %':>12} {'outside bound':>13}")
    all_err, all_out = [], 0
    for seed in range(args.weeks):
        r = simulate_week(seed)
        e = sorted(r.errors_pct)
        all_err += e
        all_out += r.outside
        print(f"{seed:>4} {len(e):>8} {statistics.fmean(e):>10.2f} {e[int(0.95 * len(e))]:>9.2f} "
              f"{e[-1]:>9.2f} {statistics.fmean(r.bound_pct):>12.2f} {r.outside:>13}")
    all_err.sort()
    print(f"{'all':>4} {len(all_err):>8} {statistics.fmean(all_err):>10.2f} "
          f"{all_err[int(0.95 * len(all_err))]:>9.2f} {all_err[-1]:>9.2f} {'':>12} {all_out:>13}")


if __name__ == "__main__":
    main()

"""Per-minute aggregation of site states, in memory: pure bookkeeping, no I/O."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from hems.domain import SiteState

# Columns averaged over a minute (W), in table order.
MEAN_COLUMNS = ("grid_w", "import_w", "export_w", "pv_w", "ev_w", "ev_charge_w", "ev_discharge_w", "load_w")
ROW_COLUMNS = ("minute", "n", *MEAN_COLUMNS, "soc_pct", "cost")

PriceFn = Callable[[datetime], "tuple[float, float] | None"]   # -> (import, export) per kWh


def sample_of(state: SiteState) -> dict[str, float]:
    """The powers a state reports, by column; a missing device gives no value, not zero."""
    s: dict[str, float] = {}
    if state.meter is not None:
        g = float(state.meter.grid_power_w)
        s.update(grid_w=g, import_w=max(g, 0.0), export_w=max(-g, 0.0))
    if state.pv is not None:
        s["pv_w"] = float(state.pv.pv_power_w)
    if state.charger is not None:
        e = float(state.charger.ev_power_w)
        s.update(ev_w=e, ev_charge_w=max(e, 0.0), ev_discharge_w=max(-e, 0.0))
    load = state.load_w
    if load is not None:
        s["load_w"] = float(load)
    if state.charger is not None and state.charger.soc_pct is not None:
        s["soc_pct"] = float(state.charger.soc_pct)
    return s


@dataclass
class MinuteAccumulator:
    """Sums for one UTC minute."""
    minute: int                                    # unix seconds of the minute's start
    n: int = 0
    sums: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    soc_pct: float | None = None

    def add(self, sample: dict[str, float]) -> None:
        self.n += 1
        for k in MEAN_COLUMNS:
            if k in sample:
                self.sums[k] = self.sums.get(k, 0.0) + sample[k]
                self.counts[k] = self.counts.get(k, 0) + 1
        if "soc_pct" in sample:
            self.soc_pct = sample["soc_pct"]

    def row(self, prices: tuple[float, float] | None) -> tuple:
        """(minute, n, means..., soc_pct, cost); cost of the minute's grid exchange if priced."""
        means = {k: self.sums[k] / self.counts[k] for k in self.sums}
        cost = None
        if prices is not None and "import_w" in means:
            import_kwh = means["import_w"] / 1000 / 60
            export_kwh = means["export_w"] / 1000 / 60
            cost = import_kwh * prices[0] - export_kwh * prices[1]
        return (self.minute, self.n, *[means.get(k) for k in MEAN_COLUMNS], self.soc_pct, cost)


def minute_of(at: datetime) -> int:
    ts = at.timestamp()
    return int(ts - ts % 60)

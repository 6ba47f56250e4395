"""Settlement: metered EV energy per interval of an event against the baseline.

The baseline is the plan in force when the event was accepted (what the home would have done
without it), kept per plan interval. Measurements are integrated sample-and-hold; a gap longer
than `max_gap_s` (agent down, stale data) is not metered and shows as less `metered_s`.
Energies in kWh; EV + = charging; delivered = metered - baseline.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hems.aggregator.ledger import EventRecord
from hems.aggregator.messages import format_time, parse_time

WH_PER_WS = 1.0 / 3600.0


@dataclass
class EventMeter:
    """Integrates (ev_w, grid_w) samples into Wh per baseline interval k of one event."""
    record: EventRecord
    per_k: dict[int, list[float]] = field(default_factory=dict)   # k -> [ev_wh, grid_wh, metered_s]
    max_gap_s: float = 30.0
    _last: tuple[datetime, float, float] | None = None

    @property
    def base_start(self) -> datetime:
        return parse_time(self.record.baseline["start"])

    @property
    def interval_s(self) -> int:
        return int(self.record.baseline["interval_s"])

    def end(self) -> datetime:
        rec = self.record
        return min(rec.end, rec.cancelled_at) if rec.cancelled_at else rec.end

    def add(self, at: datetime, ev_w: float | None, grid_w: float | None) -> None:
        """One measurement; None values break the integration (not metered)."""
        last, self._last = self._last, (at, ev_w, grid_w) if ev_w is not None and grid_w is not None else None
        if last is None or at <= last[0] or (at - last[0]).total_seconds() > self.max_gap_s:
            return
        self._integrate(last[0], at, last[1], last[2])

    def _integrate(self, t0: datetime, t1: datetime, ev_w: float, grid_w: float) -> None:
        t0, t1 = max(t0, self.record.start), min(t1, self.end())
        step = timedelta(seconds=self.interval_s)
        while t0 < t1:
            k = int((t0 - self.base_start) // step)
            k_end = self.base_start + (k + 1) * step
            seg_end = min(t1, k_end)
            dt_s = (seg_end - t0).total_seconds()
            acc = self.per_k.setdefault(k, [0.0, 0.0, 0.0])
            acc[0] += ev_w * dt_s * WH_PER_WS
            acc[1] += grid_w * dt_s * WH_PER_WS
            acc[2] += dt_s
            t0 = seg_end

    def snapshot(self) -> dict[int, tuple[float, float, float]]:
        return {k: (v[0], v[1], v[2]) for k, v in self.per_k.items()}

    @classmethod
    def restore(cls, record: EventRecord, saved: dict[int, tuple[float, float, float]]) -> "EventMeter":
        return cls(record=record, per_k={k: list(v) for k, v in saved.items()})


def settlement_message(meter: EventMeter, site_id: str, seq: int, now: datetime) -> dict[str, Any]:
    """The settlement.v1 message of a finished (or cancelled) event."""
    rec = meter.record
    start, end = rec.start, meter.end()
    step = timedelta(seconds=meter.interval_s)
    base_ev_w = rec.baseline["ev_w"]
    k0 = int((start - meter.base_start) // step)
    k1 = int(((end - meter.base_start) - timedelta(microseconds=1)) // step)
    fixed = rec.min_ev_w == rec.max_ev_w and rec.kind == "event"
    intervals = []
    for k in range(k0, k1 + 1):
        i_start = max(start, meter.base_start + k * step)
        i_end = min(end, meter.base_start + (k + 1) * step)
        duration_s = (i_end - i_start).total_seconds()
        if duration_s <= 0:
            continue
        ev_wh, grid_wh, metered_s = meter.per_k.get(k, (0.0, 0.0, 0.0))
        base_w = float(base_ev_w[k]) if 0 <= k < len(base_ev_w) else 0.0
        # the baseline counts over the metered part only, so gaps do not look like delivery
        baseline_wh = base_w * metered_s * WH_PER_WS
        intervals.append({
            "start": format_time(i_start), "duration_s": round(duration_s, 3),
            "ev_kwh": round(ev_wh / 1000, 4), "baseline_ev_kwh": round(baseline_wh / 1000, 4),
            "delivered_kwh": round((ev_wh - baseline_wh) / 1000, 4),
            "committed_kwh": round(rec.min_ev_w * duration_s * WH_PER_WS / 1000, 4) if fixed else None,
            "grid_kwh": round(grid_wh / 1000, 4), "metered_s": round(metered_s, 1),
        })
    total = {key: round(sum(i[key] for i in intervals), 4)
             for key in ("ev_kwh", "baseline_ev_kwh", "delivered_kwh", "grid_kwh")}
    return {"v": 1, "kind": "settlement", "site_id": site_id, "seq": seq, "issued_at": format_time(now),
            "event_id": rec.event_id, "event_kind": rec.kind, "start": format_time(start),
            "end": format_time(end), "cancelled": rec.cancelled_at is not None,
            "intervals": intervals, "total": total}

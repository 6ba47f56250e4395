"""Accept, modify or reject an aggregator request: a pure function of the request, the envelope
and the limits (the owner's rule; hems.control.commitments holds what was accepted).

The owner wins: the home only commits to EV power the planner's flexibility envelope allows
(the departure target and the reserve stay feasible) and the charger can do. Powers in W,
+ = charging the car. One constant EV power band is committed per event window; if no constant
band fits the whole window, the window is shortened to the part that fits (modified).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np

from hems.domain import Commitment

EPS_W = 1.0
MIN_BAND_W = 100.0


@dataclass(frozen=True)
class Flex:
    """The envelope seen by arbitration, per plan interval (all arrays the same length)."""
    start: datetime
    interval_s: int
    baseline_ev_w: np.ndarray     # the plan without the event
    up_w: np.ndarray              # >= 0: how much more the EV could charge
    down_w: np.ndarray            # >= 0: how much less it could charge / more discharge
    rest_grid_w: np.ndarray       # baseline grid power minus EV power (house - PV)
    soc_pct: np.ndarray | None = None       # plan SoC at boundaries (n + 1)
    soc_min_pct: np.ndarray | None = None   # lowest SoC from which every target stays reachable

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.interval_s * len(self.baseline_ev_w))


@dataclass(frozen=True)
class HomeLimits:
    max_charge_w: float
    max_discharge_w: float        # positive magnitude
    min_charge_w: float           # AC minimum (6 A); 0 = none
    reserve_pct: float
    soc_pct: float | None
    plugged: bool
    capacity_wh: float | None = None        # with the corridor: check SoC over the whole window
    efficiency: float = 0.9
    min_discharge_w: float = 0.0            # AC minimum when discharging (positive); 0 = none
    max_import_w: float = math.inf          # the site's live limits (only to say which rule binds)
    max_export_w: float = math.inf


@dataclass(frozen=True)
class Request:
    id: str
    kind: str                     # "event" | "regulation"
    start: datetime
    end: datetime
    priority: int = 0
    target_w: float | None = None
    import_limit_w: float | None = None
    export_limit_w: float | None = None
    band_w: float | None = None
    center_w: float | None = None
    supersedes: tuple[str, ...] = ()        # ids the aggregator says this request replaces
    signal_interval_s: float = 2.0          # regulation: how often signals come


@dataclass(frozen=True)
class Decision:
    status: str                   # "accepted" | "modified" | "rejected"
    code: str                     # "ok" or why it was modified/rejected
    reason: str
    start: datetime | None = None
    end: datetime | None = None
    min_ev_w: float | None = None
    max_ev_w: float | None = None
    center_w: float | None = None
    band_w: float | None = None
    superseded: tuple[str, ...] = ()        # earlier commitments this one ended (to settle)

    def commitment(self, request: Request) -> Commitment:
        assert self.status != "rejected" and self.start and self.end
        return Commitment(id=request.id, start=self.start, end=self.end, min_ev_w=float(self.min_ev_w),
                          max_ev_w=float(self.max_ev_w), priority=request.priority)


def reject(code: str, reason: str) -> Decision:
    return Decision("rejected", code, reason)


def arbitrate(req: Request, flex: Flex | None, limits: HomeLimits, now: datetime) -> Decision:
    """The home's answer to one event or regulation request."""
    start = max(req.start, now)
    if req.end <= start:
        return reject("over", f"the window ended at {req.end:%H:%M:%S} UTC")
    if flex is None:
        return reject("no_plan", "the home has no plan yet, so it cannot promise flexibility")
    if start <= now and not limits.plugged:
        return reject("unplugged", "no car is plugged in")
    if start >= flex.end:
        return reject("beyond_horizon", f"the window starts after the plan horizon ({flex.end:%Y-%m-%d %H:%M} UTC)")
    notes: list[str] = []
    end = req.end
    if end > flex.end:
        end = flex.end
        notes.append(f"window shortened to the plan horizon ({flex.end:%H:%M} UTC)")
    lo, hi = interval_bounds(flex, limits, now)
    k0 = _index(flex, start)
    k_end = _index(flex, end - timedelta(microseconds=1)) + 1
    if req.kind == "event" and req.target_w is not None:
        decision, k_fit = _target_event(req, flex, lo, hi, k0, k_end, limits)
        if k_fit == k0:
            return decision
    else:
        band_lo, band_hi, k_fit = -math.inf, math.inf, k0
        for k in range(k0, k_end):
            if max(band_lo, lo[k]) > min(band_hi, hi[k]) + 1e-9 or not _fits(req, flex, k, lo[k], hi[k]):
                break
            band_lo, band_hi, k_fit = max(band_lo, lo[k]), min(band_hi, hi[k]), k + 1
        if k_fit == k0:
            return reject(*_why_not(req, flex, limits, lo[k0], hi[k0], k0))
        if req.kind == "regulation":
            decision = _regulation(req, flex, k0, k_fit, band_lo, band_hi, limits)
        else:
            decision = _limits_event(req, flex, k0, k_fit, band_lo, band_hi, limits)
    if k_fit < k_end:
        end = flex.start + timedelta(seconds=flex.interval_s * k_fit)
        notes.append(f"window shortened to end at {end:%H:%M} UTC: later intervals cannot hold it")
    if decision.status == "rejected":
        return decision
    if notes and decision.status == "accepted":
        decision = replace(decision, status="modified", code="window")
    reason = "; ".join([decision.reason] + notes) if notes else decision.reason
    return replace(decision, start=start, end=end, reason=reason)


def interval_bounds(flex: Flex, limits: HomeLimits, now: datetime) -> tuple[np.ndarray, np.ndarray]:
    """Feasible EV power per interval: the envelope cut by the charger and the reserve now."""
    lo = np.maximum(flex.baseline_ev_w - flex.down_w, -limits.max_discharge_w)
    hi = np.minimum(flex.baseline_ev_w + flex.up_w, limits.max_charge_w)
    k_now = _index(flex, now) if flex.start <= now < flex.end else None
    if k_now is not None and (limits.soc_pct is None or limits.soc_pct <= limits.reserve_pct):
        lo = lo.copy()
        lo[k_now] = max(lo[k_now], 0.0)
    return lo, hi


def _index(flex: Flex, when: datetime) -> int:
    k = int((when - flex.start).total_seconds() // flex.interval_s)
    return min(max(k, 0), len(flex.baseline_ev_w) - 1)


def _limit_band(req: Request, flex: Flex, k: int) -> tuple[float, float]:
    """EV power range that keeps the site's grid power within the event's limits in interval k."""
    rest_w = float(flex.rest_grid_w[k])
    lo = -req.export_limit_w - rest_w if req.export_limit_w is not None else -math.inf
    hi = req.import_limit_w - rest_w if req.import_limit_w is not None else math.inf
    return lo, hi


def _fits(req: Request, flex: Flex, k: int, lo: float, hi: float) -> bool:
    """Can interval k deliver something useful for this request at all?"""
    if req.kind == "regulation":
        return hi - lo >= MIN_BAND_W
    if req.target_w is not None:
        return True  # a target is clamped into the band; judged as a whole later
    want_lo, want_hi = _limit_band(req, flex, k)
    return want_lo <= hi and want_hi >= lo


def _target_event(req: Request, flex: Flex, lo: np.ndarray, hi: np.ndarray, k0: int, k_end: int,
                  limits: HomeLimits) -> tuple[Decision, int]:
    """Hold one power: the target cut to what the first interval allows, for as long as it fits."""
    target = float(req.target_w)
    power = _snap_ac_min(min(max(target, lo[k0]), hi[k0]), lo[k0], hi[k0], limits)
    code, why = _binding(target, lo[k0], hi[k0], limits, float(flex.rest_grid_w[k0]))
    if power is None or (target < -EPS_W and power >= 0) or (target > EPS_W and power <= 0):
        return reject(code, f"cannot deliver {target:.0f} W: {why}"), k0
    k_fit = k0
    while k_fit < k_end and lo[k_fit] - 1e-9 <= power <= hi[k_fit] + 1e-9:
        k_fit += 1
    k_soc = _soc_fit(flex, limits, power, k0, k_fit)
    if k_soc == k0:
        return reject("departure", f"holding {power:.0f} W would leave too little charge for the "
                      "departure target or the reserve"), k0
    k_fit = k_soc
    if abs(power - target) <= EPS_W:
        return Decision("accepted", "ok", f"holding {target:.0f} W", min_ev_w=target, max_ev_w=target), k_fit
    return Decision("modified", code, f"can deliver {power:.0f} W, not {target:.0f} W: {why}",
                    min_ev_w=power, max_ev_w=power), k_fit


def _soc_fit(flex: Flex, limits: HomeLimits, power_w: float, k0: int, k1: int) -> int:
    """First interval in k0..k1 whose end SoC, holding power_w from k0 on, leaves the
    corridor (the envelope's per-interval bounds do not add up over a long window)."""
    if flex.soc_pct is None or flex.soc_min_pct is None or not limits.capacity_wh:
        return k1
    dt_h = flex.interval_s / 3600.0
    shift_pct = 0.0
    for k in range(k0, k1):
        dev_wh = (power_w - float(flex.baseline_ev_w[k])) * dt_h
        dev_wh = dev_wh * limits.efficiency if dev_wh > 0 else dev_wh / limits.efficiency
        shift_pct += 100.0 * dev_wh / limits.capacity_wh
        soc = float(flex.soc_pct[k + 1]) + shift_pct
        if soc < float(flex.soc_min_pct[k + 1]) - 0.05 or soc > 100.0 + 0.05:
            return k
    return k1


def _limits_event(req: Request, flex: Flex, k0: int, k1: int, lo: float, hi: float,
                  limits: HomeLimits) -> Decision:
    want_lo, want_hi = -math.inf, math.inf
    for k in range(k0, k1):
        k_lo, k_hi = _limit_band(req, flex, k)
        want_lo, want_hi = max(want_lo, k_lo), min(want_hi, k_hi)
    min_ev = max(lo, min(want_lo, hi))
    max_ev = min(hi, max(want_hi, lo))
    if 0 < min_ev < limits.min_charge_w and limits.min_charge_w <= max_ev:
        min_ev = limits.min_charge_w  # a charge below the AC minimum would be written as 0
    if -limits.min_discharge_w < max_ev < 0 and -limits.min_discharge_w >= min_ev:
        max_ev = -limits.min_discharge_w   # likewise a small discharge
    if want_lo > want_hi:
        return reject("conflict", "the import and export limits cannot both hold with the expected house load and PV")
    if want_hi >= lo - EPS_W and want_lo <= hi + EPS_W:
        return Decision("accepted", "ok", "keeping the site within the limits",
                        min_ev_w=min_ev, max_ev_w=max_ev)
    target = want_hi if want_hi < lo else want_lo
    code, why = _binding(target, lo, hi, limits, float(flex.rest_grid_w[k0]))
    return Decision("modified", code, f"can hold the EV within {min_ev:.0f}..{max_ev:.0f} W only: {why}",
                    min_ev_w=min_ev, max_ev_w=max_ev)


def _regulation(req: Request, flex: Flex, k0: int, k1: int, lo: float, hi: float,
                limits: HomeLimits) -> Decision:
    band = float(req.band_w or 0.0)
    if req.center_w is not None:
        center = min(max(float(req.center_w), lo), hi)
    else:
        center = _choose_center(float(np.mean(flex.baseline_ev_w[k0:k1])), band, lo, hi, limits)
    band_eff = max(0.0, min(band, center - lo, hi - center))
    if band_eff < MIN_BAND_W:
        return reject("no_band", f"only {band_eff:.0f} W of band is free around {center:.0f} W "
                      f"(feasible {lo:.0f}..{hi:.0f} W)")
    decision = Decision("accepted", "ok", f"following the signal within {center:.0f} +/- {band_eff:.0f} W",
                        min_ev_w=center - band_eff, max_ev_w=center + band_eff,
                        center_w=center, band_w=band_eff)
    moved = req.center_w is not None and abs(center - req.center_w) > EPS_W
    if band_eff < band - EPS_W or moved:
        if moved:
            blocked = float(req.center_w)
        else:
            blocked = center - band if center - band < lo else center + band
        code, why = _binding(blocked, lo, hi, limits, float(flex.rest_grid_w[k0]))
        asked = req.center_w if req.center_w is not None else center
        decision = replace(decision, status="modified", code=code,
                           reason=f"{decision.reason} (asked {asked:.0f} +/- {band:.0f} W): {why}")
    return decision


def _choose_center(base_w: float, band_w: float, lo: float, hi: float, limits: HomeLimits) -> float:
    """A band centre near the plan whose whole band avoids the AC dead zone (between the
    discharge and the charge minimum, where the charger can only give 0 W) if one fits."""
    regions = [(max(lo, limits.min_charge_w), hi), (lo, min(hi, -limits.min_discharge_w))]
    fits = [(r_lo + band_w, r_hi - band_w) for r_lo, r_hi in regions if r_hi - r_lo >= 2 * band_w]
    if limits.min_charge_w <= 0 and limits.min_discharge_w <= 0 or not fits:
        return min(max(base_w, lo + band_w), hi - band_w) if hi - lo >= 2 * band_w else (lo + hi) / 2
    return min((min(max(base_w, c_lo), c_hi) for c_lo, c_hi in fits), key=lambda c: abs(c - base_w))


def _snap_ac_min(power: float, lo: float, hi: float, limits: HomeLimits) -> float | None:
    """AC power is 0 or at least the minimum each way: snap a small charge or discharge to the
    nearer feasible end (None when neither 0 nor the minimum is feasible)."""
    if 0 < power < limits.min_charge_w:
        can_min, can_zero = limits.min_charge_w <= hi, lo <= 0
        if can_min and (power >= limits.min_charge_w / 2 or not can_zero):
            return limits.min_charge_w
        return 0.0 if can_zero else None
    if -limits.min_discharge_w < power < 0:
        can_min, can_zero = -limits.min_discharge_w >= lo, hi >= 0
        if can_min and (power <= -limits.min_discharge_w / 2 or not can_zero):
            return -limits.min_discharge_w
        return 0.0 if can_zero else None
    return power


def _binding(wanted: float, lo: float, hi: float, limits: HomeLimits, rest_w: float = 0.0) -> tuple[str, str]:
    """Which rule stops `wanted` (W): a code and words for the owner and the aggregator.
    rest_w: the grid power of the house and PV (W, + import) where it binds."""
    if wanted < lo:
        if lo >= 0 and (limits.soc_pct is None or limits.soc_pct <= limits.reserve_pct):
            return "reserve", (f"the car is at or below the owner's reserve of {limits.reserve_pct:.0f} %"
                               if limits.soc_pct is not None else "the car's state of charge is unknown")
        if lo <= -limits.max_discharge_w + EPS_W:
            return "charger", f"the charger discharges at most {limits.max_discharge_w:.0f} W"
        if lo <= -limits.max_export_w - rest_w + EPS_W:
            return "site", f"the site may export at most {limits.max_export_w:.0f} W"
        return "departure", (f"the departure target and the {limits.reserve_pct:.0f} % reserve allow "
                             f"at least {lo:.0f} W in this window")
    if wanted > hi:
        if hi >= limits.max_charge_w - EPS_W:
            return "charger", f"the charger charges at most {limits.max_charge_w:.0f} W"
        if hi >= limits.max_import_w - rest_w - EPS_W:
            return "site", f"the site may import at most {limits.max_import_w:.0f} W"
        return "full", f"the car can take at most {hi:.0f} W in this window (plan and battery limits)"
    return "ac_minimum", (f"AC power is 0 or at least {limits.min_charge_w:.0f} W charging / "
                          f"{limits.min_discharge_w:.0f} W discharging")


def _why_not(req: Request, flex: Flex, limits: HomeLimits, lo: float, hi: float, k: int) -> tuple[str, str]:
    if req.kind == "regulation":
        return "no_band", f"no regulation band is free now (feasible {lo:.0f}..{hi:.0f} W)"
    want_lo, want_hi = _limit_band(req, flex, k)
    target = want_hi if want_hi < lo else want_lo
    code, why = _binding(target, lo, hi, limits, float(flex.rest_grid_w[k]))
    return code, f"cannot keep the site within the limits: {why}"


def conflicts(req: Request, active: list[Commitment], start: datetime, end: datetime,
              ) -> tuple[list[Commitment], list[Commitment]]:
    """(blocking, superseded): overlapping commitments of higher priority block the request;
    those of equal or lower priority are superseded by it."""
    blocking, superseded = [], []
    for c in active:
        if c.id == req.id or c.end <= start or c.start >= end or c.priority < 0:
            continue
        (blocking if c.priority > req.priority else superseded).append(c)
    return blocking, superseded

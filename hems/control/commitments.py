"""What the home has promised the aggregator, held in one place: accepted events and regulation
bands, the latest regulation signals, and the aggregator's default control.

`CommitmentBook.offer()` arbitrates a request (hems.control.arbitration) against the plan's
envelope and the live limits and keeps what it accepted; `bounds(now)` gives the loop the EV
power bounds in force (a regulation band narrowed to its latest signal, the band centre when the
signals stop, the default control refreshed from the present house load and PV).
Powers in W, + = charging the car.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np

from hems.control.api import Refused
from hems.control.arbitration import Decision, Flex, HomeLimits, Request, arbitrate, conflicts
from hems.control.decide import CarLimits
from hems.control.safety import SafetyLimits
from hems.domain import Commitment, Envelope, Plan, Preferences, SiteState

log = logging.getLogger(__name__)

DEFAULT_ID = "default"
DEFAULT_WINDOW = timedelta(hours=24)     # refreshed long before it ends
DEFAULT_HYSTERESIS_W = 200.0             # the default's bounds move only for larger changes
SIGNAL_TIMEOUT_INTERVALS = 3.0           # silent this many signal intervals: hold the band centre


@dataclass
class _Regulation:
    interval_s: float
    last: datetime                       # when the latest signal came (or the band was accepted)
    signal: float | None = None          # latest signal in [-1, 1]
    held: bool = False                   # holding the centre: the signals stopped


class CommitmentBook:
    def __init__(self) -> None:
        self._commitments: dict[str, Commitment] = {}
        self._regulation: dict[str, _Regulation] = {}
        self._default: tuple[float | None, float | None] | None = None    # import, export limits

    @property
    def commitments(self) -> tuple[Commitment, ...]:
        return tuple(self._commitments.values())

    def expire(self, now: datetime) -> None:
        for cid in [k for k, c in self._commitments.items() if c.end <= now]:
            self._drop(cid)

    def offer(self, req: Request, flex: Flex | None, limits: HomeLimits, now: datetime) -> Decision:
        """Arbitrate and, unless rejected, keep the commitment. Ids named in `supersedes` end
        first in any case; overlapping ones of equal or lower priority end on acceptance."""
        ended = [old for old in req.supersedes if old != req.id and self._drop(old)]
        active = [c for c in self._commitments.values() if c.id != DEFAULT_ID]
        blocking, superseded = conflicts(req, active, max(req.start, now), req.end)
        if blocking:
            ids = ", ".join(c.id for c in blocking)
            return Decision("rejected", "conflict", f"overlaps {ids} of higher priority", superseded=tuple(ended))
        decision = arbitrate(req, flex, limits, now)
        if decision.status == "rejected":
            return replace(decision, superseded=tuple(ended))
        commitment = decision.commitment(req)
        known = commitment.id in self._commitments
        self._commitments[commitment.id] = commitment
        if req.kind == "regulation":
            self._regulation[commitment.id] = _Regulation(float(req.signal_interval_s), now)
        (log.debug if known else log.info)("commitment %s accepted: %.0f..%.0f W %s..%s", commitment.id,
                                           commitment.min_ev_w, commitment.max_ev_w, commitment.start,
                                           commitment.end)
        for c in superseded:                   # the new one wins at equal priority
            self._drop(c.id)
        note = f"; supersedes {', '.join(c.id for c in superseded)}" if superseded else ""
        return replace(decision, reason=decision.reason + note,
                       superseded=tuple(ended) + tuple(c.id for c in superseded))

    def resume(self, commitment: Commitment, regulation: bool, now: datetime) -> None:
        self._commitments[commitment.id] = commitment
        if regulation:
            self._regulation[commitment.id] = _Regulation(2.0, now)

    def cancel(self, commitment_id: str) -> bool:
        return self._drop(commitment_id)

    def signal(self, commitment_id: str, value: float, now: datetime) -> None:
        c, reg = self._commitments.get(commitment_id), self._regulation.get(commitment_id)
        if c is None or reg is None:
            raise Refused("unknown_id", f"no accepted regulation {commitment_id!r}")
        if now < c.start:
            raise Refused("not_started", f"regulation {commitment_id} starts at {c.start:%Y-%m-%dT%H:%M:%SZ}")
        if now >= c.end:
            raise Refused("over", f"regulation {commitment_id} ended at {c.end:%Y-%m-%dT%H:%M:%SZ}")
        reg.signal, reg.last, reg.held = max(-1.0, min(1.0, float(value))), now, False

    def set_default(self, import_limit_w: float | None, export_limit_w: float | None) -> str:
        """The default control; both None clears it (and its bound) at once."""
        if import_limit_w is None and export_limit_w is None:
            self._default = None
            self._commitments.pop(DEFAULT_ID, None)
            return "default control cleared"
        self._default = (import_limit_w, export_limit_w)
        self._commitments.pop(DEFAULT_ID, None)      # recomputed from the next state
        parts = [f"import <= {import_limit_w:.0f} W" if import_limit_w is not None else "",
                 f"export <= {export_limit_w:.0f} W" if export_limit_w is not None else ""]
        return f"default control: {', '.join(x for x in parts if x)} when no event overrides it"

    def refresh_default(self, state: SiteState | None, limits: SafetyLimits, now: datetime) -> bool:
        """The default control as a lowest-priority commitment, from the present house load and
        PV (events override it while they run). True when its bounds changed (replan)."""
        if self._default is None or state is None or state.meter is None or state.charger is None:
            return False
        rest_w = state.meter.grid_power_w - state.charger.ev_power_w
        imp, exp = self._default
        hi = imp - rest_w if imp is not None else float(limits.max_charge_w)
        lo = -exp - rest_w if exp is not None else -float(limits.max_discharge_w)
        hi = max(min(hi, float(limits.max_charge_w)), lo)
        old = self._commitments.get(DEFAULT_ID)
        if old is not None and abs(old.min_ev_w - lo) < DEFAULT_HYSTERESIS_W \
                and abs(old.max_ev_w - hi) < DEFAULT_HYSTERESIS_W and old.end - now > DEFAULT_WINDOW / 2:
            return False
        self._commitments[DEFAULT_ID] = Commitment(DEFAULT_ID, now, now + DEFAULT_WINDOW, lo, hi, -1)
        return True

    def bounds(self, now: datetime) -> list[Commitment]:
        """Commitments as bounds; a regulation commitment follows its latest signal in its band,
        and holds the band centre when the signals stopped."""
        out = []
        for c in self._commitments.values():
            reg = self._regulation.get(c.id)
            if reg is None:
                out.append(c)
                continue
            silent_s = (now - reg.last).total_seconds()
            if c.start <= now and silent_s > SIGNAL_TIMEOUT_INTERVALS * reg.interval_s and not reg.held:
                reg.held = True
                log.warning("no regulation signal for %s for %.0f s: holding the band centre", c.id, silent_s)
            if reg.signal is None and not reg.held:
                out.append(c)
                continue
            signal = 0.0 if reg.held else reg.signal
            mid_w, half_w = (c.min_ev_w + c.max_ev_w) / 2.0, (c.max_ev_w - c.min_ev_w) / 2.0
            out.append(replace(c, min_ev_w=mid_w + signal * half_w, max_ev_w=mid_w + signal * half_w))
        return out

    def _drop(self, commitment_id: str) -> bool:
        self._regulation.pop(commitment_id, None)
        return self._commitments.pop(commitment_id, None) is not None


def flex_view(plan: Plan | None, envelope: Envelope | None) -> Flex | None:
    """The planner's envelope around the plan, as arbitration reads it."""
    if plan is None or envelope is None:
        return None
    base = np.asarray(plan.ev_w, dtype=float)
    n = len(base)
    lo = np.asarray(envelope.ev_min_w, dtype=float)[:n]
    hi = np.asarray(envelope.ev_max_w, dtype=float)[:n]
    if len(lo) != n or len(hi) != n:
        return None
    return Flex(start=envelope.start or plan.start, interval_s=int(plan.interval_s),
                baseline_ev_w=base, up_w=np.maximum(hi - base, 0.0), down_w=np.maximum(base - lo, 0.0),
                rest_grid_w=np.asarray(plan.grid_w, dtype=float) - base,
                soc_pct=np.asarray(plan.soc_pct, dtype=float),
                soc_min_pct=np.asarray(envelope.soc_min_pct, dtype=float))


def home_limits(limits: SafetyLimits, car: CarLimits | None, prefs: Preferences,
                state: SiteState | None) -> HomeLimits:
    """What the car and charger can do now under the live limits and the owner's reserve."""
    charger = state.charger if state is not None else None
    fuse_w = limits.phases * limits.voltage_v * limits.main_fuse_a
    return HomeLimits(
        max_charge_w=float(limits.max_charge_w), max_discharge_w=float(limits.max_discharge_w),
        min_charge_w=float(limits.min_charge_w), reserve_pct=float(prefs.reserve_pct),
        min_discharge_w=float(limits.min_discharge_w or 0.0),
        soc_pct=charger.soc_pct if charger is not None else None,
        plugged=bool(charger is not None and charger.plugged and "charger" not in state.stale),
        capacity_wh=car.capacity_wh if car is not None else None,
        efficiency=float(car.charge_efficiency if car is not None else 0.9) or 0.9,
        max_import_w=min(limits.max_import_w, fuse_w), max_export_w=min(limits.max_export_w, fuse_w),
    )

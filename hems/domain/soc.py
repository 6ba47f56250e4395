"""What hems knows of the car's state of charge: a value, where it came from, and how sure it is.

The state of charge is measured (the charger or the car said so), entered (the owner said so) or
estimated (counted from the energy that flowed since a measured or entered value). It is never
invented: when nothing is known there is no `SocKnowledge` at all, and hems plans by energy.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class SocSource(enum.Enum):
    MEASURED = "measured"      # the charger or the car (ISO 15118) reported it
    ENTERED = "entered"        # the owner typed it in
    ESTIMATED = "estimated"    # counted from energy since a measured or entered value


@dataclass(frozen=True)
class SocKnowledge:
    soc_pct: float             # best estimate, 0..100
    source: SocSource
    at: datetime               # when this value was last updated (aware UTC)
    error_pct: float = 0.0     # the true value lies within soc_pct +- error_pct

    def __post_init__(self) -> None:
        if not 0.0 <= self.soc_pct <= 100.0:
            raise ValueError(f"soc_pct {self.soc_pct} outside 0..100")
        if not 0.0 <= self.error_pct <= 100.0:
            raise ValueError(f"error_pct {self.error_pct} outside 0..100")

    @property
    def low_pct(self) -> float:
        """The lowest the true state of charge can be: what plans and discharge rules use."""
        return max(0.0, self.soc_pct - self.error_pct)

    @property
    def high_pct(self) -> float:
        return min(100.0, self.soc_pct + self.error_pct)


def may_discharge(known: SocKnowledge | None, reserve_pct: float) -> bool:
    """The discharge rule: only on a known state of charge whose lowest bound is above the reserve.

    A measured value has (almost) no error, so discharge stops at the reserve; an entered or
    estimated one stops `error_pct` earlier, so the car never goes below the reserve whatever the
    error. Nothing known: no discharge at all.
    """
    return known is not None and known.low_pct > reserve_pct

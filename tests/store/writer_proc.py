"""Run as a process by the kill -9 test: writes steadily and reports each committed flush."""
from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone

from hems.domain import ChargerReading, ChargerState, MeterReading, PvReading, SiteState
from hems.domain.clock import ManualClock
from hems.store import Store


def main(path: str) -> None:
    clock = ManualClock(datetime(2024, 6, 1, tzinfo=timezone.utc))
    store = Store(path, flush_interval_s=0.02, clock=clock)
    events = 0
    for i in range(10_000_000):
        at = clock.now()
        store.add_measurement(SiteState(at, MeterReading(at, 500.0), PvReading(at, 100.0),
                                        ChargerReading(at, 1000.0, ChargerState.CHARGING, soc_pct=50.0)))
        if i % 3 == 0:
            events += 1
            store.add_event("test", f"event {events}", who="writer")
        clock.advance(10)
        if store.maybe_flush():
            # everything up to this event number is committed now
            print(f"committed {events} {store.flush_count}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])

"""Topic names under the configured prefix: {prefix}/{site_id}/{leaf}."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topics:
    prefix: str
    site_id: str

    @property
    def base(self) -> str:
        return f"{self.prefix.rstrip('/')}/{self.site_id}"

    @property
    def status(self) -> str:          # retained, home -> aggregator; the will sets it offline
        return f"{self.base}/status"

    @property
    def telemetry(self) -> str:       # home -> aggregator, every telemetry_interval_s
        return f"{self.base}/telemetry"

    @property
    def plan(self) -> str:            # retained, home -> aggregator: baseline + flexibility envelope
        return f"{self.base}/plan"

    @property
    def dispatch(self) -> str:        # aggregator -> home (subscribed, QoS 1)
        return f"{self.base}/dispatch"

    @property
    def reply(self) -> str:           # home -> aggregator, when the dispatch names no response topic
        return f"{self.base}/reply"

    @property
    def settlement(self) -> str:      # home -> aggregator, QoS 1, until acknowledged
        return f"{self.base}/settlement"

    @property
    def ha_command(self) -> str:      # Home Assistant controls (only with discovery on)
        return f"{self.base}/ha/set"

    def allowed_response_topic(self, topic: str | None) -> bool:
        """A response topic must stay inside this site's tree, so a dispatch cannot make the home
        publish anywhere else on the broker."""
        return bool(topic) and topic.startswith(self.base + "/") and not any(c in topic for c in "+#")

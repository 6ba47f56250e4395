"""The home end of the aggregator link over MQTT: signed dispatch, flexibility, regulation, settlement.

`AggregatorLink(config, agent, store, clock)` (hems.aggregator.link) is what hems.app starts.
"""

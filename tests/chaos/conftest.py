"""The chaos suite reuses the aggregator tests' broker fixtures (a real mosquitto, mutual TLS)."""
from tests.aggregator.conftest import broker, hmac_key, pki  # noqa: F401

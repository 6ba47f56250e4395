"""The chaos suite reuses the aggregator tests' broker fixtures (a real mosquitto, mutual TLS)
and the tiny real disk of tests/robustness."""
from tests.aggregator.conftest import broker, hmac_key, pki  # noqa: F401
from tests.robustness.conftest import tiny_disk  # noqa: F401

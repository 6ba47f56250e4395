"""Random hostile inputs, seeded and bounded: JSON bodies and MQTT payloads as an attacker or a
broken client would send them. Used by the CI fuzz tests (a few thousand inputs) and by
bench/robustness.py (>= 100,000 inputs).
"""
from __future__ import annotations

import json
import random
from typing import Any

HOSTILE_TEXT = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "[" * 2000 + "]" * 2000,
                '{"a":' * 300 + "1" + "}" * 300, '"\\ud800"', '"\\udfff x"', "9" * 5000, "", "{", "nul",
                '"\\u0000"', "true", "[]", '{"__proto__": {}}', "0.1e-400"]
FIELDS = ["mode", "reserve_pct", "username", "password", "departure", "target_soc_pct", "main_fuse_a",
          "max_import_w", "max_export_w", "days", "enabled", "current_password", "new_password", "tariff",
          "kind", "import_price_per_kwh", "lan_read_only", "host", "port", "site_id", "x"]


class Fuzzer:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def scalar(self) -> Any:
        r = self.rng
        return r.choice([
            None, True, False, 0, -1, 1, 2**63, -2**63, 10**30, 0.5, -273.15, 1e308, 5e-324,
            "", "smart", "fast", "off", "solar_only", "07:30", "24:00", "99:99", "2026-06-01T07:00:00Z",
            "2026-13-45T99:00:00", "x" * r.randint(0, 300), "\u00e9\u4e2d\U0001f600", "\x00", "../../etc/passwd",
            "<script>alert(1)</script>", r.uniform(-1e6, 1e6), r.randint(-10**6, 10**6),
        ])

    def value(self, depth: int = 0) -> Any:
        r = self.rng
        k = r.random()
        if depth > 3 or k < 0.55:
            return self.scalar()
        if k < 0.75:
            return [self.value(depth + 1) for _ in range(r.randint(0, 4))]
        return {r.choice(FIELDS): self.value(depth + 1) for _ in range(r.randint(0, 4))}

    def body(self, valid: dict | None = None) -> bytes:
        """A request body: a mutated valid one, random JSON, a hostile text or random bytes."""
        r = self.rng
        k = r.random()
        if valid is not None and k < 0.4:
            doc = dict(valid)
            for _ in range(r.randint(1, 3)):
                key = r.choice(list(doc) + FIELDS)
                if r.random() < 0.2:
                    doc.pop(key, None)
                else:
                    doc[key] = self.value(1)
            text = json.dumps(doc)
            if r.random() < 0.3:             # a bare NaN/Infinity/huge number where a value was
                text = text.replace(json.dumps(doc[key]), r.choice(HOSTILE_TEXT[:5]), 1) if key in doc else text
            return text.encode("utf-8", "surrogatepass")
        if k < 0.7:
            return json.dumps(self.value()).encode()
        if k < 0.9:
            hostile = r.choice(HOSTILE_TEXT)
            return (hostile if r.random() < 0.5 else '{"%s": %s}' % (r.choice(FIELDS), hostile)).encode(
                "utf-8", "surrogatepass")
        return bytes(r.getrandbits(8) for _ in range(r.randint(0, 200)))

    def content_type(self) -> str:
        return self.rng.choice(["application/json"] * 6 + ["application/json; charset=utf-8", "text/plain",
                                                           "", "application/x-www-form-urlencoded"])

    def mqtt_payload(self, signed: bytes) -> bytes:
        """An MQTT dispatch payload: a valid signed one mutated, an envelope of junk, or bytes."""
        r = self.rng
        k = r.random()
        if k < 0.35:
            b = bytearray(signed)
            for _ in range(r.randint(1, 4)):
                i = r.randrange(len(b))
                b[i] = r.getrandbits(8)
            return bytes(b)
        if k < 0.7:
            msg = r.choice([json.dumps(self.value()), r.choice(HOSTILE_TEXT), "x" * r.randint(0, 100)])
            outer = {"v": r.choice([1, 2, "1", None]), "alg": r.choice(["hmac-sha256", "ed25519", "none", ""]),
                     "msg": msg, "sig": r.choice(["", "AA==", "x" * 44, "!!"])}
            if r.random() < 0.3:
                outer[r.choice(FIELDS)] = self.value(1)
            return json.dumps(outer).encode("utf-8", "surrogatepass")
        if k < 0.85:
            return r.choice(HOSTILE_TEXT).encode("utf-8", "surrogatepass")
        return bytes(r.getrandbits(8) for _ in range(r.randint(0, 300)))

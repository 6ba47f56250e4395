"""The published contract: every schema is valid JSON Schema 2020-12, the AsyncAPI document
refers only to schema files that exist, and every dispatch kind has a schema branch."""
from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from hems.aggregator.auth import ALG_ED25519, ALG_NONE, Ed25519PrivateKey, load_site_keys
from hems.aggregator.messages import SCHEMA_NAMES

PKG = Path(__file__).resolve().parents[2] / "hems" / "aggregator"


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schema_is_valid(name):
    schema = json.loads((PKG / "schemas" / f"{name}.v1.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith(f"{name}.v1.json")


def test_asyncapi_refers_to_existing_schemas_and_channels():
    text = (PKG / "asyncapi.yaml").read_text()
    refs = set(re.findall(r"\$ref: '\./schemas/([a-z]+\.v1\.json)'", text))
    assert refs >= {f"{n}.v1.json" for n in SCHEMA_NAMES}
    for ref in refs:
        assert (PKG / "schemas" / ref).exists(), ref
    for channel in ("status", "telemetry", "plan", "dispatch", "reply", "settlement"):
        assert f"address: '{{prefix}}/{{site_id}}/{channel}'" in text


def test_every_dispatch_kind_has_a_branch():
    schema = json.loads((PKG / "schemas" / "dispatch.v1.json").read_text())
    kinds = set(schema["properties"]["kind"]["enum"])
    branches = {b["if"]["properties"]["kind"]["const"] for b in schema["allOf"]}
    assert kinds == branches and kinds <= set(schema["$defs"])


def test_ed25519_site_keys_verify_only(tmp_path):
    priv = Ed25519PrivateKey()
    (tmp_path / "agg.pub").write_text(priv.public_raw().hex())
    verifier, signer = load_site_keys("ed25519", tmp_path / "agg.pub")
    assert verifier.alg == ALG_ED25519 and signer.alg == ALG_NONE
    verifier.verify(b"msg", priv.sign(b"msg"))

"""The OpenAPI document matches the routes, and each route's access level is the documented one."""
from __future__ import annotations

import re

from hems.web.openapi import DOC


def _routes(app) -> set[tuple[str, str]]:
    out = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter")
        if path and path.startswith("/api/") and route.method not in ("HEAD", "OPTIONS"):
            out.add((route.method.lower(), path))
    return out


async def test_every_route_is_documented_and_back(client):
    routes = _routes(client.server.app)
    documented = {(m, p) for p, ops in DOC["paths"].items() for m in ops}
    assert routes == documented


async def test_documented_access_matches_handlers(client):
    for route in client.server.app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter")
        if not path or not path.startswith("/api/") or route.method in ("HEAD", "OPTIONS"):
            continue
        op = DOC["paths"][path][route.method.lower()]
        assert op["x-access"] == route.handler.hems_access, (route.method, path)


async def test_openapi_served_and_well_formed(client):
    resp = await client.get("/api/v1/openapi.json")
    assert resp.status == 200
    doc = await resp.json()
    assert doc["openapi"].startswith("3.")
    for path, ops in doc["paths"].items():
        assert re.match(r"^/api/v1/", path)
        for op in ops.values():
            assert op["summary"] and "200" in op["responses"]
            if "requestBody" in op:
                assert "422" in op["responses"] and "415" in op["responses"]


def test_settings_schema_lists_every_field():
    from hems.web.settings import FIELDS
    body = DOC["paths"]["/api/v1/settings/{section}"]["put"]["requestBody"]["content"]["application/json"]["schema"]
    documented = {b["title"]: set(b["properties"]) for b in body["oneOf"]}
    assert documented == {section: set(fields) for section, fields in FIELDS.items()}


def test_documented_bodies_accept_what_the_ui_sends():
    import jsonschema

    def schema(path, method):
        return DOC["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]

    good = [
        ("/api/v1/car/trip", "put", {"departure": "07:30", "target_soc_pct": 80}),
        ("/api/v1/car/trip", "put", {"departure": "2026-06-16T07:30:00+02:00", "target_soc_pct": 80}),
        ("/api/v1/car/mode", "put", {"mode": "solar_only"}),
        ("/api/v1/car/charge-now", "post", {"on": True}),
        ("/api/v1/car/schedule", "put", {"days": {"mon": {"departure": "07:00", "target_soc_pct": 80}, "tue": None}}),
        ("/api/v1/settings/{section}", "put", {"main_fuse_a": 20}),
        ("/api/v1/auth/setup", "post", {"password": "correct horse battery"}),
    ]
    for path, method, body in good:
        jsonschema.validate(body, schema(path, method))
    bad = [
        ("/api/v1/car/mode", "put", {"mode": "turbo"}),
        ("/api/v1/car/trip", "put", {"departure": "07:30", "target_soc_pct": 150}),
        ("/api/v1/car/reserve", "put", {"reserve_pct": 95}),
        ("/api/v1/car/schedule", "put", {"days": {"mon": {"departure": "7:00", "target_soc_pct": 80}}}),
        ("/api/v1/car/charge-now", "post", {"on": True, "x": 1}),
    ]
    for path, method, body in bad:
        try:
            jsonschema.validate(body, schema(path, method))
        except jsonschema.ValidationError:
            continue
        raise AssertionError(f"{path} documented schema accepts {body}")

"""`hems ocpp status`: the charge points the running agent's OCPP server knows.

The agent writes `ocpp_status.json` in its data dir on every connect, disconnect and refusal,
and every 10 s; this command reads it (it never talks to the chargers itself). A charge point
that tried an id config.toml does not have gets a `[devices.*]` snippet to paste.
"""
from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone

STALE_S = 30.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="ocpp_command", metavar="SUBCOMMAND")
    status = sub.add_parser("status", help="connected charge points, their protocol and last message")
    status.add_argument("--config", default="config.toml", help="config file (default: config.toml)")


def run(args: argparse.Namespace) -> int:
    if getattr(args, "ocpp_command", None) != "status":
        print("usage: hems ocpp status [--config FILE]")
        return 2
    from hems.app import load_or_report

    config = load_or_report(args.config)
    if config is None:
        return 1
    if config.ocpp is None:
        print("no [ocpp] table in the config: the OCPP server is off. To turn it on, add:\n")
        print(SERVER_SNIPPET)
        return 1
    path = config.storage.data_dir / "ocpp_status.json"
    try:
        status = json.loads(path.read_text())
    except FileNotFoundError:
        print(f"no status yet ({path}): is hems running?")
        return 1
    except (OSError, ValueError) as exc:
        print(f"cannot read {path}: {exc}")
        return 1
    print("\n".join(render(status, datetime.now(timezone.utc))))
    return 0


def render(status: dict, now: datetime) -> list[str]:
    """The status file as lines for a person. Pure."""
    lines = []
    at = _time(status.get("at"))
    scheme = "wss" if status.get("tls") else "ws"
    lines.append(f"OCPP server: {scheme}://<this host>:{status.get('port')}/ocpp/<charge point id>")
    if at is not None and (now - at).total_seconds() > STALE_S:
        lines.append(f"(written {at:%Y-%m-%d %H:%M:%S} UTC: hems may not be running)")
    lines.append(f"{'charger':<12} {'id':<20} {'protocol':<9} {'state':<12} {'setpoint':>9}  "
                 f"{'last message':<13} vendor / model / firmware")
    for c in status.get("chargers", []):
        last = _time(c.get("last_message"))
        age = f"{(now - last).total_seconds():.0f} s ago" if last else "-"
        proto = c.get("protocol") or "offline"
        setpoint = f"{c['setpoint_w']:.0f} W" if c.get("setpoint_w") is not None else "-"
        ident = " / ".join(str(c.get(k) or "?") for k in ("vendor", "model", "firmware"))
        v2x = ", V2X" if c.get("can_discharge") else ""
        lines.append(f"{c.get('name', '?'):<12} {c.get('charge_point_id', '?'):<20} {proto:<9} "
                     f"{(c.get('status') or '-'):<12} {setpoint:>9}  {age:<13} {ident}{v2x}")
    refused = status.get("refused") or {}
    for cp_id, info in refused.items():
        lines.append("")
        lines.append(f"refused unknown charge point {cp_id!r} at {info.get('at')} "
                     f"(offered {info.get('protocols') or 'no subprotocol'}); to use it, add to config.toml:")
        lines.append(device_snippet(cp_id))
    return lines


def device_snippet(cp_id: str) -> str:
    return (f'[devices.charger]\nrole = "charger"\nprofile = "ocpp"\ntransport = "ocpp"\n'
            f'charge_point_id = "{cp_id}"\n# password_file = "/etc/hems/ocpp-{cp_id}.password"   '
            f'# security profiles 1 and 2\n# evse = 1                                          '
            f'# connector = 1 on OCPP 1.6')


SERVER_SNIPPET = """[ocpp]
bind = "0.0.0.0"            # the home network reaches the server here
port = 8887
security_profile = 0        # 1: basic auth, 2: TLS + basic auth, 3: TLS + client certificates"""


def _time(text) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None

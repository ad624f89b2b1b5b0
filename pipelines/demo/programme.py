"""The demo's adoption programme: two initiatives and who approved each waiver.

One initiative ended before the demo's last snapshot with work left (overdue
services on the Initiatives page); one is running. Waivers carry an approver
and a created date, so `scorecard waivers --expiring 30d` has something to list.
"""

from __future__ import annotations

import datetime as dt

APPROVER = "platform-lead@acme.example"


def initiatives(end: dt.date) -> list[dict]:
    return [
        {
            "name": "Shared CI and CODEOWNERS everywhere",
            "owner": "platform",
            "description": "Every service builds with the shared workflow and names its owners in CODEOWNERS.",
            "goal": {"scorecard": "default", "checks": ["uses_shared_ci_workflow", "has_codeowners"]},
            "start": (end - dt.timedelta(days=84)).isoformat(),
            "deadline": (end - dt.timedelta(days=21)).isoformat(),
        },
        {
            "name": "Production services at silver readiness",
            "owner": "platform",
            "description": "Probes, resources, no literal secrets and non-root containers for production services.",
            "goal": {"scorecard": "production-readiness", "level": "silver"},
            "scope": {"lifecycle": ["production"]},
            "start": (end - dt.timedelta(days=42)).isoformat(),
            "deadline": (end + dt.timedelta(days=60)).isoformat(),
        },
    ]


def waiver(entry: dict, end: dt.date) -> dict:
    """A demo waiver as the config lists it: granted a while before it ends, by the platform lead."""
    expires = end + dt.timedelta(days=entry["expires_in_days"])
    return {
        "service": entry["service"], "check": entry["check"], "reason": entry["reason"],
        "approver": APPROVER, "created": (expires - dt.timedelta(days=60)).isoformat(), "expires": expires.isoformat(),
    }

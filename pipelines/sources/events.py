"""Deploy and incident events: JSON lines, validated one line at a time.

A bad line is reported with its line number and skipped; it never drops the
good lines around it. `scorecard ingest` and the crawl share this reader.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError, field_validator, model_validator

MAX_EVENT_FILE_BYTES = 256 * 1024 * 1024


class DeploymentEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    service: str
    environment: str
    sha: str
    deployed_at: AwareDatetime
    status: Literal["success", "failure", "error", "in_progress"] = "success"

    @field_validator("sha")
    @classmethod
    def _hex(cls, value: str) -> str:
        if not (4 <= len(value) <= 64) or any(c not in "0123456789abcdef" for c in value.lower()):
            raise ValueError("expected a git commit sha (hex)")
        return value.lower()


class IncidentEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    service: str
    opened_at: AwareDatetime
    resolved_at: AwareDatetime | None = None
    root_cause_sha: str | None = None

    @model_validator(mode="after")
    def _resolved_after_opened(self) -> IncidentEvent:
        if self.resolved_at is not None and self.resolved_at < self.opened_at:
            raise ValueError("resolved_at is before opened_at")
        return self


@dataclass
class EventFile:
    deployments: list[DeploymentEvent] = field(default_factory=list)
    incidents: list[IncidentEvent] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "deployments.jsonl line 7: sha: expected ..."


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "line"
    return f"{where}: {err['msg']}"


def read_events(path: Path, kind: Literal["deployments", "incidents"]) -> EventFile:
    out = EventFile()
    model = DeploymentEvent if kind == "deployments" else IncidentEvent
    try:
        if path.stat().st_size > MAX_EVENT_FILE_BYTES:
            out.problems.append(f"{path.name}: over {MAX_EVENT_FILE_BYTES // 2**20} MiB; not read")
            return out
        handle = path.open("rb")
    except FileNotFoundError:
        out.problems.append(f"{path.name}: file not found ({path})")
        return out
    except OSError as exc:
        out.problems.append(f"{path.name}: cannot read: {exc.strerror or exc}")
        return out
    target = out.deployments if kind == "deployments" else out.incidents
    with handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.strip()
            if not line or line.startswith(b"#"):
                continue
            try:
                data = json.loads(line.decode("utf-8"))
                target.append(model.model_validate(data))
            except UnicodeDecodeError:
                out.problems.append(f"{path.name} line {number}: not valid UTF-8")
            except json.JSONDecodeError as exc:
                out.problems.append(f"{path.name} line {number}: not JSON ({exc.msg})")
            except ValidationError as exc:
                out.problems.append(f"{path.name} line {number}: {_first_error(exc)}")
    return out


def utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)

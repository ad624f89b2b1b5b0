"""Deploy and incident events: JSON lines, validated one line at a time.

A bad line is reported with its line number and skipped; it never drops the
good lines around it. `scorecard ingest` and the crawl share this reader.

Input is bounded: only regular files are read (a FIFO would block and a
device such as /dev/zero never ends), at most ``MAX_EVENT_FILE_BYTES`` in all
and ``MAX_LINE_BYTES`` per line; a line whose JSON would exhaust the parser
(a number of thousands of digits, hundreds of thousands of nested brackets) or
holds text that is not valid Unicode (a lone surrogate ``"\\ud800"``, which
no database can store) is rejected like any other bad line.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, ValidationError, field_validator, model_validator

MAX_EVENT_FILE_BYTES = 256 * 1024 * 1024
MAX_LINE_BYTES = 64 * 1024  # an event is a few hundred bytes; this leaves room for long free-text fields


def _valid_unicode(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains a lone surrogate (e.g. \\ud800), which is not valid Unicode") from None
    return value


Text = Annotated[str, AfterValidator(_valid_unicode)]


class DeploymentEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    service: Text
    environment: Text
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

    service: Text
    opened_at: AwareDatetime
    resolved_at: AwareDatetime | None = None
    root_cause_sha: Text | None = None

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
    refused: str | None = None  # why the file as a whole was not read (missing, not a regular file, too big)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "line"
    return f"{where}: {err['msg']}"


_KINDS = {
    stat.S_IFIFO: "a named pipe (FIFO)", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
    stat.S_IFDIR: "a directory", stat.S_IFSOCK: "a socket",
}


def open_event_file(path: Path):
    """A binary handle on a regular file, or the reason it is refused.

    Opened non-blocking so a FIFO without a writer cannot hang the open, then
    checked with fstat on the opened descriptor (no race with a swapped path).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None, f"{path.name}: file not found ({path})"
    except OSError as exc:
        return None, f"{path.name}: cannot read: {exc.strerror or exc}"
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        what = _KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file")
        return None, (f"{path}: {what}, not a regular file; refused (it could block or never end): "
                      "write the events to a file and pass that")
    if info.st_size > MAX_EVENT_FILE_BYTES:
        os.close(fd)
        return None, f"{path.name}: over {MAX_EVENT_FILE_BYTES // 2**20} MiB; not read (split it into smaller files)"
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb"), None


def iter_events(path: Path, kind: Literal["deployments", "incidents"], out: EventFile) -> Iterator[DeploymentEvent | IncidentEvent]:
    """Each valid event of the file in order; problems (and a refusal) are appended to ``out``."""
    model = DeploymentEvent if kind == "deployments" else IncidentEvent
    handle, refused = open_event_file(path)
    if handle is None:
        out.refused = refused
        out.problems.append(refused)
        return
    read = 0
    with handle:
        number = 0
        while True:
            raw = handle.readline(MAX_LINE_BYTES + 1)
            if not raw:
                break
            number += 1
            read += len(raw)
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                read += _skip_rest_of_line(handle)
                out.problems.append(f"{path.name} line {number}: longer than {MAX_LINE_BYTES // 1024} KiB; skipped")
            else:
                line = raw.strip()
                if line and not line.startswith(b"#"):
                    event = _parse(line, model, f"{path.name} line {number}", out.problems)
                    if event is not None:
                        yield event
            if read > MAX_EVENT_FILE_BYTES:
                out.problems.append(f"{path.name}: stopped after {MAX_EVENT_FILE_BYTES // 2**20} MiB (line {number}); "
                                    "the file grew while being read")
                return


def _skip_rest_of_line(handle) -> int:
    skipped = 0
    while True:
        chunk = handle.readline(MAX_LINE_BYTES)
        skipped += len(chunk)
        if not chunk or chunk.endswith(b"\n") or skipped > MAX_EVENT_FILE_BYTES:
            return skipped


def _parse(line: bytes, model, where: str, problems: list[str]):
    try:
        data = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        problems.append(f"{where}: not valid UTF-8")
        return None
    except json.JSONDecodeError as exc:
        problems.append(f"{where}: not JSON ({exc.msg})")
        return None
    except RecursionError:
        problems.append(f"{where}: not accepted (JSON nested too deeply)")
        return None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        reason = "a number with too many digits" if "digits" in str(exc) else str(exc).split(";")[0]
        problems.append(f"{where}: not accepted ({reason})")
        return None
    if not isinstance(data, dict):
        problems.append(f"{where}: expected a JSON object, got {type(data).__name__}")
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems.append(f"{where}: {_first_error(exc)}")
    except RecursionError:
        problems.append(f"{where}: not accepted (nested too deeply)")
    return None


def read_events(path: Path, kind: Literal["deployments", "incidents"]) -> EventFile:
    out = EventFile()
    target = out.deployments if kind == "deployments" else out.incidents
    target.extend(iter_events(path, kind, out))  # type: ignore[arg-type]
    return out


def utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)

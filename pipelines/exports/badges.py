"""`scorecard export badges`: one shields-style SVG per service and scorecard, for READMEs.

Each badge shows the scorecard and the level the service reached in the
latest published snapshot, with an accessible ``<title>`` (and
``aria-label``) naming the service. Every text that reaches the SVG is XML
escaped: service names come from repositories.

Files are ``<out>/<scorecard>/<service>.svg`` with both names made safe for
a path (see :func:`file_name`); ``index.json`` maps each (scorecard, service)
to its file, so a service whose name had to change still finds its badge.
Each badge is replaced atomically, and only when it changed (:func:`write_badges`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd

from checks.policy import NO_LEVEL
from pipelines.exports import require_published
from pipelines.exports.atomic import check_replaceable, write_text
from pipelines.readmodel import exports as rm

INDEX = "index.json"
MAX_TEXT = 32  # characters of visible text per half; the full text is in the title
LABEL_COLOUR = "#555"
NO_LEVEL_COLOUR = "#e05d44"
LEVEL_COLOURS = {"bronze": "#a8632a", "silver": "#7d7d7d", "gold": "#c29a00", "platinum": "#3c7fb1"}
RANK_COLOURS = ("#fe7d37", "#97ca00", "#4c1")  # custom level names, by rank
_SAFE = re.compile(r"[^A-Za-z0-9_-]")
_NARROW = set("fijlrtI.,:;|!'()[] ")
_WIDE = set("mwMW@%")


def file_name(name: str) -> str:
    """A name that is safe as one path part on any filesystem; unchanged names stay readable.

    Anything else (slashes, dots, spaces, quotes, control characters,
    non-ASCII) becomes ``_``, and a short hash of the real name keeps two
    names that map to the same text apart.
    """
    safe = _SAFE.sub("_", name)[:80]
    if safe != name or not safe:
        safe = f"{safe}-{hashlib.sha256(name.encode('utf-8', 'surrogatepass')).hexdigest()[:10]}"
    return safe


def _text_width(text: str) -> int:
    """Rough rendered width of Verdana 11px (shields' font): enough to size the halves."""
    return int(sum(3.5 if c in _NARROW else 10.0 if c in _WIDE else 7.5 if c.isupper() else 6.6 for c in text)) + 1


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _visible(text: str) -> str:
    # No control characters in the drawn text (XML 1.0 forbids most of them); the title keeps the rest.
    return escape("".join(c if c.isprintable() else " " for c in _clip(text)))


def level_colour(level: str | None, rank: int | None) -> str:
    if level is None:
        return NO_LEVEL_COLOUR
    if level.lower() in LEVEL_COLOURS:
        return LEVEL_COLOURS[level.lower()]
    return RANK_COLOURS[min(max((rank or 1) - 1, 0), len(RANK_COLOURS) - 1)]


def _attr(text: str) -> str:
    cleaned = "".join(c if c.isprintable() else " " for c in text)
    return escape(cleaned, {'"': "&quot;"})


def render_badge(service: str, scorecard: str, level: str | None, rank: int | None, score_pct: float | None) -> str:
    """The SVG text of one badge."""
    label = "scorecard" if scorecard == "default" else f"{scorecard} scorecard"
    value = level or "no level"
    if score_pct is not None:
        value = f"{value} · {score_pct:.0f}%"
    title = f"{service}: {label} level {level or 'none'}" + (f", {score_pct:.0f}% of checks passing"
                                                              if score_pct is not None else "")
    left, right = _text_width(_clip(label)) + 10, _text_width(_clip(value)) + 10
    width = left + right
    colour = level_colour(level, rank)
    font = 'font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11"'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" '
        f'aria-label="{_attr(title)}">'
        f"<title>{_attr(title)}</title>"
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        '<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{width}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{left}" height="20" fill="{LABEL_COLOUR}"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{colour}"/>'
        f'<rect width="{width}" height="20" fill="url(#s)"/></g>'
        f'<g fill="#fff" text-anchor="middle" {font}>'
        f'<text x="{left / 2}" y="15" fill="#010101" fill-opacity=".3" aria-hidden="true">{_visible(label)}</text>'
        f'<text x="{left / 2}" y="14">{_visible(label)}</text>'
        f'<text x="{left + right / 2}" y="15" fill="#010101" fill-opacity=".3" aria-hidden="true">{_visible(value)}</text>'
        f'<text x="{left + right / 2}" y="14">{_visible(value)}</text>'
        "</g></svg>\n"
    )


def _optional(value: object) -> object | None:
    return None if value is None or pd.isna(value) else value


@dataclass(frozen=True)
class BadgesWritten:
    total: int  # badges in the folder now
    written: int  # of which (re)written this time: new or changed


def _previous(folder: Path) -> dict[str, str]:
    """{file: content hash} of the export already in ``folder`` (empty when none or unreadable)."""
    try:
        return {b["file"]: b["sha256"] for b in json.loads((folder / INDEX).read_text(encoding="utf-8"))["badges"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def write_badges(levels: pd.DataFrame, folder: Path) -> tuple[BadgesWritten, list[dict]]:
    """Bring ``folder`` up to date with ``levels`` (readmodel.exports.badge_levels) and write its index.

    Only badges that are new or changed are written, each atomically (a
    README never shows half a badge); badges of services no longer in the
    snapshot are removed; the index is replaced last. A publish rewrites the
    few badges whose level or score moved, not every file: creating two
    thousand files costs seconds on a busy disk, a stat each does not.
    """
    before = _previous(folder)
    index, written = [], 0
    for r in levels.to_dict("records"):
        level, rank, pct = _optional(r["level"]), _optional(r["level_rank"]), _optional(r["score_pct"])
        level = None if level == NO_LEVEL else level  # below the first level: drawn as "no level", in red
        rel = (Path(file_name(r["scorecard"])) / f"{file_name(r['service'])}.svg").as_posix()
        svg = render_badge(r["service"], r["scorecard"], level, None if rank is None else int(rank),
                           None if pct is None else float(pct))
        digest = hashlib.sha256(svg.encode("utf-8")).hexdigest()[:16]
        if before.get(rel) != digest or not (folder / rel).is_file():
            write_text(folder / rel, svg)
            written += 1
        index.append({"scorecard": r["scorecard"], "service": r["service"], "team": _optional(r["team"]),
                      "level": level, "file": rel, "sha256": digest})
    for gone in set(before) - {b["file"] for b in index}:
        # Only files an earlier export listed: nothing else in the folder is ever deleted.
        (folder / gone).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            (folder / gone).parent.rmdir()  # its scorecard's folder, once empty
    return BadgesWritten(len(index), written), index


def export_badges(serving: Path, out: Path) -> BadgesWritten:
    """Bring ``out`` up to date with the badges of the latest published snapshot."""
    snapshot, levels = rm.badge_levels(require_published(serving))
    check_replaceable(out, INDEX)
    counts, index = write_badges(levels, out)
    write_text(out / INDEX, json.dumps({"snapshot": snapshot.isoformat() if snapshot else None, "badges": index},
                                       indent=1, ensure_ascii=False) + "\n")
    return counts

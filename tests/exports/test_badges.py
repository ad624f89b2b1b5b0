"""`scorecard export badges`: a well-formed, accessible SVG per service and scorecard, whatever the names."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from checks.policy import NO_LEVEL
from tests.exports.conftest import HOSTILE_SERVICES, scorecard

SVG = "{http://www.w3.org/2000/svg}"


def read_badge(path) -> tuple[ET.Element, str, list[str]]:
    """The parsed SVG (a parse error fails the test), its title and its drawn texts."""
    svg = ET.fromstring(path.read_text(encoding="utf-8"))
    assert svg.tag == f"{SVG}svg" and svg.get("role") == "img"
    title = svg.find(f"{SVG}title").text
    assert svg.get("aria-label") == title
    return svg, title, [t.text for t in svg.iter(f"{SVG}text")]


def test_one_badge_per_service_and_scorecard_showing_its_level(built, tmp_path):
    out = tmp_path / "badges"
    proc = scorecard("export", "badges", "--config", str(built.config), "--out", str(out))
    scores = built.at("service_scores")
    assert f"{len(scores)} badges in {out} ({len(scores)} new or changed" in proc.stdout
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    assert index["snapshot"] == built.latest.isoformat()
    assert {(b["scorecard"], b["service"]) for b in index["badges"]} == set(zip(scores["scorecard"], scores["service"]))
    assert len(list(out.rglob("*.svg"))) == len(scores)
    for row in scores.itertuples():
        (entry,) = [b for b in index["badges"] if (b["scorecard"], b["service"]) == (row.scorecard, row.service)]
        _, title, texts = read_badge(out / entry["file"])
        level = "no level" if row.level == NO_LEVEL else row.level
        assert title.startswith(f"{row.service}: ") and f"level {row.level}" in title
        assert texts[-1] == f"{level} · {row.score_pct:.0f}%"
    # A service that reads well as a file name keeps it: the README link is guessable.
    plain = scores[scores["scorecard"] == "default"].iloc[0]["service"]
    assert (out / "default" / f"{plain}.svg").is_file()


def test_hostile_names_are_text_in_the_svg_and_never_a_path(hostile, tmp_path):
    out = tmp_path / "badges"
    scorecard("export", "badges", "--config", str(hostile.config), "--out", str(out))
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    assert {b["service"] for b in index["badges"]} == set(HOSTILE_SERVICES)
    assert len(index["badges"]) == 2 * len(HOSTILE_SERVICES)
    files = list(out.rglob("*.svg"))
    assert len(files) == len(index["badges"])  # no two names landed on one file
    for badge in index["badges"]:
        path = (out / badge["file"]).resolve()
        assert path.is_relative_to(out.resolve()) and path.parent.parent == out.resolve()
        svg, title, texts = read_badge(path)
        # The XML parser gives the names back exactly: escaped, not interpreted.
        assert title.startswith(badge["service"].replace("\t", " ").replace("\n", " ") + ": ")
        assert not any(el.tag.endswith(("script", "foreignObject")) for el in svg.iter())
        assert all("onload" not in attr for el in svg.iter() for attr in el.attrib)
        assert texts[-1].startswith("no level")  # below the first level: said so, in words
    # The serving step wrote the same badges next to the published snapshot.
    static = hostile.serving.parent / "static" / "badges"
    assert sorted(p.relative_to(static) for p in static.rglob("*.svg")) == sorted(p.relative_to(out) for p in files)


def test_a_second_export_rewrites_only_what_changed_and_keeps_unlisted_files(built, tmp_path):
    out = tmp_path / "badges"
    scorecard("export", "badges", "--snapshot", str(built.serving), "--out", str(out))
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    deleted = out / index["badges"][0]["file"]
    deleted.unlink()
    (out / "README.md").write_text("ours")
    proc = scorecard("export", "badges", "--snapshot", str(built.serving), "--out", str(out))
    assert "(1 new or changed" in proc.stdout  # the deleted badge, and nothing else
    assert deleted.is_file() and (out / "README.md").read_text() == "ours"
    assert json.loads((out / "index.json").read_text(encoding="utf-8")) == index

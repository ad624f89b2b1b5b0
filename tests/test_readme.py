"""The README stays true to the code: quick-start commands and the check catalogue."""

from pathlib import Path

from checks.catalogue import catalogue_markdown
from checks.thresholds import thresholds_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_catalogue_section_is_generated_from_the_checks():
    text = (ROOT / "README.md").read_text()
    section = text.split("<!-- catalogue:start -->\n", 1)[1].split("<!-- catalogue:end -->", 1)[0]
    assert section.strip() == catalogue_markdown().strip(), (
        "README check catalogue is stale: regenerate it with `scorecard checks --format markdown`"
    )


def test_thresholds_section_is_generated_from_the_typed_thresholds():
    text = (ROOT / "README.md").read_text()
    section = text.split("<!-- thresholds:start -->\n", 1)[1].split("<!-- thresholds:end -->", 1)[0]
    assert section.strip() == thresholds_markdown().strip(), (
        "README thresholds table is stale: regenerate it from checks.thresholds.thresholds_markdown()"
    )


def test_quick_start_commands_exist_and_ci_runs_the_test_command():
    text = (ROOT / "README.md").read_text()
    assert "make demo" in text and "make test" in text
    makefile = (ROOT / "Makefile").read_text()
    assert "\ndemo:" in makefile and "\ntest:" in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text()

"""A monorepo's CODEOWNERS with tens of thousands of rules: lookups stay fast and answer as before."""

from __future__ import annotations

import random
import time

from codeowners import path_to_regex

from pipelines.parsers import owners_for, parse_codeowners


def big_file(components: int = 1000, other_rules: int = 39_000) -> str:
    # Worst case for a scan from the end: every component's rule sits near the top,
    # under tens of thousands of rules that match nothing a lookup asks about.
    lines = ["* @acme/platform"]
    lines += [f"/services/svc-{i}/ @acme/team-{i % 40}" for i in range(components)]
    lines += [f"/docs/area-{i}/**/*.md @acme/docs-{i % 7}" for i in range(other_rules)]
    return "\n".join(lines) + "\n"


def test_forty_thousand_rules_answer_a_thousand_lookups_in_seconds_not_hours():
    co = parse_codeowners(big_file(), "CODEOWNERS")
    assert len(co.rules) == 40_001 and co.errors == []
    started = time.monotonic()
    for i in range(1000):
        assert owners_for(co, f"services/svc-{i}") == [f"@acme/team-{i % 40}"]
    assert owners_for(co, "tools") == ["@acme/platform"]
    # Each lookup recompiled ~40,000 patterns before (about 2 s each): 1,000 took over half an hour.
    assert time.monotonic() - started < 60


def test_a_copy_of_the_parsed_file_is_matched_the_same(tmp_path):
    """Facts come back from the crawl cache as new objects: their first lookup compiles once, then answers the same."""
    import pickle

    co = parse_codeowners(big_file(components=50, other_rules=9_000), "CODEOWNERS")
    copy = pickle.loads(pickle.dumps(co))
    assert [owners_for(copy, f"services/svc-{i}") for i in range(50)] == [owners_for(co, f"services/svc-{i}") for i in range(50)]


def _naive(rules, path: str, is_file: bool = False) -> list[str]:
    """GitHub's rule, spelled out: the last rule whose pattern matches decides."""
    target = path.strip().strip("/")
    if not is_file:
        target = f"{target}/" if target else ""
    for rule in reversed(rules):
        if path_to_regex(rule.pattern).search(target):
            return list(rule.owners)
    return []


def test_matching_agrees_with_the_plain_last_match_rule_on_random_files():
    rng = random.Random(11)
    parts = ["services", "api", "web", "docs", "src", "lib", "vendor", "a", "b", "ap", "api x", "services2"]
    shapes = ["/{a}/", "{a}/", "/{a}/{b}/", "{a}/**", "/{a}/*", "*.{ext}", "/{a}/**/{b}/", "**/{a}", "*", "{a}/*/{b}",
              "/{a}", "/{a}/{b}", "{a}/{b}/", "/{a}?/", "/{a}/[ab]*/", "/{a}/{b}.{ext}", "/{a}/**", "/**/{b}/",
              "/{a}\\ x/", "{a}", "/{a}/*/", "/{a}*/{b}/"]
    for _ in range(200):
        lines = []
        for _ in range(rng.randint(1, 60)):
            pattern = rng.choice(shapes).format(a=rng.choice(parts), b=rng.choice(parts), ext=rng.choice(["py", "md"]))
            owners = " ".join(rng.sample(["@acme/x", "@acme/y", "@bob", "ops@acme.example"], rng.randint(0, 2)))
            lines.append(f"{pattern} {owners}".strip())
        co = parse_codeowners("\n".join(lines) + "\n", "CODEOWNERS")
        for _ in range(30):
            path = "/".join(rng.sample(parts, rng.randint(0, 3)))
            is_file = rng.random() < 0.3 and bool(path)
            if is_file:
                path += rng.choice([".py", ".md", ""])
            assert owners_for(co, path, is_file=is_file) == _naive(co.rules, path, is_file), (lines, path, is_file)

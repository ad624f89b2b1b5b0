import pytest

from pipelines.parsers import ParseError, parse_workflow, split_uses

CALLER = """\
name: deploy
on:
  push:
    branches: [main, "release/**"]
  workflow_dispatch:
env:
  GO111MODULE: on
jobs:
  build:
    uses: acme/platform-workflows/.github/workflows/build.yml@v4
    secrets: inherit
  local:
    uses:
      ./.github/workflows/test.yml
  deploy:
    needs: [build]
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make deploy
      - uses: docker://alpine:3.19
      - uses: ./.github/actions/notify
      - uses: acme/action@feature/with-slash
"""


def test_bare_on_key_is_the_trigger_map_not_true():
    workflow = parse_workflow(CALLER, ".github/workflows/deploy.yml")
    assert workflow.triggers == ["push", "workflow_dispatch"]
    assert workflow.branches == ["main", "release/**"]
    assert workflow.name == "deploy"


def test_job_level_uses_are_reusable_workflows():
    refs = parse_workflow(CALLER, ".github/workflows/deploy.yml").refs
    reusable = [(r.job, r.target, r.ref) for r in refs if r.reusable]
    assert reusable == [
        ("build", "acme/platform-workflows/.github/workflows/build.yml", "v4"),
        ("local", "./.github/workflows/test.yml", None),
    ]


def test_step_level_uses_are_actions():
    refs = [r for r in parse_workflow(CALLER, "w.yml").refs if not r.reusable]
    assert [(r.target, r.ref) for r in refs] == [
        ("actions/checkout", "v4"),
        ("docker://alpine:3.19", None),
        ("./.github/actions/notify", None),
        ("acme/action", "feature/with-slash"),
    ]
    assert all(r.job == "deploy" and r.file == "w.yml" for r in refs)


@pytest.mark.parametrize(
    ("on", "triggers", "branches"),
    [
        ("on: push", ["push"], None),
        ("on: [push, pull_request]", ["push", "pull_request"], None),
        ("on:\n  - push\n  - pull_request", ["push", "pull_request"], None),
        ("'on':\n  push:\n    branches: main", ["push"], ["main"]),
        ('"on":\n  pull_request:\n  push:', ["pull_request", "push"], None),
    ],
)
def test_every_way_of_writing_on(on, triggers, branches):
    workflow = parse_workflow(f"{on}\njobs:\n  a:\n    runs-on: x\n    steps: []\n", "w.yml")
    assert (workflow.triggers, workflow.branches) == (triggers, branches)


def test_split_uses_at_the_last_at_sign():
    assert split_uses("org/repo/.github/workflows/x.yml@refs/heads/main") == (
        "org/repo/.github/workflows/x.yml",
        "refs/heads/main",
    )
    assert split_uses("org/repo") == ("org/repo", None)


def test_fragments_without_jobs_or_on_are_not_workflows():
    with pytest.raises(ParseError, match="missing 'jobs'"):
        parse_workflow("on:\n  push:\n", "w.yml")
    with pytest.raises(ParseError, match="missing 'on'"):
        parse_workflow("jobs:\n  a: {}\n", "w.yml")
    with pytest.raises(ParseError, match="not a mapping"):
        parse_workflow("- a\n", "w.yml")


def test_malformed_jobs_and_steps_are_skipped():
    text = "on: push\njobs:\n  a: just-text\n  b:\n    steps: not-a-list\n  c:\n    steps: [oops, {uses: x/y@v1}]\n"
    assert [r.uses for r in parse_workflow(text, "w.yml").refs] == ["x/y@v1"]


def test_push_ref_filters_are_kept_as_written():
    text = (
        "on:\n  push:\n    branches-ignore: ['dependabot/**']\n    tags: ['v*']\n    tags-ignore: ['v0.*']\n"
        "jobs: {build: {runs-on: ubuntu-latest, steps: [{run: make}]}}\n"
    )
    workflow = parse_workflow(text, ".github/workflows/release.yml")
    assert workflow.branches is None
    assert workflow.branches_ignore == ["dependabot/**"]
    assert workflow.push_tags == ["v*", "!v0.*"]
    plain = parse_workflow("on: push\njobs: {a: {runs-on: x, steps: []}}\n", "w.yml")
    assert (plain.branches, plain.branches_ignore, plain.push_tags) == (None, None, None)

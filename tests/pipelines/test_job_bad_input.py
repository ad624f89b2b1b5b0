"""A whole run over an organisation of hostile repositories: every one is
reported with a readable reason in the published results, and the good
repository is still scored."""

from __future__ import annotations

import duckdb

from pipelines.cli import run_job
from tests.gitrepo import catalog_info, commit, git, init

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


def test_hostile_repos_are_reported_per_repo_and_the_run_completes(tmp_path):
    repos = tmp_path / "repos"
    commit(init(repos / "good"), {"catalog-info.yaml": catalog_info("good"), "README.md": "# good\n"})
    commit(init(repos / "malformed"), {"catalog-info.yaml": "kind: Component\nmetadata: {name: x\n"})
    commit(init(repos / "bomb"), {"catalog-info.yaml": BOMB})
    commit(init(repos / "huge"), {"catalog-info.yaml": "# pad\n" * 9_000_000})
    commit(init(repos / "binary"), {"chart/Chart.yaml": b"\x00\x01\x02binary"})
    commit(init(repos / "latin1"), {".github/workflows/ci.yml": b"name: caf\xe9\non: push\njobs: {}\n"})
    commit(init(repos / "escape"), {"README.md": "x"}, symlinks={"catalog-info.yaml": "../../../../etc/passwd"})
    init(repos / "empty")
    nobranch = init(repos / "nobranch", branch="topic")
    commit(nobranch, {"README.md": "x"})
    git(nobranch, "symbolic-ref", "HEAD", "refs/heads/gone")
    cfg = tmp_path / "scorecard.yaml"
    cfg.write_text("sources:\n  repos:\n    - root: repos\nteams:\n  - name: payments\n")

    assert run_job(cfg).success

    con = duckdb.connect(str(tmp_path / "serving" / "scorecard.duckdb"), read_only=True)
    problems = {t: r for t, r in con.execute("SELECT target, reason FROM problems").fetchall()}
    errors = {t: r for t, r in con.execute("SELECT target, reason FROM source_status WHERE status = 'error'").fetchall()}
    good_level = con.execute("SELECT score_pct FROM service_scores WHERE service = 'good'").fetchall()
    unknowns = con.execute(
        "SELECT count(*) FROM check_results WHERE service = 'empty' AND status NOT IN ('unknown', 'not_applicable')"
    ).fetchall()[0][0]
    con.close()

    assert "mapping" in problems["malformed"] or "line" in problems["malformed"]
    assert "alias" in problems["bomb"].lower()
    assert "MB" in problems["huge"] and "limit" in problems["huge"]
    assert "binary" in problems["binary"]
    assert "UTF-8" in problems["latin1"]
    assert "outside the repository" in problems["escape"]
    assert errors["empty"] == "empty repository: no commits on any branch"
    assert "no default branch" in errors["nobranch"]
    assert good_level and good_level[0][0] > 0
    # an uncrawlable repo's service is unknown on every check, never failed
    assert unknowns == 0

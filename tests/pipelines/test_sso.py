"""The rule from SCORECARD_OIDC_* to Streamlit's [auth] secrets, and `scorecard serve`'s use of it.

The server itself is not started here (tests/dashboard/test_sso_browser.py
drives the real one through a browser): `_run_until_stopped` is replaced by a
probe that looks at what the real `serve` would launch, while it would run.
"""

from __future__ import annotations

import re
import stat
import tomllib
from pathlib import Path

import pytest

from pipelines import cli, sso

CLIENT_SECRET = "client-secret-8f1e2d3c4b5a69788796a5b4"
COOKIE_SECRET = "cookie-secret-0123456789abcdef0123456789abcdef"
ENV = {
    sso.ISSUER: "https://login.example.com/realms/eng",
    sso.CLIENT_ID: "scorecard",
    sso.CLIENT_SECRET: CLIENT_SECRET,
    sso.REDIRECT_URI: "https://scorecard.example.com/oauth2callback",
    sso.COOKIE_SECRET: COOKIE_SECRET,
}


def test_no_oidc_variable_means_no_login() -> None:
    assert sso.oidc_settings({}) is None
    assert sso.oidc_settings({"HOME": "/root", sso.ISSUER: "  "}) is None


def test_a_complete_set_becomes_streamlits_auth_section() -> None:
    settings = sso.oidc_settings(ENV)
    auth = tomllib.loads(sso.secrets_toml(settings))["auth"]
    assert auth == {
        "redirect_uri": "https://scorecard.example.com/oauth2callback",
        "cookie_secret": COOKIE_SECRET,
        "client_id": "scorecard",
        "client_secret": CLIENT_SECRET,
        "server_metadata_url": "https://login.example.com/realms/eng/.well-known/openid-configuration",
    }
    assert CLIENT_SECRET not in repr(settings) and COOKIE_SECRET not in repr(settings)


def test_values_toml_would_misread_are_written_literally() -> None:
    hostile = 'a"b\\c\nd = "x"\n[other]' + "z" * 32
    settings = sso.oidc_settings({**ENV, sso.CLIENT_SECRET: hostile, sso.COOKIE_SECRET: hostile})
    parsed = tomllib.loads(sso.secrets_toml(settings))
    assert list(parsed) == ["auth"]
    assert parsed["auth"]["client_secret"] == hostile.strip()


@pytest.mark.parametrize("missing", [[sso.CLIENT_SECRET], [sso.REDIRECT_URI, sso.COOKIE_SECRET]])
def test_a_partial_set_names_what_is_missing_and_no_value(missing: list[str]) -> None:
    env = {k: v for k, v in ENV.items() if k not in missing}
    with pytest.raises(sso.SsoConfigError) as caught:
        sso.oidc_settings(env)
    message = str(caught.value)
    assert all(name in message for name in missing)
    assert not any(name in message.split("(")[0] for name in env)  # only the missing ones before the hint
    assert CLIENT_SECRET not in message and COOKIE_SECRET not in message


@pytest.mark.parametrize(("name", "value", "says"), [
    (sso.REDIRECT_URI, "https://dash.corp.test/", "/oauth2callback"),
    (sso.REDIRECT_URI, "scorecard.example.com/oauth2callback", "absolute http(s) URL"),
    (sso.ISSUER, "login.example.com", "absolute http(s) URL"),
    (sso.COOKIE_SECRET, "short-secret", "shorter than 32"),
])
def test_malformed_values_are_refused_by_name(name: str, value: str, says: str) -> None:
    with pytest.raises(sso.SsoConfigError, match=re.escape(says)) as caught:
        sso.oidc_settings({**ENV, name: value})
    assert name in str(caught.value) and value not in str(caught.value)


def test_scopes_are_asked_for_only_when_set() -> None:
    assert "client_kwargs" not in tomllib.loads(sso.secrets_toml(sso.oidc_settings(ENV)))["auth"]
    settings = sso.oidc_settings({**ENV, sso.SCOPES: "openid, email profile groups"})
    assert tomllib.loads(sso.secrets_toml(settings))["auth"]["client_kwargs"] == {"scope": "openid email profile groups"}
    with pytest.raises(sso.SsoConfigError, match="must include openid"):
        sso.oidc_settings({**ENV, sso.SCOPES: "email groups"})


def test_a_team_claim_without_sign_in_is_an_error() -> None:
    with pytest.raises(sso.SsoConfigError, match="SCORECARD_OIDC_TEAM_CLAIM is set but single sign-on is not"):
        sso.oidc_settings({sso.TEAM_CLAIM: "groups"})
    assert sso.oidc_settings({**ENV, sso.TEAM_CLAIM: "groups"}) is not None


def test_the_secrets_file_is_private_outside_the_repo_and_gone_afterwards() -> None:
    repo = Path(__file__).resolve().parents[2]
    with sso.secrets_file(sso.oidc_settings(ENV)) as path:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert not path.resolve().is_relative_to(repo)
        assert tomllib.loads(path.read_text())["auth"]["client_secret"] == CLIENT_SECRET
    assert not path.exists() and not path.parent.exists()


# ------------------------------------------------------------ scorecard serve


@pytest.fixture
def launched(monkeypatch: pytest.MonkeyPatch):
    """What `scorecard serve` hands the dashboard process, seen while it runs."""
    seen: dict = {}

    def probe(cmd: list[str], env: dict[str, str]) -> int:
        seen.update(cmd=cmd, env=env)
        if "--secrets.files" in cmd:
            path = Path(cmd[cmd.index("--secrets.files") + 1])
            seen.update(path=path, mode=stat.S_IMODE(path.stat().st_mode), text=path.read_text())
        return 0

    monkeypatch.setattr(cli, "_run_until_stopped", probe)
    for name in (*sso.REQUIRED, sso.TEAM_CLAIM, sso.ADMIN_TEAMS, sso.SCOPES):
        monkeypatch.delenv(name, raising=False)
    return seen


def test_serve_with_sso_passes_the_file_by_path_only(launched, monkeypatch, tmp_path: Path, capsys) -> None:
    snapshot = tmp_path / "scorecard.duckdb"
    snapshot.write_bytes(b"")
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["serve", "--snapshot", str(snapshot), "--address", "0.0.0.0", "--port", "9000"]) == 0
    cmd, env = launched["cmd"], launched["env"]
    assert cmd[cmd.index("--server.address") + 1] == "0.0.0.0" and cmd[cmd.index("--server.port") + 1] == "9000"
    assert launched["mode"] == 0o600 and CLIENT_SECRET in launched["text"]
    assert not launched["path"].exists(), "the secrets file outlives the server"
    for secret in (CLIENT_SECRET, COOKIE_SECRET):
        assert not any(secret in arg for arg in cmd)
        assert not any(secret in value for value in env.values())
    assert env["SCORECARD_SNAPSHOT"] == str(snapshot.resolve())
    out = capsys.readouterr()
    assert "sign-in through https://login.example.com/realms/eng" in out.out
    assert CLIENT_SECRET not in out.out + out.err and COOKIE_SECRET not in out.out + out.err


def test_serve_without_sso_has_no_secrets_file(launched, tmp_path: Path, capsys) -> None:
    snapshot = tmp_path / "scorecard.duckdb"
    snapshot.write_bytes(b"")
    assert cli.main(["serve", "--snapshot", str(snapshot)]) == 0
    assert "--secrets.files" not in launched["cmd"]
    assert launched["cmd"][launched["cmd"].index("--server.address") + 1] == "127.0.0.1"
    assert "no sign-in" in capsys.readouterr().out


def test_serve_with_half_the_variables_refuses_to_start(launched, monkeypatch, tmp_path: Path, capsys) -> None:
    snapshot = tmp_path / "scorecard.duckdb"
    snapshot.write_bytes(b"")
    for name in (sso.ISSUER, sso.CLIENT_ID, sso.CLIENT_SECRET):
        monkeypatch.setenv(name, ENV[name])
    assert cli.main(["serve", "--snapshot", str(snapshot)]) == 2
    err = capsys.readouterr().err
    assert f"{sso.REDIRECT_URI}, {sso.COOKIE_SECRET} are not set" in err and CLIENT_SECRET not in err
    assert launched == {}, "the dashboard started without the login it was asked for"


def test_serve_a_missing_snapshot_is_a_clear_error(launched, tmp_path: Path, capsys) -> None:
    assert cli.main(["serve", "--snapshot", str(tmp_path / "nope.duckdb")]) == 2
    assert f"no published snapshot at {tmp_path / 'nope.duckdb'} (--snapshot)" in capsys.readouterr().err
    assert launched == {}


def test_serve_takes_the_serving_path_from_the_config(launched, tmp_path: Path, capsys) -> None:
    config = tmp_path / "scorecard.yaml"
    config.write_text("warehouse:\n  serving_path: served/scorecard.duckdb\n")
    assert cli.main(["serve", "--config", str(config)]) == 2
    assert "served/scorecard.duckdb (the serving path of" in capsys.readouterr().err
    (tmp_path / "served").mkdir()
    (tmp_path / "served" / "scorecard.duckdb").write_bytes(b"")
    assert cli.main(["serve", "--config", str(config)]) == 0
    assert launched["env"]["SCORECARD_SNAPSHOT"] == str((tmp_path / "served" / "scorecard.duckdb").resolve())


@pytest.mark.parametrize("port", ["0", "70000", "http"])
def test_serve_refuses_a_bad_port(port: str, capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main(["serve", "--snapshot", "x.duckdb", "--port", port])
    assert "expected a port number" in capsys.readouterr().err

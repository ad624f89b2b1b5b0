"""The team-scope rule (dashboard/auth.py): which teams a signed-in person is offered."""

from __future__ import annotations

import pytest

from dashboard.auth import EVERY_TEAM, Scope, TeamRule, claimed_teams, display_name, team_scope

TEAMS = ["checkout", "payments", "platform", "search"]
GROUPS = TeamRule.from_environ({"SCORECARD_OIDC_TEAM_CLAIM": "groups", "SCORECARD_OIDC_ADMIN_TEAMS": "Platform, sre"})


def user(**claims: object) -> dict[str, object]:
    return {"is_logged_in": True, "sub": "u-1", **claims}


def test_without_a_team_claim_configured_everyone_sees_every_team() -> None:
    rule = TeamRule.from_environ({})
    assert team_scope(user(groups=["payments"]), rule, TEAMS) == EVERY_TEAM


def test_not_signed_in_is_not_scoped() -> None:
    # No sign-in configured at all (st.user has no is_logged_in): the dashboard as it always was.
    assert team_scope(None, GROUPS, TEAMS) == EVERY_TEAM


def test_a_list_claim_limits_to_those_teams_in_the_snapshots_spelling() -> None:
    scope = team_scope(user(groups=["Payments", "everyone", "search"]), GROUPS, TEAMS)
    assert scope.teams == ("payments", "search") and scope.limited


def test_a_string_claim_is_one_team() -> None:
    assert team_scope(user(team="checkout"), TeamRule("team", frozenset()), TEAMS).teams == ("checkout",)


def test_an_admin_team_sees_every_team() -> None:
    assert team_scope(user(groups=["payments", "SRE"]), GROUPS, TEAMS) == EVERY_TEAM


@pytest.mark.parametrize("claims", [{}, {"groups": []}, {"groups": 7}, {"groups": ["marketing"]}, {"groups": [None, ""]}])
def test_no_matching_team_offers_none_rather_than_all(claims: dict) -> None:
    scope = team_scope(user(**claims), GROUPS, TEAMS)
    assert scope.limited and scope.teams == ()


def test_claimed_teams_keeps_order_and_drops_duplicates_and_non_strings() -> None:
    assert claimed_teams({"g": ["b", " a ", "b", 3, ""]}, "g") == ("b", "a")
    assert claimed_teams({"g": {"a": 1}}, "g") == ()


def test_display_name_prefers_the_name_then_the_username_then_the_email() -> None:
    assert display_name({"name": "Ada Lovelace", "email": "ada@example.com"}) == "Ada Lovelace"
    assert display_name({"preferred_username": "ada", "email": "ada@example.com"}) == "ada"
    assert display_name({"email": "ada@example.com"}) == "ada@example.com"
    assert display_name({}) == "signed-in user"


def test_scope_reports_what_was_claimed_for_the_message() -> None:
    assert team_scope(user(groups=["marketing"]), GROUPS, TEAMS) == Scope((), ("marketing",))


# ------------------------------------------- the gate and the scope in the app (AppTest seeds st.user)


@pytest.fixture
def open_as(built, monkeypatch: pytest.MonkeyPatch):
    from streamlit.testing.v1 import AppTest

    from tests.dashboard.conftest import APP

    def _open(page: str, user: dict, **env: str):
        monkeypatch.setenv("SCORECARD_SNAPSHOT", str(built.serving))
        for name in ("SCORECARD_OIDC_TEAM_CLAIM", "SCORECARD_OIDC_ADMIN_TEAMS"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        at = AppTest.from_file(str(APP), default_timeout=30)
        at.user = user
        at.switch_page(f"views/{page}.py")
        return at.run()

    return _open


def _texts(at) -> str:
    return " ".join(e.value for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning")
                    for e in getattr(at, kind) if isinstance(e.value, str))


def test_signed_out_sees_only_the_login_button(open_as, built) -> None:
    at = open_as("teams", {"is_logged_in": False})
    assert [b.label for b in at.button] == ["Log in"]
    assert not at.sidebar.selectbox and not at.dataframe and built.regression.team not in _texts(at)


def test_signed_in_sees_their_name_and_a_log_out_button(open_as) -> None:
    at = open_as("adoption", {"is_logged_in": True, "name": "Ada Lovelace"})
    assert "Signed in as **Ada Lovelace**" in [c.value for c in at.sidebar.caption]
    assert "Log out" in [b.label for b in at.sidebar.button]
    assert at.title[0].value == "Golden-path adoption"


def test_an_admin_team_is_offered_every_team(open_as, built) -> None:
    teams = sorted(built.at("services")["team"].dropna().unique())
    user = {"is_logged_in": True, "name": "Root", "groups": ["platform-admins", teams[0]]}
    limited = open_as("teams", user, SCORECARD_OIDC_TEAM_CLAIM="groups")
    assert limited.sidebar.selectbox(key="team").options == [teams[0]]
    admin = open_as("teams", user, SCORECARD_OIDC_TEAM_CLAIM="groups", SCORECARD_OIDC_ADMIN_TEAMS="platform-admins")
    assert admin.sidebar.selectbox(key="team").options == ["All teams", *teams]


def test_a_claim_naming_no_team_of_the_snapshot_shows_no_team_data(open_as) -> None:
    at = open_as("teams", {"is_logged_in": True, "name": "Eve", "groups": ["marketing"]},
                 SCORECARD_OIDC_TEAM_CLAIM="groups")
    assert [w.value for w in at.warning] == [
        ("Your sign-in names no team that owns services in this snapshot (your teams: marketing). "
         "Ask the platform team to check the team claim or the services' owners.")]
    assert not at.dataframe and not at.title

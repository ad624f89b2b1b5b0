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

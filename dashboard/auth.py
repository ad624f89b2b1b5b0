"""Who is looking at the dashboard, and which teams their views are scoped to.

Sign-in is Streamlit's own (``st.login`` / ``st.user``): ``scorecard serve``
writes the ``[auth]`` secrets when ``SCORECARD_OIDC_*`` are set
(``pipelines/sso.py``). With no ``[auth]`` section Streamlit reports no
``is_logged_in`` at all, and the dashboard is open as it always was.

Team scope (the one rule, :func:`team_scope`): when
``SCORECARD_OIDC_TEAM_CLAIM`` names a claim of the identity token (a string
or a list of team names, e.g. ``groups``), the team picker *offers only* the
signed-in person's teams and starts at the first of them, so every
team-filtered page (the Teams page included) shows their teams and not the
others'. A claim value listed in ``SCORECARD_OIDC_ADMIN_TEAMS`` (comma
separated, e.g. the platform team) lifts the limit. Team names match the
snapshot's case-insensitively. This narrows views; it is not a wall around
data: organisation-wide figures stay visible and a service page opens by its
address for anyone signed in (docs/sso.md says so).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

TEAM_CLAIM = "SCORECARD_OIDC_TEAM_CLAIM"
ADMIN_TEAMS = "SCORECARD_OIDC_ADMIN_TEAMS"
NAME_CLAIMS = ("name", "preferred_username", "email", "sub")


@dataclass(frozen=True)
class TeamRule:
    claim: str | None  # None: views are not scoped
    admin_teams: frozenset[str]  # casefolded claim values that see every team

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> TeamRule:
        claim = environ.get(TEAM_CLAIM, "").strip() or None
        admins = frozenset(t.strip().casefold() for t in environ.get(ADMIN_TEAMS, "").split(",") if t.strip())
        return cls(claim, admins)


@dataclass(frozen=True)
class Scope:
    teams: tuple[str, ...] | None  # the snapshot's names of the teams on offer; None: every team
    claimed: tuple[str, ...] = ()  # what the identity token said, for the message when nothing matches

    @property
    def limited(self) -> bool:
        return self.teams is not None


EVERY_TEAM = Scope(None)


def claimed_teams(user: Mapping[str, object], claim: str) -> tuple[str, ...]:
    """The claim's team names: a string is one team, a list several; anything else none."""
    value = user.get(claim)
    if isinstance(value, str):
        values: Iterable[object] = [value]
    elif isinstance(value, list | tuple):
        values = value
    else:
        return ()
    return tuple(dict.fromkeys(v.strip() for v in values if isinstance(v, str) and v.strip()))


def team_scope(user: Mapping[str, object] | None, rule: TeamRule, teams: Sequence[str]) -> Scope:
    """Which of the snapshot's ``teams`` a signed-in ``user`` is offered (None: not signed in, no limit)."""
    if rule.claim is None or user is None or not user.get("is_logged_in"):
        return EVERY_TEAM
    claimed = claimed_teams(user, rule.claim)
    if any(c.casefold() in rule.admin_teams for c in claimed):
        return EVERY_TEAM
    wanted = {c.casefold() for c in claimed}
    return Scope(tuple(t for t in teams if t.casefold() in wanted), claimed)


def display_name(user: Mapping[str, object]) -> str:
    for key in NAME_CLAIMS:
        value = user.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return "signed-in user"


# ------------------------------------------------------------------ Streamlit


def _user() -> dict[str, object] | None:
    """The identity-token claims when sign-in is configured, else None."""
    import streamlit as st

    info = st.user.to_dict()
    return dict(info) if "is_logged_in" in info else None


def require_login() -> None:
    """The one gate: with sign-in configured, nothing renders until someone signs in."""
    import streamlit as st

    from dashboard import ui

    user = _user()
    if user is None:
        return
    if not user.get("is_logged_in"):
        st.title("Platform Scorecard")
        st.write("Sign in with your organisation account to see the scorecard.")
        if st.button("Log in", type="primary", icon=":material/login:"):
            st.login()
        st.stop()
    with st.sidebar:
        st.caption(f"Signed in as **{ui.plain(display_name(user))}**")
        if st.button("Log out", icon=":material/logout:"):
            st.logout()


def current_scope(teams: Sequence[str]) -> Scope:
    return team_scope(_user(), TeamRule.from_environ(os.environ), teams)

"""Registration (报名): a contest's team rules, who may be fielded, the waiting list beyond the
team cap, and the factories of the registration events raised from several commands."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Iterable, Mapping

from competitions.domain.contests import UNKNOWN_MEMBER
from contracts.events import ContestantRegistered, TeamRegistered
from unionops.problems import RuleViolation


@dataclass(frozen=True)
class TeamRules:
    """A contest's team rules; the defaults are seed 001's announcement: each unit fields at least
    4 people, at least one of them a woman, one of them the team leader."""

    min_team_size: int = 4
    max_team_size: int | None = None
    min_women: int = 1
    team_cap: int | None = None            # teams beyond it wait, first come first served
    max_teams_per_unit: int | None = None


SEED_001_TEAM_RULES = TeamRules()


@dataclass(frozen=True)
class TeamMemberCandidate:
    """One person put forward for a team, with what the members projection knows of them
    (None when the projection does not know them)."""

    member_id: uuid.UUID
    is_leader: bool
    gender: str | None = None
    org_path: tuple[uuid.UUID, ...] | None = None
    status: str | None = None


def check_eligible(contest_org_id: uuid.UUID, member_org_path: Iterable[uuid.UUID]) -> None:
    """A contest is open to the members of its organising unit's subtree."""
    if contest_org_id not in set(member_org_path):
        raise RuleViolation("该会员不属于本竞赛主办单位及其下属工会，不能报名", field="member_id",
                            kind="not-eligible")


def check_team_shape(rules: TeamRules, members: list[TeamMemberCandidate]) -> None:
    """Size and leader: rules that need nothing but the form itself."""
    ids = [m.member_id for m in members]
    if len(set(ids)) != len(ids):
        raise RuleViolation("同一人在队员名单中出现多次", field="members", kind="duplicate-member")
    if len(members) < rules.min_team_size:
        raise RuleViolation(f"每队至少{rules.min_team_size}人，本队仅{len(members)}人", field="members",
                            kind="team-too-small")
    if rules.max_team_size is not None and len(members) > rules.max_team_size:
        raise RuleViolation(f"每队至多{rules.max_team_size}人，本队{len(members)}人", field="members",
                            kind="team-too-large")
    leaders = sum(1 for m in members if m.is_leader)
    if leaders != 1:
        raise RuleViolation(f"每队须有且只有一名领队，本队{leaders}名", field="members", kind="leader-count")


def check_team_members(contest_org_id: uuid.UUID, unit_id: uuid.UUID, members: list[TeamMemberCandidate]) -> None:
    """Members only: known to the projection, active, and within both the contest's subtree and
    the registering unit's subtree."""
    for i, m in enumerate(members):
        field = f"members.{i}.member_id"
        if m.org_path is None:
            raise RuleViolation(f"{UNKNOWN_MEMBER}（{m.member_id}）", field=field, kind="not-a-member")
        if m.status != "active":
            raise RuleViolation(f"该会员会籍状态为“{m.status}”，不能参赛（{m.member_id}）", field=field,
                                kind="not-a-member")
        if contest_org_id not in m.org_path:
            raise RuleViolation(f"该会员不属于本竞赛主办单位及其下属工会（{m.member_id}）", field=field,
                                kind="out-of-subtree")
        if unit_id not in m.org_path:
            raise RuleViolation(f"该会员不属于报名单位及其下属工会（{m.member_id}）", field=field, kind="out-of-subtree")


def check_team_women(rules: TeamRules, members: list[TeamMemberCandidate]) -> None:
    """At least `min_women` women; gender comes from the members projection (derived upstream
    from the resident ID number), never from the form."""
    women = sum(1 for m in members if m.gender == "female")
    if women < rules.min_women:
        raise RuleViolation(f"每队至少须有{rules.min_women}名女职工，本队{women}名", field="members", kind="no-woman")


def check_unit_in_contest(contest_org_id: uuid.UUID, unit_path: Iterable[uuid.UUID]) -> None:
    """Entrants are units of the organising unit's subtree (如园区各单位)."""
    if contest_org_id not in set(unit_path):
        raise RuleViolation("报名单位不属于本竞赛主办单位及其下属组织", field="union_id", kind="out-of-subtree")


def check_teams_per_unit(rules: TeamRules, standing_teams_of_unit: int) -> None:
    if rules.max_teams_per_unit is not None and standing_teams_of_unit >= rules.max_teams_per_unit:
        raise RuleViolation(f"每个单位至多报{rules.max_teams_per_unit}支队伍", field="union_id", status=409,
                            kind="teams-per-unit")


def place_for_new_team(rules: TeamRules, registered_teams: int) -> str:
    """Below the cap a team is registered; at or beyond it, it joins the waiting list."""
    return "registered" if rules.team_cap is None or registered_teams < rules.team_cap else "waitlisted"


def promotions(rules: TeamRules, registered_teams: int, waiting_in_order: list[uuid.UUID]) -> list[uuid.UUID]:
    """Teams that move up from the waiting list, first come first served, to fill free places."""
    free = len(waiting_in_order) if rules.team_cap is None else max(rules.team_cap - registered_teams, 0)
    return waiting_in_order[:free]


def rules_of(contest: Mapping) -> TeamRules:
    return TeamRules(min_team_size=contest["min_team_size"], max_team_size=contest["max_team_size"],
                     min_women=contest["min_women"], team_cap=contest["team_cap"],
                     max_teams_per_unit=contest["max_teams_per_unit"])


def team_registered(contest: Mapping, team: Mapping, *, promoted_from_waiting_list: bool = False) -> TeamRegistered:
    """A team holds a place: registered below the cap, or moved up from the waiting list."""
    return TeamRegistered(contest_id=contest["id"], contest_name=contest["name"], team_id=team["id"],
                          team_name=team["name"], union_id=team["union_id"], org_path=team["org_path"],
                          leader_member_id=team["leader_member_id"], member_ids=team["member_ids"],
                          promoted_from_waiting_list=promoted_from_waiting_list)


def contestant_registered(contest: Mapping, entry_id: uuid.UUID, member_id: uuid.UUID) -> ContestantRegistered:
    """An entry judges will score: a member of a team holding a place, or an individual entrant."""
    return ContestantRegistered(contest_id=contest["id"], contest_name=contest["name"], entry_id=entry_id,
                                member_id=member_id)

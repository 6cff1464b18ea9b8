"""Training programmes (培训班): created as a draft by the organising unit's staff, opened for
enrolment (TrainingOpened), running, finished — when the completion rule is applied to every
enrolee in one statement, certificates numbered and TrainingCompleted staged per member who
completed (membership records it in the member file). Enrolment from competitions' member
register, by staff in bulk (set-based, refused members listed with reasons) or by a member
themselves; attendance one session's list at a time."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone

import asyncpg

from competitions.domain.contests import UNKNOWN_UNIT
from competitions.domain.training import (
    REFUSALS, TRAINING_KINDS, CompletionRule, certificate_prefix, check_dates, check_dates_not_past,
    check_transition, enrolment_refusal,
)
from competitions.queries.training import managed_programme, member_of, not_found, programme_view
from contracts.events import TrainingCompleted, TrainingEnrolled, TrainingOpened
from unionops.auth import Principal
from unionops.problems import RuleViolation
from unionops.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class CreateProgramme:
    name: str
    kind: str
    org_id: uuid.UUID                 # 主办单位: members of its subtree may be enrolled
    starts_on: date
    ends_on: date
    rule: CompletionRule
    place: str | None = None
    capacity: int | None = None
    unemployed_only: bool = False     # 就业培训 for members retained as unemployed only


async def create_programme(uow: UnitOfWork, cmd: CreateProgramme, actor: Principal) -> dict:
    """举办培训班: a draft programme of a known unit of the caller's subtree."""
    conn = uow.conn
    if cmd.kind not in TRAINING_KINDS:
        raise RuleViolation(f"培训类型须为 {'、'.join(TRAINING_KINDS.values())} 之一", field="kind")
    check_dates(cmd.starts_on, cmd.ends_on)
    cmd.rule.check()
    if cmd.unemployed_only and cmd.kind != "job_skills":
        raise RuleViolation("只招收失业会员仅适用于就业和职工技能培训", field="unemployed_only")
    unit = await conn.fetchrow("SELECT org_id, org_path FROM org_units WHERE org_id = $1", cmd.org_id)
    if unit is None or not actor.covers(unit["org_path"]):  # out of scope: exactly as unknown
        raise RuleViolation(UNKNOWN_UNIT, field="org_id", kind="unknown-unit")
    programme_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO training_programmes (id, name, kind, org_id, org_path, starts_on, ends_on, place, sessions,"
        " min_sessions, assessment_required, capacity, unemployed_only, created_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        programme_id, cmd.name, cmd.kind, unit["org_id"], unit["org_path"], cmd.starts_on, cmd.ends_on, cmd.place,
        cmd.rule.sessions, cmd.rule.min_sessions, cmd.rule.assessment_required, cmd.capacity, cmd.unemployed_only,
        actor.subject)
    return programme_view(await managed_programme(conn, programme_id, actor))


async def set_status(uow: UnitOfWork, programme_id: uuid.UUID, status: str, actor: Principal, *,
                     today: date) -> dict:
    """Move a programme one step along draft → open → running → finished. Opening needs dates not
    wholly in the past and stages TrainingOpened; finishing applies the completion rule."""
    conn = uow.conn
    programme = await managed_programme(conn, programme_id, actor, for_update=True)
    check_transition(programme["status"], status)
    if status == "open":
        check_dates_not_past(programme["ends_on"], today)
    if status == "finished" and today < programme["starts_on"]:
        raise RuleViolation(f"培训班尚未开班（{programme['starts_on']:%Y年%m月%d日}开班），不能结业", field="status",
                            status=409, kind="training-not-started")
    await conn.execute(
        "UPDATE training_programmes SET status = $2, status_changed_at = $3, status_changed_by = $4,"
        " finished_on = CASE WHEN $2 = 'finished' THEN $5::date END WHERE id = $1",
        programme_id, status, datetime.now(timezone.utc), actor.subject, today)
    if status == "open":
        await uow.stage(TrainingOpened(
            programme_id=programme_id, programme_name=programme["name"], kind=programme["kind"],
            org_id=programme["org_id"], org_path=programme["org_path"], starts_on=programme["starts_on"],
            ends_on=programme["ends_on"], place=programme["place"], sessions=programme["sessions"],
            capacity=programme["capacity"]))
    if status == "finished":
        await _complete(uow, programme, today)
    return programme_view(await managed_programme(conn, programme_id, actor))


# The completion rule (domain.training.CompletionRule.completed) over every enrolee at once: the
# sessions attended, the assessment when required; a certificate number from the serial for each
# who completed.
_COMPLETE = """
UPDATE training_enrolments e
SET completed = c.ok, completed_on = CASE WHEN c.ok THEN $4::date END,
    certificate_no = CASE WHEN c.ok THEN $5 || lpad(nextval('training_certificate_serial')::text, 6, '0') END
FROM (SELECT x.member_id,
             count(a.member_id) >= $2 AND (NOT $3 OR bool_or(x.assessment_passed) IS TRUE) AS ok
      FROM training_enrolments x
      LEFT JOIN training_attendance a ON a.programme_id = x.programme_id AND a.member_id = x.member_id
      WHERE x.programme_id = $1 GROUP BY x.member_id) c
WHERE e.programme_id = $1 AND e.member_id = c.member_id
"""

_COMPLETED = """
SELECT e.programme_id, $2::text AS programme_name, $3::text AS kind, $6::text AS kind_label,
       $4::uuid[] AS org_path, e.member_id,
       e.union_id, e.certificate_no, e.completed_on, $5::int AS sessions,
       (SELECT count(*) FROM training_attendance a
        WHERE a.programme_id = e.programme_id AND a.member_id = e.member_id)::int AS sessions_attended,
       e.seq AS _seq
FROM training_enrolments e WHERE e.programme_id = $1 AND e.completed
"""


async def _complete(uow: UnitOfWork, programme: asyncpg.Record, today: date) -> None:
    await uow.conn.execute(_COMPLETE, programme["id"], programme["min_sessions"], programme["assessment_required"],
                           today, certificate_prefix(programme["kind"], today.year))
    await uow.stage_select(TrainingCompleted, _COMPLETED, programme["id"], programme["name"], programme["kind"],
                           programme["org_path"], programme["sessions"], TRAINING_KINDS[programme["kind"]],
                           order_by=("_seq",))


# ---- enrolment --------------------------------------------------------------------------------

def _check_enrolling(programme: asyncpg.Record) -> None:
    if programme["status"] != "open":
        raise RuleViolation("培训班未在报名中，不接受报名", status=409, kind="enrolment-closed")


async def _enrol(uow: UnitOfWork, programme: asyncpg.Record, member_ids: list[uuid.UUID], actor: Principal,
                 *, visible) -> dict:
    """Enrol those of `member_ids` (first occurrence, in order) who pass the rules, in one
    statement; the others are listed with the reason. `visible(row)`: whether the caller may
    know the member at all (else "not found")."""
    conn = uow.conn
    wanted = list(dict.fromkeys(member_ids))
    known = {r["member_id"]: r for r in await conn.fetch(
        "SELECT member_id, org_path, status, status_reason FROM members WHERE member_id = ANY($1::uuid[])", wanted)}
    taken = {r["member_id"] for r in await conn.fetch(
        "SELECT member_id FROM training_enrolments WHERE programme_id = $1 AND member_id = ANY($2::uuid[])",
        programme["id"], wanted)}
    places = None
    if programme["capacity"] is not None:
        places = programme["capacity"] - await conn.fetchval(
            "SELECT count(*) FROM training_enrolments WHERE programme_id = $1", programme["id"])
    accepted, refused = [], []
    for member_id in wanted:
        row = known.get(member_id)
        seen = row is not None and visible(row)
        reason = enrolment_refusal(
            known=seen, in_programme_subtree=seen and programme["org_id"] in row["org_path"],
            status=row["status"] if seen else "", status_reason=row["status_reason"] if seen else None,
            kind=programme["kind"], unemployed_only=programme["unemployed_only"],
            already_enrolled=member_id in taken)
        if reason is None and places is not None and len(accepted) >= places:
            reason = "capacity"
        if reason is None:
            accepted.append(member_id)
        else:
            refused.append({"member_id": member_id, "reason": reason, "message": REFUSALS[reason]})
    if accepted:
        await conn.execute(
            "INSERT INTO training_enrolments (programme_id, member_id, member_name, union_id, union_name, org_path,"
            " enrolled_by)"
            " SELECT $1, m.member_id, m.name, m.union_id, m.union_name, m.org_path, $3"
            " FROM unnest($2::uuid[]) WITH ORDINALITY AS w (member_id, n) JOIN members m USING (member_id)"
            " ORDER BY w.n", programme["id"], accepted, actor.subject)
        await uow.stage(TrainingEnrolled(
            programme_id=programme["id"], programme_name=programme["name"], kind=programme["kind"],
            kind_label=TRAINING_KINDS[programme["kind"]], org_path=programme["org_path"], member_ids=accepted, starts_on=programme["starts_on"],
            ends_on=programme["ends_on"], place=programme["place"]))
    return {"programme_id": programme["id"], "enrolled": accepted, "refused": refused}


async def enrol(uow: UnitOfWork, programme_id: uuid.UUID, member_ids: list[uuid.UUID], actor: Principal) -> dict:
    """Staff enrol members of the organiser's subtree in bulk; a member outside the caller's
    own subtree is "not found", like an unknown one."""
    programme = await managed_programme(uow.conn, programme_id, actor, for_update=True)
    _check_enrolling(programme)
    return await _enrol(uow, programme, member_ids, actor, visible=lambda row: actor.covers(row["org_path"]))


async def enrol_self(uow: UnitOfWork, programme_id: uuid.UUID, actor: Principal) -> dict:
    """A member enrols themselves (member token) in an open programme of a unit above their own;
    any other programme does not exist for them. A refusal is the rule's message (409)."""
    conn = uow.conn
    member = await member_of(conn, actor)
    row = await conn.fetchrow("SELECT id, org_id, name, kind, org_path, starts_on, ends_on, place, capacity,"
                              " unemployed_only, status FROM training_programmes WHERE id = $1 FOR UPDATE",
                              programme_id)
    if member is None or row is None or row["org_id"] not in member["org_path"] or row["status"] == "draft":
        raise not_found()
    _check_enrolling(row)
    result = await _enrol(uow, row, [member["member_id"]], actor, visible=lambda _: True)
    if result["refused"]:
        [refusal] = result["refused"]
        raise RuleViolation(refusal["message"], status=409, kind=f"enrolment-{refusal['reason'].replace('_', '-')}")
    return result


# ---- attendance and assessment -------------------------------------------------------------------

async def _running_with_enrolees(uow: UnitOfWork, programme_id: uuid.UUID, member_ids: list[uuid.UUID],
                                 actor: Principal, field: str) -> asyncpg.Record:
    """The programme, running, and every member named enrolled in it — else nothing is written."""
    programme = await managed_programme(uow.conn, programme_id, actor, for_update=True)
    if programme["status"] != "running":
        raise RuleViolation("培训班未在培训中，不能记录出勤或考核", status=409, kind="training-not-running")
    enrolled = {r["member_id"] for r in await uow.conn.fetch(
        "SELECT member_id FROM training_enrolments WHERE programme_id = $1 AND member_id = ANY($2::uuid[])",
        programme_id, member_ids)}
    strangers = [i for i, m in enumerate(member_ids) if m not in enrolled]
    if strangers:
        raise RuleViolation(f"第 {'、'.join(str(i + 1) for i in strangers[:20])} 位会员未报名本培训班",
                            field=f"{field}.{strangers[0]}", kind="not-enrolled")
    return programme


async def record_attendance(uow: UnitOfWork, programme_id: uuid.UUID, session: int, member_ids: list[uuid.UUID],
                            actor: Principal) -> dict:
    """A session's attendance list (签到表) as a whole: the members named were present, nobody
    else; sending it again replaces it."""
    members = list(dict.fromkeys(member_ids))
    programme = await _running_with_enrolees(uow, programme_id, members, actor, "member_ids")
    if session > programme["sessions"]:
        raise RuleViolation(f"课次须在 1 至 {programme['sessions']} 之间", field="path.session", kind="unknown-session")
    await uow.conn.execute(
        "DELETE FROM training_attendance WHERE programme_id = $1 AND session = $2 AND member_id <> ALL($3::uuid[])",
        programme_id, session, members)
    await uow.conn.execute(
        "INSERT INTO training_attendance (programme_id, session, member_id, recorded_by)"
        " SELECT $1, $2, unnest($3::uuid[]), $4 ON CONFLICT DO NOTHING", programme_id, session, members, actor.subject)
    return {"programme_id": programme_id, "session": session, "present": len(members), "member_ids": members}


async def record_assessment(uow: UnitOfWork, programme_id: uuid.UUID, passed: list[uuid.UUID],
                            failed: list[uuid.UUID], actor: Principal) -> dict:
    """考核 results, for programmes whose completion needs one: the members named passed or failed."""
    both = set(passed) & set(failed)
    if both:
        raise RuleViolation("同一会员不能同时考核通过和不通过", field="failed", kind="assessment-conflict")
    programme = await _running_with_enrolees(uow, programme_id, list(passed), actor, "passed")
    await _running_with_enrolees(uow, programme_id, list(failed), actor, "failed")
    if not programme["assessment_required"]:
        raise RuleViolation("本培训班结业不需考核", field="passed", status=409, kind="no-assessment")
    await uow.conn.execute(
        "UPDATE training_enrolments SET assessment_passed = member_id = ANY($2::uuid[])"
        " WHERE programme_id = $1 AND member_id = ANY($2::uuid[] || $3::uuid[])", programme_id, passed, failed)
    return {"programme_id": programme_id, "passed": len(set(passed)), "failed": len(set(failed))}

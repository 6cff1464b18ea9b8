"""Transfers (会员关系随劳动关系转移): membership follows employment. A member is moved by the
SENDING side — staff whose subtree covers the member's current union (a federation above both
ends included) —, by the member themself, or by an HR system's EmploymentChanged (commands.hr).
The receiving union cannot refuse: there is no accept step. Where the new employer has no union,
the union of the residence area holds the membership (rule in `domain.transfers.choose_residence_holder`).

Staff of the receiving side only may ASK (commands.transfer_requests): knowing a member id or
an ID number is never enough to move someone out of another subtree, so to such a caller
`POST /members/{id}/transfers` answers exactly like an unknown member."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import asyncpg
from opentelemetry import trace

from membership.commands.member_file import add_file_entry
from membership.domain.members import member_status_changed
from membership.domain.organisations import normalise_credit_code
from membership.domain.transfers import check_transfer, choose_residence_holder, member_transferred, transfer_initiator
from membership.queries import NOT_FOUND, load_member, member_view
from unionops.auth import Principal
from unionops.backdating import backdating, check_dated
from unionops.clock import local_today
from unionops.problems import Problem, RuleViolation
from unionops.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class TransferMember:
    member_id: uuid.UUID
    to_union_id: uuid.UUID | None
    new_employer: str
    new_employer_credit_code: str | None
    residence_region_code: str | None
    effective_on: date


@dataclass(frozen=True)
class Target:
    unit: asyncpg.Record  # id, path, level, kind, name
    held_by_residence_union: bool


_UNIT = "SELECT o.id, o.path, o.level, o.kind, o.name, o.established_on, o.status FROM org_units o"


async def resolve_target(conn: asyncpg.Connection, *, to_union_id: uuid.UUID | None, credit_code: str | None,
                         residence_region_code: str | None) -> Target:
    """The receiving union: the one named; else the union covering the new employer (by its
    unified social credit code); else the residence-area holder."""
    if to_union_id is not None:
        unit = await conn.fetchrow(_UNIT + " WHERE o.id = $1", to_union_id)
        if unit is None:
            raise RuleViolation("接收工会不存在", field="to_union_id")
        if unit["status"] != "active":
            raise RuleViolation("接收工会已合并或撤销", field="to_union_id", kind="unit-closed")
        return Target(unit, False)
    if credit_code:
        unit = await conn.fetchrow(
            _UNIT + " JOIN employers e ON e.union_id = o.id WHERE e.credit_code = $1 AND o.status = 'active'",
            credit_code)
        if unit is not None:
            return Target(unit, False)
    if not residence_region_code:
        raise RuleViolation("请指定接收工会，或提供新单位的统一社会信用代码（已建会）或居住地区划代码",
                            field="to_union_id", kind="no-receiving-union")
    candidates = await conn.fetch(
        _UNIT + " WHERE o.region_code = $1 AND o.level IN ('grassroots', 'street') AND o.status = 'active'",
        residence_region_code)
    holder = choose_residence_holder([dict(c) for c in candidates])
    if holder is None:
        raise RuleViolation(
            f"新单位尚未建会，居住地（区划代码 {residence_region_code}）也没有可托管会籍的联合基层工会、"
            "进城务工人员工会联合会或街道/乡镇工会", field="residence_region_code", kind="no-residence-union")
    return Target(next(c for c in candidates if c["id"] == holder["id"]), True)


async def transfer_member(uow: UnitOfWork, cmd: TransferMember, actor: Principal, *,
                          max_backdate_days: int | None = None, today: date | None = None) -> dict:
    """A transfer made over HTTP by the sending side or by the member themself, effective today or
    at most `max_backdate_days` before. Anyone else — the receiving side included — gets the 404
    of an unknown member, before any other check, so the answer tells them nothing about her."""
    conn, today = uow.conn, today or local_today()
    member = await load_member(conn, cmd.member_id, for_update=True)
    by_member = actor.is_member(member["id"])
    if not by_member and not actor.covers(member["path"]):
        raise Problem(404, NOT_FOUND, type_="/problems/not-found")
    if not by_member:
        actor.require("write")
    credit_code = normalise_credit_code(cmd.new_employer_credit_code, field="new_employer_credit_code") \
        if cmd.new_employer_credit_code else None
    target = await resolve_target(conn, to_union_id=cmd.to_union_id, credit_code=credit_code,
                                  residence_region_code=cmd.residence_region_code)
    initiated_by = transfer_initiator(by_member, actor.covers(member["path"]), actor.covers(target.unit["path"]))
    check_dated(cmd.effective_on, today, field="effective_on", what="转移生效日期",
                max_backdate_days=max_backdate_days)
    return await apply_transfer(
        uow, member, target, initiated_by=initiated_by, actor_name=actor.subject, new_employer=cmd.new_employer,
        credit_code=credit_code, residence_region_code=cmd.residence_region_code, effective_on=cmd.effective_on,
        today=today)


async def apply_transfer(uow: UnitOfWork, member, target: Target, *, initiated_by: str, actor_name: str,
                         new_employer: str | None, credit_code: str | None, residence_region_code: str | None,
                         effective_on: date, today: date, source_event_id: uuid.UUID | None = None,
                         request: dict | None = None) -> dict:
    """Move the (locked) member to `target`: transfer row, member file, MemberTransferred — and a
    retained member becomes active again (MemberStatusChanged), since they work again.
    `request`: the confirmed transfer request's facts (id, who asked, who confirmed), kept in
    the member file entry."""
    conn = uow.conn
    to = target.unit
    status_after = check_transfer(
        status=member["status"], from_union_id=member["union_id"], to_union_id=to["id"], to_level=to["level"],
        held_by_residence_union=target.held_by_residence_union, effective_on=effective_on,
        joined_on=member["joined_on"], today=today)
    transfer_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO member_transfers (id, member_id, from_union_id, to_union_id, reason, initiated_by,"
        " held_by_residence_union, new_employer, new_employer_credit_code, residence_region_code, effective_on,"
        " source_event_id, actor, request_id)"
        " VALUES ($1, $2, $3, $4, 'employment_change', $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        transfer_id, member["id"], member["union_id"], to["id"], initiated_by, target.held_by_residence_union,
        new_employer, credit_code, residence_region_code, effective_on, source_event_id, actor_name,
        request["request_id"] if request else None)
    await conn.execute(
        "UPDATE members SET union_id = $2, employer = $3, employer_credit_code = $4, status = $5,"
        " status_reason = CASE WHEN $5 = status THEN status_reason ELSE NULL END,"
        " status_changed_on = CASE WHEN $5 = status THEN status_changed_on ELSE $6 END, updated_at = now()"
        " WHERE id = $1",
        member["id"], to["id"], new_employer, credit_code, status_after, effective_on)
    detail = {
        "transfer_id": str(transfer_id), "from_union_id": str(member["union_id"]),
        "from_union_name": member["union_name"], "to_union_id": str(to["id"]), "to_union_name": to["name"],
        "initiated_by": initiated_by, "reason": "employment_change", "new_employer": new_employer,
        "held_by_residence_union": target.held_by_residence_union, "effective_on": effective_on.isoformat(),
        **backdating(effective_on, today, actor_name),
        **(request or {}),
    }
    await add_file_entry(conn, member["id"], "transferred", to["id"], detail, actor_name,
                         union_ids=[member["union_id"], to["id"]])
    events = [member_transferred(
        member["id"], from_union_id=member["union_id"], from_org_path=member["path"], to_unit=to,
        reason="employment_change", initiated_by=initiated_by, effective_on=effective_on,
        held_by_residence_union=target.held_by_residence_union,
        request_id=uuid.UUID(request["request_id"]) if request else None,
    )]
    if status_after != member["status"]:
        await add_file_entry(conn, member["id"], "status_changed", to["id"], {
            "from_status": member["status"], "to_status": status_after, "reason": "reactivated",
            "effective_on": effective_on.isoformat(), "because": "transferred",
        }, actor_name)
        events.append(member_status_changed(
            member["id"], union_id=to["id"], org_path=to["path"], from_status=member["status"],
            to_status=status_after, reason="reactivated", changed_on=effective_on))
    await uow.stage(*events)
    trace.get_current_span().set_attribute("member.id", str(member["id"]))
    return {
        "id": transfer_id, "member_id": member["id"], "from_union_id": member["union_id"],
        "from_union_name": member["union_name"], "to_union_id": to["id"], "to_union_name": to["name"],
        "held_by_residence_union": target.held_by_residence_union, "initiated_by": initiated_by,
        "reason": "employment_change", "new_employer": new_employer, "effective_on": effective_on,
        "member": member_view(await load_member(conn, member["id"])),
    }

"""Commendation commands: 安康杯 checklists, item scores and titles (a per-unit transaction lock
makes two grants racing for one unit see each other); nomination batches, their nominees,
submission under the quotas and the grant (one AwardGranted per award)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from opentelemetry import trace

from competitions.domain.awards import (
    ANKANG_AWARD, ANKANG_TITLE, AWARDS, ChecklistItem, ankang_total, check_award, check_checklist, check_draft,
    check_item_scores, check_no_repeat, check_quotas, check_threshold, nominee_attributes, quotas_for,
)
from competitions.domain.contests import UNKNOWN_MEMBER, UNKNOWN_UNIT
from competitions.domain.scoring import to_centipoints
from competitions.queries.awards import (
    award_view, batch, batch_view, checklist, checklist_items, checklist_view, nominee_view, scored_unit, unit_row,
    unit_sheet,
)
from contracts.events import AwardGranted
from unionops.auth import Principal
from unionops.problems import Problem, RuleViolation
from unionops.unit_of_work import UnitOfWork


def _span(**attributes) -> None:
    span = trace.get_current_span()
    for k, v in attributes.items():
        span.set_attribute(k, str(v))


async def _stage_award(uow: UnitOfWork, *, award: str, title: str, year: int, org_id: uuid.UUID,
                       union_id: uuid.UUID, member_id: uuid.UUID | None, org_path: list[uuid.UUID], granted_on: date,
                       actor: Principal, checklist_id: uuid.UUID | None = None, batch_id: uuid.UUID | None = None,
                       total_cp: int | None = None) -> uuid.UUID:
    award_id = uuid.uuid4()
    await uow.conn.execute(
        "INSERT INTO awards (id, award, title, year, union_id, member_id, org_id, checklist_id, batch_id,"
        " total_centipoints, granted_on, granted_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        award_id, award, title, year, union_id, member_id, org_id, checklist_id, batch_id, total_cp, granted_on,
        actor.subject)
    await uow.stage(AwardGranted(award_id=award_id, title=title, year=year, union_id=union_id,
                                 member_id=member_id, org_path=org_path, granted_on=granted_on))
    return award_id


@dataclass(frozen=True)
class CreateChecklist:
    org_id: uuid.UUID
    year: int
    threshold: Decimal
    items: list[tuple[str, str, Decimal]]   # code, title, full marks


async def create_checklist(uow: UnitOfWork, cmd: CreateChecklist, actor: Principal, settings) -> dict:
    conn = uow.conn
    actor.require("write")
    threshold_cp = to_centipoints(cmd.threshold, field="threshold")
    check_threshold(threshold_cp, min_points=settings.ankang_threshold_min_points,
                    max_points=settings.ankang_threshold_max_points)
    items = [ChecklistItem(code, title, to_centipoints(points, field="items")) for code, title, points in cmd.items]
    if any(i.max_centipoints <= 0 for i in items):
        raise RuleViolation("检查项目满分须大于0", field="items")
    check_checklist(items, full_marks_points=settings.ankang_full_marks_points)
    unit = await unit_row(conn, cmd.org_id, field="org_id", actor=actor)
    checklist_id = uuid.uuid4()
    inserted = await conn.fetchval(
        "INSERT INTO ankang_checklists (id, org_id, year, threshold_centipoints, created_by)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id, year) DO NOTHING RETURNING 1",
        checklist_id, unit["org_id"], cmd.year, threshold_cp, actor.subject)
    if inserted is None:
        raise RuleViolation(f"该单位 {cmd.year} 年的安康杯评分表已存在", field="year", status=409,
                            kind="checklist-exists")
    await conn.executemany(
        "INSERT INTO ankang_checklist_items (checklist_id, code, title, max_centipoints, position)"
        " VALUES ($1, $2, $3, $4, $5)",
        [(checklist_id, i.code, i.title, i.max_centipoints, n) for n, i in enumerate(items)])
    _span(**{"ankang.checklist_id": checklist_id})
    return await checklist_view(conn, checklist_id, actor)


async def score_unit(uow: UnitOfWork, checklist_id: uuid.UUID, unit_id: uuid.UUID,
                     scores: list[tuple[str, Decimal]], actor: Principal) -> dict:
    """The organiser's staff score items of a unit; each item once (a correction is a new year's
    question for the organiser, not an overwrite)."""
    conn = uow.conn
    actor.require("write")
    c = await checklist(conn, checklist_id, actor)
    await scored_unit(conn, c, unit_id)
    items = {i.code: i for i in await checklist_items(conn, checklist_id)}
    rows = [(checklist_id, unit_id, code, cp, actor.subject) for code, cp in check_item_scores(items, scores)]
    inserted = await conn.fetch(
        "INSERT INTO ankang_scores (checklist_id, unit_id, item_code, score_centipoints, scored_by)"
        " SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int[], $5::text[])"
        " ON CONFLICT DO NOTHING RETURNING item_code",
        *map(list, zip(*rows)))
    if len(inserted) != len(rows):
        done = sorted({code for _, _, code, _, _ in rows} - {r["item_code"] for r in inserted})
        raise RuleViolation(f"检查项目已评分：{'、'.join(items[c].title for c in done)}", field="scores",
                            status=409, kind="already-scored")
    return await unit_sheet(conn, checklist_id, unit_id, actor)


async def grant_ankang(uow: UnitOfWork, checklist_id: uuid.UUID, unit_id: uuid.UUID, actor: Principal, *,
                       today: date, no_repeat_years: int) -> dict:
    conn = uow.conn
    actor.require("write")
    c = await checklist(conn, checklist_id, actor)
    unit = await scored_unit(conn, c, unit_id)
    # Two grants for one unit (two organisers, or a retry) must see each other's award.
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('ankang:' || $1::text))", str(unit_id))
    scores = {r["item_code"]: r["score_centipoints"] for r in await conn.fetch(
        "SELECT item_code, score_centipoints FROM ankang_scores WHERE checklist_id = $1 AND unit_id = $2",
        checklist_id, unit_id)}
    total = ankang_total(await checklist_items(conn, checklist_id), scores, c["threshold_centipoints"])
    years_won = [r["year"] for r in await conn.fetch(
        "SELECT year FROM awards WHERE award = $1 AND union_id = $2", ANKANG_AWARD, unit_id)]
    check_no_repeat(c["year"], years_won, no_repeat_years=no_repeat_years)
    award_id = await _stage_award(uow, award=ANKANG_AWARD, title=ANKANG_TITLE, year=c["year"], org_id=c["org_id"],
                                  union_id=unit_id, member_id=None, org_path=list(unit["org_path"]),
                                  granted_on=today, actor=actor, checklist_id=checklist_id, total_cp=total)
    _span(**{"award.id": award_id, "org.id": unit_id})
    return await award_view(conn, award_id)


async def create_batch(uow: UnitOfWork, org_id: uuid.UUID, award: str, year: int, actor: Principal) -> dict:
    conn = uow.conn
    actor.require("write")
    check_award(award)
    await unit_row(conn, org_id, field="org_id", actor=actor)  # a known unit of the caller's subtree
    batch_id = uuid.uuid4()
    inserted = await conn.fetchval(
        "INSERT INTO nomination_batches (id, org_id, award, year, created_by) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (org_id, award, year) DO NOTHING RETURNING 1", batch_id, org_id, award, year, actor.subject)
    if inserted is None:
        raise RuleViolation(f"该单位 {year} 年的{AWARDS[award][0]}推荐名单已存在", field="year", status=409,
                            kind="batch-exists")
    _span(**{"nomination.batch_id": batch_id})
    return batch_id


@dataclass(frozen=True)
class Nominate:
    member_id: uuid.UUID | None
    union_id: uuid.UUID | None
    team_name: str | None
    front_line: bool
    unit_head: bool


async def add_nominee(uow: UnitOfWork, batch_id: uuid.UUID, cmd: Nominate, actor: Principal) -> dict:
    """Individual awards nominate a member of the organiser's subtree; collective ones a unit of
    it (or a team in that unit, by name)."""
    conn = uow.conn
    actor.require("write")
    b = await batch(conn, batch_id, actor, lock=True)
    check_draft(b["status"])
    individual = AWARDS[b["award"]][1]
    if individual:
        if cmd.member_id is None:
            raise RuleViolation(f"{AWARDS[b['award']][0]}推荐对象须为会员", field="member_id")
        m = await conn.fetchrow("SELECT member_id, union_id, org_path, name, gender, is_migrant_worker FROM members"
                                " WHERE member_id = $1", cmd.member_id)
        if m is None:
            raise RuleViolation(UNKNOWN_MEMBER, field="member_id", kind="unknown-member")
        path, union_id, name = m["org_path"], m["union_id"], m["name"]
        gender, migrant, unit_head = m["gender"], m["is_migrant_worker"], cmd.unit_head
    else:
        if cmd.union_id is None or cmd.member_id is not None:
            raise RuleViolation(f"{AWARDS[b['award']][0]}推荐对象须为单位或班组（union_id）", field="union_id")
        unit = await unit_row(conn, cmd.union_id, field="union_id")
        path, union_id, name = unit["org_path"], unit["org_id"], cmd.team_name or unit["name"]
        gender, migrant, unit_head = None, False, False
    if b["org_id"] not in path:  # outside the nominating unit's subtree: exactly as unknown
        if individual:
            raise RuleViolation(UNKNOWN_MEMBER, field="member_id", kind="unknown-member")
        raise RuleViolation(UNKNOWN_UNIT, field="union_id", kind="unknown-unit")
    nominee_id = uuid.uuid4()
    # Once per award and year (a member) or per batch (a unit or team): the unique indexes decide,
    # also between two nominations racing.
    inserted = await conn.fetchval(
        "INSERT INTO nominees (id, batch_id, award, year, member_id, union_id, name, gender, migrant_worker,"
        " front_line, unit_head, nominated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        " ON CONFLICT DO NOTHING RETURNING 1",
        nominee_id, batch_id, b["award"], b["year"], cmd.member_id if individual else None, union_id, name,
        gender, migrant, cmd.front_line, unit_head, actor.subject)
    if inserted is None:
        raise RuleViolation(f"该推荐对象已被推荐 {b['year']} 年{AWARDS[b['award']][0]}", status=409,
                            field="member_id" if individual else "union_id", kind="already-nominated")
    return await nominee_view(conn, nominee_id)


async def remove_nominee(uow: UnitOfWork, batch_id: uuid.UUID, nominee_id: uuid.UUID,
                         actor: Principal) -> None:
    conn = uow.conn
    actor.require("write")
    check_draft((await batch(conn, batch_id, actor, lock=True))["status"])
    if await conn.fetchval("DELETE FROM nominees WHERE id = $1 AND batch_id = $2 RETURNING 1", nominee_id,
                           batch_id) is None:
        raise Problem(404, "推荐名单中无此推荐对象")


async def submit_batch(uow: UnitOfWork, batch_id: uuid.UUID, actor: Principal, configured_quotas) -> dict:
    """上报: only a list that meets every quota; the quotas in force are kept with it."""
    conn = uow.conn
    actor.require("write")
    b = await batch(conn, batch_id, actor, lock=True)
    check_draft(b["status"])
    quotas = quotas_for(b["award"], configured_quotas)
    check_quotas(nominee_attributes(await conn.fetch("SELECT * FROM nominees WHERE batch_id = $1", batch_id)), quotas)
    await conn.execute("UPDATE nomination_batches SET status = 'submitted', quotas = $2, submitted_by = $3,"
                       " submitted_at = now() WHERE id = $1", batch_id, quotas, actor.subject)
    return await batch_view(conn, batch_id, actor, configured_quotas)


async def grant_batch(uow: UnitOfWork, batch_id: uuid.UUID, actor: Principal, *, today: date,
                      configured_quotas) -> dict:
    """授予: every nominee of a submitted list gets the title; one AwardGranted each."""
    conn = uow.conn
    actor.require("write")
    b = await batch(conn, batch_id, actor, lock=True)
    if b["status"] != "submitted":
        raise RuleViolation("推荐名单须先上报（满足比例要求）方可授予" if b["status"] == "draft" else "该推荐名单已授予",
                            status=409, kind="batch-not-submitted" if b["status"] == "draft" else "batch-granted")
    title = AWARDS[b["award"]][0]
    # The award goes to the union named at nomination (for a member, their union then), with
    # that union's current path.
    rows = await conn.fetch(
        "SELECT n.*, u.org_path AS path, u.name AS unit_name FROM nominees n"
        " LEFT JOIN org_units u ON u.org_id = n.union_id WHERE n.batch_id = $1 ORDER BY n.nominated_at, n.id",
        batch_id)
    for r in rows:
        if r["path"] is None:
            raise RuleViolation(f"推荐对象 {r['name']} 所在单位尚未同步", status=409, kind="unknown-unit")
        team = r["member_id"] is None and r["name"] != r["unit_name"]
        await _stage_award(uow, award=b["award"], title=f"{title}（{r['name']}）" if team else title,
                           year=b["year"], org_id=b["org_id"], union_id=r["union_id"], member_id=r["member_id"],
                           org_path=list(r["path"]), granted_on=today, actor=actor, batch_id=batch_id)
    await conn.execute("UPDATE nomination_batches SET status = 'granted', granted_by = $2, granted_at = now()"
                       " WHERE id = $1", batch_id, actor.subject)
    return await batch_view(conn, batch_id, actor, configured_quotas)

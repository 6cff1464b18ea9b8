"""Commands of 厂务公开 (an employer's openness system, and each publication) and of labour-dispute
mediation committees (劳动争议调解委员会) of employers and streets (issue 14)."""
from __future__ import annotations

import uuid
from datetime import date

from contracts.events import MediationCommitteeFormed, OpennessRecorded
from membership.domain.congresses import check_after
from membership.queries import load_unit
from membership.queries.openness_and_mediation import employer_in_scope, mediation_committee, openness
from unionops.auth import Principal
from unionops.problems import RuleViolation
from unionops.unit_of_work import UnitOfWork, refusing_duplicates


async def record_openness(uow: UnitOfWork, employer_id: uuid.UUID, established_on: date, items: list[str],
                          actor: Principal) -> dict:
    """The employer's 厂务公开 system: when it was established and what it discloses (replaced
    when recorded again; its publications stay)."""
    conn = uow.conn
    employer = await employer_in_scope(conn, employer_id, actor)
    first = await conn.fetchval("SELECT min(published_on) FROM openness_publications WHERE employer_id = $1",
                                employer_id)
    if first is not None and established_on > first:
        raise RuleViolation(f"建立日期不能晚于首次公开日期（{first.isoformat()}）", field="established_on")
    await conn.execute(
        "INSERT INTO openness_systems (employer_id, established_on, items, recorded_by) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (employer_id) DO UPDATE SET established_on = EXCLUDED.established_on, items = EXCLUDED.items,"
        " recorded_by = EXCLUDED.recorded_by, recorded_at = now()",
        employer_id, established_on, items, actor.subject)
    await uow.stage(OpennessRecorded(employer_id=employer_id, org_path=list(employer["org_path"]),
                                     established_on=established_on, items=items))
    return await openness(conn, employer_id, actor)


async def record_publication(uow: UnitOfWork, employer_id: uuid.UUID, published_on: date, items: list[str] | None,
                             actor: Principal) -> dict:
    """A publication (公开) under the system in place; its items default to the system's."""
    conn = uow.conn
    employer = await employer_in_scope(conn, employer_id, actor)
    system = await conn.fetchrow("SELECT established_on, items FROM openness_systems WHERE employer_id = $1"
                                 " FOR UPDATE", employer_id)
    if system is None:
        raise RuleViolation("该企业尚未建立厂务公开制度", status=409, kind="openness-not-established")
    check_after(published_on, system["established_on"], field="published_on", what="公开日期")
    items = items or list(system["items"])
    await conn.execute("INSERT INTO openness_publications (employer_id, published_on, items, recorded_by)"
                       " VALUES ($1, $2, $3, $4)", employer_id, published_on, items, actor.subject)
    await uow.stage(OpennessRecorded(employer_id=employer_id, org_path=list(employer["org_path"]),
                                     established_on=system["established_on"], published_on=published_on, items=items))
    return await openness(conn, employer_id, actor)


async def form_mediation_committee(uow: UnitOfWork, employer_id: uuid.UUID | None, street_id: uuid.UUID | None,
                                   established_on: date, members_count: int, chair_name: str | None,
                                   actor: Principal) -> dict:
    """An employer's committee (its workers' and management's representatives), or a street's
    (区域性调解委员会); one of each at most."""
    conn = uow.conn
    if (employer_id is None) == (street_id is None):
        raise RuleViolation("请指定企业或街道（二者选一）", field="employer_id")
    if employer_id is not None:
        employer = await employer_in_scope(conn, employer_id, actor, field="employer_id")
        org_id, path = employer["org_id"], employer["org_path"]
    else:
        street = await load_unit(conn, street_id, field="street_id", actor=actor)
        if street["level"] != "street":
            raise RuleViolation("区域性调解委员会须设在街道（乡镇）一级", field="street_id")
        org_id, path = street_id, street["path"]
    committee_id = uuid.uuid4()
    refusal = RuleViolation("该企业或街道已有劳动争议调解委员会", field="employer_id" if employer_id else "street_id",
                            status=409, kind="mediation-committee-exists")
    async with refusing_duplicates(conn, refusal):
        await conn.execute(
            "INSERT INTO mediation_committees (id, employer_id, street_id, established_on, members_count, chair_name,"
            " recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            committee_id, employer_id, street_id, established_on, members_count, chair_name, actor.subject)
    await uow.stage(MediationCommitteeFormed(
        committee_id=committee_id, level="employer" if employer_id else "street", employer_id=employer_id,
        org_id=org_id, org_path=list(path), established_on=established_on, members_count=members_count))
    return await mediation_committee(conn, committee_id, actor)

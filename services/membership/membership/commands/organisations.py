"""Commands on the organisation tree (组织): the city root, founding, merging, dissolving and moving
units, employers and yearly targets. Each runs in the caller's unit of work and stages its events
there."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import asyncpg
from opentelemetry import trace

from contracts.events import EmployerContactChanged, UnionDissolved, UnionMerged, UnionMoved
from membership.domain.members import member_status_changed
from membership.domain.organisations import check_child_unit, normalise_credit_code, union_established
from membership.domain.transfers import member_transferred
from membership.queries import UNIT_NOT_FOUND, load_unit
from unionops.auth import Principal, root_org_id
from unionops.clock import local_today
from unionops.pii import Vault, b64, mask_email
from unionops.problems import Problem, RuleViolation
from unionops.scope import row_in_scope
from unionops.projections import rewrite_path_prefix
from unionops.unit_of_work import UnitOfWork, refusing_duplicates


@dataclass(frozen=True)
class EstablishUnion:
    parent_id: uuid.UUID
    name: str
    level: str
    kind: str
    region_code: str
    established_on: date
    employer_ids: tuple[uuid.UUID, ...] = ()


async def ensure_city_root(uow: UnitOfWork, region_code: str, name: str) -> bool:
    """The root of the tree exists from the first start; its id derives from the region code."""
    root, established_on = root_org_id(region_code), local_today()
    inserted = await uow.conn.fetchval(
        "INSERT INTO org_units (id, parent_id, path, level, kind, name, region_code, established_on, created_by)"
        " VALUES ($1, NULL, ARRAY[$1]::uuid[], 'city', 'federation', $2, $3, $4, 'system')"
        " ON CONFLICT (id) DO NOTHING RETURNING 1",
        root, name, region_code, established_on,
    )
    if inserted:
        await uow.stage(union_established(org_id=root, parent_id=None, org_path=[root], name=name, level="city",
                                          kind="federation", region_code=region_code, established_on=established_on))
    return bool(inserted)


async def establish_union(uow: UnitOfWork, cmd: EstablishUnion, actor: Principal) -> dict:
    conn = uow.conn
    parent = await load_unit(conn, cmd.parent_id, field="parent_id", actor=actor)
    check_child_unit(parent["level"], cmd.level, cmd.kind)
    org_id = uuid.uuid4()
    path = [*parent["path"], org_id]
    try:
        await conn.execute(
            "INSERT INTO org_units (id, parent_id, path, level, kind, name, region_code, established_on, created_by)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            org_id, cmd.parent_id, path, cmd.level, cmd.kind, cmd.name, cmd.region_code, cmd.established_on,
            actor.subject,
        )
    except asyncpg.UniqueViolationError:
        raise RuleViolation("上级组织下已有同名组织", field="name", status=409, kind="duplicate-unit") from None
    if cmd.employer_ids:
        if cmd.level != "grassroots":
            raise RuleViolation("只有基层工会可以覆盖企业", field="employer_ids")
        linked = await conn.fetch(
            "UPDATE employers e SET union_id = $1 FROM org_units o WHERE e.id = ANY($2::uuid[])"
            " AND o.id = e.org_id AND $3 = ANY(o.path) RETURNING e.id", org_id, cmd.employer_ids, actor.org_id)
        if len(linked) != len(set(cmd.employer_ids)):
            raise RuleViolation("企业不存在或不在您的管辖范围内", field="employer_ids")
    await _history(conn, org_id, "established", {"parent_id": str(cmd.parent_id)}, actor)
    await uow.stage(union_established(
        org_id=org_id, parent_id=cmd.parent_id, org_path=path, name=cmd.name, level=cmd.level, kind=cmd.kind,
        region_code=cmd.region_code, established_on=cmd.established_on,
    ))
    trace.get_current_span().set_attribute("org.id", str(org_id))
    return {"id": org_id, "parent_id": cmd.parent_id, "path": path, "name": cmd.name, "level": cmd.level,
            "kind": cmd.kind, "region_code": cmd.region_code, "established_on": cmd.established_on}


async def _active_unit(conn: asyncpg.Connection, org_id: uuid.UUID, *, field: str,
                       actor: Principal) -> asyncpg.Record:
    """An open unit of the caller's subtree, locked; outside it answers like an unknown one."""
    unit = await conn.fetchrow(
        "SELECT id, parent_id, path, level, kind, name, status FROM org_units WHERE id = $1 FOR UPDATE", org_id)
    if unit is None or not actor.covers(unit["path"]):
        raise RuleViolation("组织不存在", field=field)
    if unit["status"] != "active":
        raise RuleViolation("该组织已合并或撤销", field=field, status=409, kind="unit-closed")
    return unit


async def _history(conn: asyncpg.Connection, org_id: uuid.UUID, kind: str, detail: dict, actor: Principal) -> None:
    await conn.execute("INSERT INTO org_unit_history (org_id, kind, detail, actor) VALUES ($1, $2, $3, $4)",
                       org_id, kind, detail, actor.subject)


async def _move_members(conn: asyncpg.Connection, from_id: uuid.UUID, to_unit: asyncpg.Record, *, status: str | None,
                        entry_kind: str, detail: dict, actor: Principal, on: date) -> list[asyncpg.Record]:
    """Set-based: every member still held by `from_id` moves to `to_unit`, each with a file entry
    naming both unions (so the old union can still read the file) and a transfer record."""
    moved = await conn.fetch(
        "UPDATE members SET union_id = $2, status = COALESCE($3, status),"
        " status_reason = CASE WHEN $3::text IS NULL THEN status_reason ELSE $4 END,"
        " status_changed_on = CASE WHEN $3::text IS NULL THEN status_changed_on ELSE $5 END, updated_at = now()"
        " WHERE union_id = $1 AND status <> 'left' RETURNING id, status",
        from_id, to_unit["id"], status, detail["reason"], on)
    if moved:
        ids = [m["id"] for m in moved]
        await conn.execute(
            "INSERT INTO member_file_entries (member_id, kind, union_id, union_ids, detail, actor)"
            " SELECT unnest($1::uuid[]), $2, $3, ARRAY[$6::uuid, $3], $4, $5",
            ids, entry_kind, to_unit["id"], detail, actor.subject, from_id)
        await conn.execute(
            "INSERT INTO member_transfers (id, member_id, from_union_id, to_union_id, reason, initiated_by,"
            " effective_on, actor) SELECT gen_random_uuid(), unnest($1::uuid[]), $2, $3, $4, 'federation', $5, $6",
            ids, from_id, to_unit["id"], detail["reason"], on, actor.subject)
    return moved


async def merge_union(uow: UnitOfWork, org_id: uuid.UUID, into_id: uuid.UUID, actor: Principal,
                      on: date) -> dict:
    """Merge one grassroots union into another: members, employers and history follow."""
    conn = uow.conn
    if org_id == into_id:
        raise RuleViolation("不能与自身合并", field="into_org_id")
    source = await _active_unit(conn, org_id, field="org_id", actor=actor)
    target = await _active_unit(conn, into_id, field="into_org_id", actor=actor)
    if source["level"] != "grassroots" or target["level"] != "grassroots":
        raise RuleViolation("只有基层工会之间可以合并", field="into_org_id")
    detail = {"from_union_id": str(org_id), "from_union_name": source["name"], "reason": "union_merged",
              "effective_on": on.isoformat()}  # the figures date a back-dated merger by it
    moved = await _move_members(conn, org_id, target, status=None, entry_kind="transferred", detail=detail,
                                actor=actor, on=on)
    await conn.execute("UPDATE employers SET union_id = $2 WHERE union_id = $1", org_id, into_id)
    await conn.execute("UPDATE org_units SET status = 'merged', closed_on = $2, merged_into = $3 WHERE id = $1",
                       org_id, on, into_id)
    await _history(conn, org_id, "merged", {"into_org_id": str(into_id), "members_moved": len(moved)}, actor)
    await _history(conn, into_id, "absorbed", {"org_id": str(org_id), "members_moved": len(moved)}, actor)
    await uow.stage(
        UnionMerged(org_id=org_id, into_org_id=into_id, into_org_path=target["path"], members_moved=len(moved),
                    merged_on=on),
        *(member_transferred(m["id"], from_union_id=org_id, from_org_path=source["path"], to_unit=target,
                             reason="union_merged", initiated_by="federation", effective_on=on) for m in moved),
    )
    return {"org_id": org_id, "into_org_id": into_id, "members_moved": len(moved), "merged_on": on}


async def dissolve_union(uow: UnitOfWork, org_id: uuid.UUID, actor: Principal, on: date, reason: str) -> dict:
    """Dissolve a unit: its members' memberships are held by the parent union (会籍保留)."""
    conn = uow.conn
    unit = await _active_unit(conn, org_id, field="org_id", actor=actor)
    if unit["level"] == "city":
        raise RuleViolation("市总工会不能撤销", field="org_id")
    if await conn.fetchval("SELECT 1 FROM org_units WHERE parent_id = $1 AND status = 'active' LIMIT 1", org_id):
        raise RuleViolation("该组织下仍有下级组织，请先合并或撤销下级", field="org_id", status=409, kind="unit-has-children")
    holder = await conn.fetchrow("SELECT id, path, name FROM org_units WHERE id = $1", unit["parent_id"])
    detail = {"from_union_id": str(org_id), "from_union_name": unit["name"], "reason": "union_dissolved",
              "effective_on": on.isoformat()}
    before = {r["id"]: r["status"] for r in await conn.fetch(
        "SELECT id, status FROM members WHERE union_id = $1 AND status <> 'left'", org_id)}
    moved = await _move_members(conn, org_id, holder, status="retained", entry_kind="transferred", detail=detail,
                                actor=actor, on=on)
    await conn.execute("UPDATE employers SET union_id = NULL WHERE union_id = $1", org_id)
    await conn.execute("UPDATE org_units SET status = 'dissolved', closed_on = $2 WHERE id = $1", org_id, on)
    await _history(conn, org_id, "dissolved", {"reason": reason, "holder_org_id": str(holder["id"]),
                                               "members_retained": len(moved)}, actor)
    events = [UnionDissolved(org_id=org_id, holder_org_id=holder["id"], holder_org_path=holder["path"],
                             members_retained=len(moved), dissolved_on=on)]
    for m in moved:
        events.append(member_transferred(m["id"], from_union_id=org_id, from_org_path=unit["path"], to_unit=holder,
                                         reason="union_dissolved", initiated_by="federation", effective_on=on))
        if before[m["id"]] != "retained":
            events.append(member_status_changed(m["id"], union_id=holder["id"], org_path=holder["path"],
                                                from_status=before[m["id"]], to_status="retained",
                                                reason="union_dissolved", changed_on=on))
    await uow.stage(*events)
    return {"org_id": org_id, "holder_org_id": holder["id"], "members_retained": len(moved), "dissolved_on": on}


async def move_unit(uow: UnitOfWork, org_id: uuid.UUID, new_parent_id: uuid.UUID, actor: Principal,
                    on: date) -> dict:
    """Move a unit with its subtree under another parent of the right level; paths follow."""
    conn = uow.conn
    unit = await _active_unit(conn, org_id, field="org_id", actor=actor)
    parent = await _active_unit(conn, new_parent_id, field="new_parent_id", actor=actor)
    if unit["level"] == "city":
        raise RuleViolation("市总工会不能移动", field="org_id")
    if org_id in parent["path"]:
        raise RuleViolation("不能移到自身或下级组织之下", field="new_parent_id")
    if unit["parent_id"] == new_parent_id:
        raise RuleViolation("已在该上级组织之下", field="new_parent_id")
    check_child_unit(parent["level"], unit["level"], unit["kind"])
    old_path = list(unit["path"])
    new_path = [*parent["path"], org_id]
    refusal = RuleViolation("新上级组织下已有同名组织", field="new_parent_id", status=409, kind="duplicate-unit")
    async with refusing_duplicates(conn, refusal):
        await conn.execute("UPDATE org_units SET parent_id = $2 WHERE id = $1", org_id, new_parent_id)
        await rewrite_path_prefix(conn, "org_units", "path", old_path, new_path)
    await _history(conn, org_id, "moved", {"old_parent_id": str(unit["parent_id"]),
                                           "new_parent_id": str(new_parent_id)}, actor)
    await uow.stage(UnionMoved(org_id=org_id, old_path=old_path, new_path=new_path, moved_on=on))
    return {"org_id": org_id, "old_path": old_path, "new_path": new_path, "moved_on": on}


@dataclass(frozen=True)
class RegisterEmployer:
    org_id: uuid.UUID
    name: str
    credit_code: str | None
    ownership: str
    headcount: int
    has_collective_contract: bool
    union_id: uuid.UUID | None
    above_designated_size: bool = False  # 规模以上: by revenue, recorded (not derived from headcount)


async def register_employer(uow: UnitOfWork, cmd: RegisterEmployer, actor: Principal) -> dict:
    conn = uow.conn
    credit_code = normalise_credit_code(cmd.credit_code) if cmd.credit_code else None
    await load_unit(conn, cmd.org_id, field="org_id", actor=actor)  # known and in the caller's scope
    if cmd.union_id is not None:
        union = await load_unit(conn, cmd.union_id, field="union_id", actor=actor)
        if union["level"] != "grassroots":
            raise RuleViolation("覆盖企业的须为基层工会", field="union_id")
    employer_id = uuid.uuid4()
    refusal = RuleViolation("该统一社会信用代码已登记", field="credit_code", status=409, kind="duplicate-employer")
    async with refusing_duplicates(conn, refusal):
        await conn.execute(
            "INSERT INTO employers (id, org_id, union_id, name, credit_code, ownership, headcount,"
            " has_collective_contract, above_designated_size) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            employer_id, cmd.org_id, cmd.union_id, cmd.name, credit_code, cmd.ownership, cmd.headcount,
            cmd.has_collective_contract, cmd.above_designated_size)
    return {"id": employer_id, "org_id": cmd.org_id, "union_id": cmd.union_id, "name": cmd.name,
            "credit_code": credit_code, "ownership": cmd.ownership, "headcount": cmd.headcount,
            "has_collective_contract": cmd.has_collective_contract, "above_designated_size": cmd.above_designated_size}


async def targets_from_above(conn: asyncpg.Connection, org_id: uuid.UUID, actor: Principal) -> None:
    """Targets are set from above: a unit's superiors, never the unit itself (the city sets its own).
    The unit is the path's: unknown or outside the caller's subtree, it is not found (404)."""
    unit = await row_in_scope(conn, actor, Problem(404, UNIT_NOT_FOUND),
                              "SELECT level, path, status FROM org_units WHERE id = $1", org_id, path="path")
    if unit["status"] != "active":
        raise RuleViolation("该组织已合并或撤销", field="org_id", status=409, kind="unit-closed")
    if actor.org_id == org_id and unit["level"] != "city":
        raise RuleViolation("目标须由上级组织下达", field="org_id", status=403, kind="targets-from-above")


async def set_targets(uow: UnitOfWork, org_id: uuid.UUID, year: int, unions_target: int | None,
                      members_target: int | None, actor: Principal) -> dict:
    conn = uow.conn
    await targets_from_above(conn, org_id, actor)
    await conn.execute(
        "INSERT INTO coverage_targets (org_id, year, unions_target, members_target, set_by) VALUES ($1,$2,$3,$4,$5)"
        " ON CONFLICT (org_id, year) DO UPDATE SET unions_target = EXCLUDED.unions_target,"
        " members_target = EXCLUDED.members_target, set_by = EXCLUDED.set_by, set_at = now()",
        org_id, year, unions_target, members_target, actor.subject)
    return {"org_id": org_id, "year": year, "unions_target": unions_target, "members_target": members_target}


EMPLOYER_NOT_FOUND = "企业不存在或不在您的管辖范围内"


async def set_employer_contact(uow: UnitOfWork, employer_id: uuid.UUID, contact_name: str | None,
                               email: str | None, actor: Principal, vault: Vault) -> dict:
    """The employer side's contact for collective bargaining (None, None: withdrawn). The e-mail is
    kept under the vault and goes to notify sealed under the contact ring (EmployerContactChanged)."""
    conn = uow.conn
    employer = await row_in_scope(
        conn, actor, Problem(404, EMPLOYER_NOT_FOUND),
        "SELECT e.id, e.name, o.path FROM employers e JOIN org_units o ON o.id = e.org_id WHERE e.id = $1 FOR UPDATE OF e",
        employer_id, path="path")
    await conn.execute("UPDATE employers SET contact_name = $2, contact_email_enc = $3, contact_changed_at = now()"
                       " WHERE id = $1", employer_id, contact_name,
                       vault.encrypt(EmployerContactChanged.email_field, email) if email else None)
    sealed = vault.contact_keys.seal_field(EmployerContactChanged.email_field, str(employer_id), email) if email else None
    await uow.stage(EmployerContactChanged(
        employer_id=employer_id, employer_name=employer["name"], contact_name=contact_name,
        email_sealed=b64(sealed)))
    return {"employer_id": employer_id, "contact_name": contact_name, "email_masked": mask_email(email) if email else None}

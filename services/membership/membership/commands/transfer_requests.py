"""Transfer requests (会员关系接转申请): how staff of a RECEIVING union take up a worker who is a
member in another subtree. They may not move her (only the sending side, the member or HR do,
commands.transfers); they ask, naming the person by ID number, and the request takes effect
when the member or the sending side confirms.

No existence oracle: asking answers 202 with a request id and `pending` whether or not the
person is a member, and whatever subtree she is in. A request about no member is kept too and
simply expires. The asking side sees only what it already knew (its own request, the masked ID
number, its union, the status, the expiry); a request the member declined stays `pending` to the
asker until its expiry date and then reads `expired`, exactly like one about nobody, and asking
again answers with the same request.

Who decides: the member or the sending side confirms; only the member may decline (the sending
union may not block a move — DOMAIN.md 会员组织关系接转 — it confirms or leaves it to the member).
Unanswered requests expire after TRANSFER_REQUEST_EXPIRY_DAYS: a periodic sweep, and lazily
before every use. The member and the sending side are told (TransferRequested,
TransferRequestClosed; a confirmation is a MemberTransferred carrying the request id). The
member file (readable by the sending side only — the receiving union is not added to the
entry's unions until the move) records who asked, who confirmed or declined, and the expiry."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from contracts.events import TransferRequestClosed, TransferRequested
from membership.commands.member_file import add_file_entry
from membership.commands.transfers import Target, apply_transfer
from membership.domain.organisations import check_admitting_unit, normalise_credit_code
from membership.queries import MEMBER_QUERY, REQUEST_NOT_FOUND, REQUEST_QUERY, asker_view, load_member, sending_view
from unionops.auth import Principal
from unionops.clock import local_today
from unionops.pii import InvalidResidentId, Vault, parse_resident_id
from unionops.problems import Problem, RuleViolation
from unionops.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class RequestTransfer:
    id_number: str
    to_union_id: uuid.UUID
    new_employer: str
    new_employer_credit_code: str | None


async def request_transfer(uow: UnitOfWork, cmd: RequestTransfer, actor: Principal, vault: Vault, *,
                           expiry_days: int) -> dict:
    """Ask for the person with this ID number to be moved into the caller's union."""
    conn = uow.conn
    try:
        rid = parse_resident_id(cmd.id_number)
    except InvalidResidentId as exc:
        raise RuleViolation(str(exc), field="id_number") from None
    unit = await conn.fetchrow("SELECT id, path, level, name, status FROM org_units WHERE id = $1", cmd.to_union_id)
    if unit is None or not actor.covers(unit["path"]):
        # Only one's own union may ask; another's answers like no union at all.
        raise RuleViolation("接收工会不存在或不在您的管辖范围内", field="to_union_id")
    if unit["status"] != "active":
        raise RuleViolation("接收工会已合并或撤销", field="to_union_id", kind="unit-closed")
    check_admitting_unit(unit["level"])
    credit_code = normalise_credit_code(cmd.new_employer_credit_code, field="new_employer_credit_code") \
        if cmd.new_employer_credit_code else None
    today = local_today()
    await expire_due(uow, today)
    id_hash = vault.lookup_hash("id_number", rid.number)
    # Asking again answers with the open request — also one the member declined (still open to
    # the asker's eyes until it expires), so asking twice shows nothing either.
    open_id = await conn.fetchval(
        "SELECT id FROM transfer_requests WHERE to_union_id = $1 AND id_number_hash = $2"
        " AND (status = 'pending' OR (status = 'declined' AND expires_on >= $3)) ORDER BY requested_at DESC LIMIT 1",
        unit["id"], id_hash, today)
    if open_id is None:
        open_id = await _record_request(uow, cmd, unit, rid, id_hash, credit_code, actor, today, expiry_days)
    return asker_view(await conn.fetchrow(REQUEST_QUERY + " WHERE r.id = $1", open_id), today)


async def _record_request(uow: UnitOfWork, cmd: RequestTransfer, unit, rid, id_hash: bytes, credit_code: str | None,
                          actor: Principal, today: date, expiry_days: int) -> uuid.UUID:
    conn = uow.conn
    member = await conn.fetchrow(
        MEMBER_QUERY + " WHERE m.id_number_hash = $1 AND m.status <> 'left' FOR UPDATE OF m", id_hash)
    if member is not None and member["union_id"] == unit["id"]:
        member = None  # already here: nothing to ask of anyone (and the caller sees her anyway)
    request_id, expires_on = uuid.uuid4(), today + timedelta(days=expiry_days)
    inserted = await conn.fetchval(
        "INSERT INTO transfer_requests (id, id_number_hash, id_number_masked, member_id, from_union_id, to_union_id,"
        " new_employer, new_employer_credit_code, requested_by, requested_by_org_id, expires_on)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        " ON CONFLICT (to_union_id, id_number_hash) WHERE status = 'pending' DO NOTHING RETURNING id",
        request_id, id_hash, rid.masked, member["id"] if member else None, member["union_id"] if member else None,
        unit["id"], cmd.new_employer, credit_code, actor.subject, actor.org_id, expires_on)
    if inserted is None:  # the same union asked at the same moment: one request, theirs
        return await conn.fetchval("SELECT id FROM transfer_requests WHERE to_union_id = $1 AND id_number_hash = $2"
                                   " AND status = 'pending'", unit["id"], id_hash)
    if member is not None:
        asker_org = await conn.fetchval("SELECT name FROM org_units WHERE id = $1", actor.org_id)
        # Only the member's current union on the entry: the asker must not gain the file.
        await add_file_entry(conn, member["id"], "transfer_requested", member["union_id"], {
            "request_id": str(request_id), "to_union_id": str(unit["id"]), "to_union_name": unit["name"],
            "requested_by": actor.subject, "requested_by_org_name": asker_org, "new_employer": cmd.new_employer,
            "expires_on": expires_on.isoformat(),
        }, actor.subject)
        await uow.stage(TransferRequested(
            request_id=request_id, member_id=member["id"], from_union_id=member["union_id"],
            from_org_path=member["path"], to_union_id=unit["id"], to_union_name=unit["name"], to_org_path=unit["path"],
            new_employer=cmd.new_employer, expires_on=expires_on))
    return request_id


# ---- deciding -------------------------------------------------------------------------------------

async def _decidable(uow: UnitOfWork, request_id: uuid.UUID, actor: Principal):
    """The request and its member, locked, for the member themself or the sending side (staff
    over the member's current union); anyone else: 404, as for no request."""
    conn = uow.conn
    await expire_due(uow, local_today())
    request = await conn.fetchrow(REQUEST_QUERY + " WHERE r.id = $1 FOR UPDATE OF r", request_id)
    if request is None or request["member_id"] is None:
        raise Problem(404, REQUEST_NOT_FOUND, type_="/problems/not-found")
    member = await load_member(conn, request["member_id"], for_update=True)
    if actor.is_member(member["id"]):
        return request, member, "member"
    if not actor.covers(member["path"]):
        raise Problem(404, REQUEST_NOT_FOUND, type_="/problems/not-found")
    actor.require("write")
    return request, member, "from_union"


def _still_pending(request) -> None:
    labels = {"confirmed": "已确认", "declined": "已谢绝", "expired": "已过期"}
    if request["status"] != "pending":
        raise RuleViolation(f"该转移申请{labels[request['status']]}", status=409, kind="transfer-request-closed")


async def confirm_request(uow: UnitOfWork, request_id: uuid.UUID, actor: Principal) -> dict:
    """The member or the sending side agrees: the transfer is made now, into the asking union."""
    conn = uow.conn
    request, member, decided_as = await _decidable(uow, request_id, actor)
    _still_pending(request)
    target = await conn.fetchrow(
        "SELECT o.id, o.path, o.level, o.kind, o.name, o.status FROM org_units o WHERE o.id = $1", request["to_union_id"])
    if target["status"] != "active":
        raise RuleViolation("申请转入的工会已合并或撤销", kind="unit-closed", status=409)
    today = local_today()
    moved = await apply_transfer(
        uow, member, Target(target, False), initiated_by="to_union", actor_name=actor.subject,
        new_employer=request["new_employer"], credit_code=request["new_employer_credit_code"],
        residence_region_code=None, effective_on=today, today=today,
        request={"request_id": str(request["id"]), "requested_by": request["requested_by"],
                 "requested_by_org_name": request["requested_by_org_name"], "confirmed_by": actor.subject,
                 "confirmed_as": decided_as})
    await conn.execute(
        "UPDATE transfer_requests SET status = 'confirmed', decided_by = $2, decided_as = $3, decided_at = now(),"
        " transfer_id = $4 WHERE id = $1", request["id"], actor.subject, decided_as, moved["id"])
    return moved


async def decline_request(uow: UnitOfWork, request_id: uuid.UUID, actor: Principal) -> dict:
    """Only the member declines: the sending union may not block a move (it confirms, or leaves
    the choice to the member); the asking union is not told (no oracle: see the module doc)."""
    conn = uow.conn
    request, member, decided_as = await _decidable(uow, request_id, actor)
    if decided_as != "member":
        raise Problem(403, "发出方工会不能拒绝会员关系转移，只能确认；是否谢绝由会员本人决定",
                      type_="/problems/only-the-member-declines")
    _still_pending(request)
    await conn.execute(
        "UPDATE transfer_requests SET status = 'declined', decided_by = $2, decided_as = 'member', decided_at = now()"
        " WHERE id = $1", request["id"], actor.subject)
    await _closed(uow, request, member, "declined", actor.subject, local_today())
    return sending_view(await conn.fetchrow(REQUEST_QUERY + " WHERE r.id = $1", request["id"]))


async def _closed(uow: UnitOfWork, request, member, outcome: str, actor_name: str, on: date) -> None:
    await add_file_entry(uow.conn, member["id"], f"transfer_request_{outcome}", member["union_id"], {
        "request_id": str(request["id"]), "to_union_id": str(request["to_union_id"]),
        "to_union_name": request["to_union_name"], "requested_by": request["requested_by"],
        "requested_by_org_name": request["requested_by_org_name"], "on": on.isoformat(),
    }, actor_name)
    await uow.stage(TransferRequestClosed(
        request_id=request["id"], member_id=member["id"], from_org_path=member["path"],
        to_union_id=request["to_union_id"], to_union_name=request["to_union_name"], outcome=outcome, closed_on=on))


async def expire_due(uow: UnitOfWork, today: date) -> int:
    """Requests still pending after their expiry date become `expired`: recorded in the member
    file and told (TransferRequestClosed). Idempotent; runs lazily and on a schedule."""
    conn = uow.conn
    rows = await conn.fetch(
        "UPDATE transfer_requests SET status = 'expired', decided_as = 'system', decided_at = now()"
        " WHERE id IN (SELECT id FROM transfer_requests WHERE status = 'pending' AND expires_on < $1"
        "  FOR UPDATE SKIP LOCKED) RETURNING id, member_id", today)
    for row in rows:
        if row["member_id"] is None:
            continue
        request = await conn.fetchrow(REQUEST_QUERY + " WHERE r.id = $1", row["id"])
        member = await load_member(conn, row["member_id"])
        await _closed(uow, request, member, "expired", "system:transfer-request-expiry", today)
    return len(rows)


# ---- listing (expires what is due first) ------------------------------------------------------------


async def list_requests(uow: UnitOfWork, actor: Principal, side: str) -> list[dict]:
    """The member: requests about themself. Staff, `side=receiving`: the requests of unions in
    their subtree; `side=sending`: requests about members now in their subtree. A command: due
    requests are expired first (lazily, as before every use)."""
    conn, today = uow.conn, local_today()
    await expire_due(uow, today)
    if actor.role == "member":
        rows = await conn.fetch(REQUEST_QUERY + " WHERE r.member_id = $1::uuid ORDER BY r.requested_at DESC",
                                _member_uuid(actor))
        return [sending_view(r) for r in rows]
    actor.require("read")
    if side == "receiving":
        rows = await conn.fetch(REQUEST_QUERY + " WHERE $1 = ANY(t.path) ORDER BY r.requested_at DESC", actor.org_id)
        return [asker_view(r, today) for r in rows]
    rows = await conn.fetch(
        REQUEST_QUERY + " JOIN members m ON m.id = r.member_id JOIN org_units mo ON mo.id = m.union_id"
        " WHERE $1 = ANY(mo.path) ORDER BY r.requested_at DESC", actor.org_id)
    return [sending_view(r) for r in rows]


def _member_uuid(actor: Principal) -> uuid.UUID:
    try:
        return uuid.UUID(actor.subject)
    except ValueError:
        raise Problem(403, "令牌中的会员编号无效", type_="/problems/forbidden-role") from None

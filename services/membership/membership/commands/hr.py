"""Employment changes from HR / social-insurance systems (`hr.employment.v2` EmploymentChanged):
membership follows the job. Consumer group `membership.hr` (consumers.py), exactly once in effect (inbox).

The person is found by the keyed hash of the resident ID number, as at admission. The number comes
sealed under an HR key (PII_HR_KEYS, shared with the HR systems alone), is opened only to compute
that hash, and is never logged or stored from here. Outcomes:
- not a member (or a former member): ignored, with a log line naming only the change id;
- the new employer's union (by credit code) or else the residence-area holder is another union:
  transferred, `initiated_by = hr_system`;
- the same union (e.g. a joint union covering both employers): the employer is updated, audited;
- no union can hold the membership: the member file gets a `transfer_unresolved` entry in the
  current union, so its organisation officer sees the worker moved and can act by hand;
- a change dated before the member's (latest) joining is stale: ignored with a log line;
- a change dated ahead waits in `scheduled_employment_changes` (the number still sealed) and is
  applied on its effective day by `background.apply_due_changes` — nothing is dated in the future."""
from __future__ import annotations

import logging
from datetime import date

from opentelemetry import context as otel_context

from contracts.events import EmploymentChanged
from membership.commands.member_file import add_file_entry
from membership.commands.members import apply_profile_changes, current_profile
from membership.commands.transfers import apply_transfer, resolve_target
from membership.domain.organisations import normalise_credit_code
from membership.queries import MEMBER_QUERY
from unionops.clock import local_now, local_today
from unionops.envelope import Envelope
from unionops.pii import Vault, unb64
from unionops.problems import RuleViolation
from unionops.telemetry import context_from_headers, current_trace_headers, tracer
from unionops.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


async def apply_employment_change(uow: UnitOfWork, event: EmploymentChanged, env: Envelope,
                                  vault: Vault, *, today: date | None = None) -> str:
    """Apply one change inside the consumer's transaction; returns the outcome (for logs and tests).
    A change dated after `today` (the Beijing day) is kept for its day instead."""
    conn = uow.conn
    facts = {"change_id": str(event.change_id), "hr_system": event.hr_system, "event_id": str(env.id)}
    today = today or local_today()
    if event.effective_on > today:
        await conn.execute(
            "INSERT INTO scheduled_employment_changes (event_id, effective_on, payload, trace_headers)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING",  # the pool's codec encodes jsonb
            env.id, event.effective_on, event.model_dump(mode="json"), current_trace_headers())
        log.info("employment change dated ahead: kept for its day", extra=facts | {"outcome": "scheduled"})
        return "scheduled"
    number = vault.hr_keys.open_field("id_number", str(event.change_id), unb64(event.id_number_sealed))
    id_hash = vault.lookup_hash("id_number", number.strip().upper())
    member = await conn.fetchrow(MEMBER_QUERY + " WHERE m.id_number_hash = $1 FOR UPDATE OF m", id_hash)
    if member is None or member["status"] == "left":
        log.info("employment change of a person who is not a member: ignored",
                 extra=facts | {"outcome": "not_a_member"})
        return "not_a_member"
    facts["member_id"] = str(member["id"])
    if event.effective_on < member["joined_on"]:
        log.info("employment change dated before the member joined: ignored", extra=facts | {"outcome": "stale"})
        return "stale"
    try:
        credit_code = normalise_credit_code(event.new_employer_credit_code) if event.new_employer_credit_code else None
    except RuleViolation:
        log.warning("employment change with an invalid credit code: looked up by residence", extra=facts)
        credit_code = None
    actor = f"hr:{event.hr_system}"
    try:
        target = await resolve_target(conn, to_union_id=None, credit_code=credit_code,
                                      residence_region_code=event.residence_region_code)
    except RuleViolation as exc:
        await add_file_entry(conn, member["id"], "transfer_unresolved", member["union_id"], {
            "new_employer": event.new_employer_name, "residence_region_code": event.residence_region_code,
            "effective_on": event.effective_on.isoformat(), "reason": exc.message, "change_id": str(event.change_id),
        }, actor)
        log.warning("employment change: no union can hold the membership", extra=facts | {"outcome": "unresolved"})
        return "unresolved"
    if target.unit["id"] == member["union_id"]:
        if member["employer"] != event.new_employer_name:
            await apply_profile_changes(uow, member, current_profile(member, vault),
                                        {"employer": (member["employer"], event.new_employer_name)}, actor, vault)
        log.info("employment change within the member's union", extra=facts | {"outcome": "same_union"})
        return "same_union"
    await apply_transfer(
        uow, member, target, initiated_by="hr_system", actor_name=actor, new_employer=event.new_employer_name,
        credit_code=credit_code, residence_region_code=event.residence_region_code, effective_on=event.effective_on,
        today=today, source_event_id=env.id)
    log.info("membership transferred with employment", extra=facts | {"outcome": "transferred"})
    return "transferred"


async def apply_next_due_change(uow: UnitOfWork, vault: Vault, today: date) -> bool:
    """Apply the oldest kept change whose day has come, in the trace of the event that announced
    it; False when none is due. Each runs in a unit of work of its own (background.apply_due_changes)."""
    conn = uow.conn
    row = await conn.fetchrow(
        "SELECT event_id, payload, trace_headers FROM scheduled_employment_changes"
        " WHERE applied_at IS NULL AND effective_on <= $1 ORDER BY effective_on, received_at"
        " LIMIT 1 FOR UPDATE SKIP LOCKED", today)
    if row is None:
        return False
    payload, headers = row["payload"], row["trace_headers"]
    event = EmploymentChanged.model_validate(payload)
    env = Envelope(id=row["event_id"], type=EmploymentChanged.event_type(), source="unionops/membership",
                   time=local_now(), data=payload, subject=event.key())
    token = otel_context.attach(context_from_headers(headers))
    try:
        with tracer("membership.hr").start_as_current_span("apply scheduled EmploymentChanged"):
            outcome = await apply_employment_change(uow, event, env, vault, today=today)
    finally:
        otel_context.detach(token)
    await conn.execute("UPDATE scheduled_employment_changes SET applied_at = now(), outcome = $2"
                       " WHERE event_id = $1", row["event_id"], outcome)
    return True

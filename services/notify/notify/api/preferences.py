"""Notification preferences API: a member's channel opt-ins / opt-outs, language and own SMS
quiet hours. Changed by the member themself or by staff (`write`) whose subtree holds the
member's unit; read likewise (staff with `read`). The answer shows the defaults too: SMS is
opt-in (on by default only for urgent notices, or where the member's office turned it on)."""
from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, field_validator

from notify import queries
from notify.commands import preferences
from notify.domain.preferences import Preferences, QuietHours
from unionops.auth import Principal, current_principal
from unionops.bodies import Body
from unionops.dependencies import CommandsDep, PoolDep
from unionops.inputs import Flag

router = APIRouter(tags=["preferences"])

MemberChannel = Literal["email", "sms", "inapp"]


class PreferencesIn(Body):
    channels: dict[MemberChannel, Flag] = Field(default_factory=dict,
                                                description="true: opt in, false: opt out; others unchanged. "
                                                            "SMS is opt-in by default")
    language: Literal["zh-CN", "en"] | None = None
    quiet_hours: str | None = Field(None, description='"HH:MM-HH:MM" Beijing time, "off", or "default"',
                                    examples=["22:00-07:30"])

    @field_validator("quiet_hours")
    @classmethod
    def _window(cls, v: str | None) -> str | None:
        if v is not None and v != "default":
            try:
                QuietHours.parse(v)
            except ValueError:
                raise ValueError('须为 "HH:MM-HH:MM"、"off" 或 "default"') from None
        return v


DEFAULTS_TEXT = ("Without a choice of their own a member gets e-mail and in-app messages; SMS is opt-in: sent only "
                 "for urgent notices (case approved, aid and campaign payments) unless the member opts in — or "
                 "where the member's office set other defaults for a notice kind "
                 "(PUT /organisations/{org_id}/notice-defaults/{notice_kind}). The member's own choice always wins.")


class PreferencesOut(BaseModel):
    member_id: uuid.UUID
    channels: dict[str, bool] = Field(description="the member's own choices only (true: opted in, false: out)")
    language: str
    quiet_hours: str | None
    defaults: dict[str, dict[str, bool]] = Field(
        default_factory=dict, description="per notice kind, the channels used where the member chose nothing. "
                                          + DEFAULTS_TEXT)


async def _out(pool, member_id: uuid.UUID, p: Preferences) -> PreferencesOut:
    path = await queries.member_org_path(pool, member_id)
    return PreferencesOut(member_id=member_id, channels=p.channels, language=p.language,
                          quiet_hours=str(p.quiet_hours) if p.quiet_hours else None,
                          defaults=await queries.office_defaults(pool, path))


@router.get("/members/{member_id}/preferences", response_model=PreferencesOut, description=DEFAULTS_TEXT)
async def get_preferences(member_id: uuid.UUID, pool: PoolDep, principal: Principal = Depends(current_principal)):
    await queries.authorise_member(pool, principal, member_id, "read")
    return await _out(pool, member_id, await queries.preferences(pool, member_id))


@router.put("/members/{member_id}/preferences", response_model=PreferencesOut, description=DEFAULTS_TEXT)
async def put_preferences(member_id: uuid.UUID, body: PreferencesIn, commands: CommandsDep, pool: PoolDep,
                          principal: Principal = Depends(current_principal)):
    if body.quiet_hours is None:
        quiet = False
    elif body.quiet_hours == "default":
        quiet = None
    else:
        quiet = QuietHours.parse(body.quiet_hours)
    chosen = await commands.run(lambda uow: preferences.choose(
        uow, member_id, channels=dict(body.channels), language=body.language, quiet_hours=quiet, principal=principal))
    return await _out(pool, member_id, chosen)

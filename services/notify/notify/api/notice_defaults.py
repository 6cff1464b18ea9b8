"""An office's default channels per notice kind for its subtree (e.g. SMS on for payment notices):
what a member who chose nothing for a channel gets. The member's own preferences still win."""
from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from notify import queries
from notify.api.preferences import MemberChannel
from notify.commands import preferences
from notify.domain.preferences import MEMBER_NOTICE_KINDS
from unionops.auth import Principal, requires
from unionops.bodies import Body
from unionops.dependencies import CommandsDep, PoolDep
from unionops.inputs import Flag

router = APIRouter(tags=["preferences"])

NoticeKind = Literal[MEMBER_NOTICE_KINDS]


class NoticeDefaultsIn(Body):
    channels: dict[MemberChannel, Flag | None] = Field(
        description="true: on by default, false: off by default, null: as the units above (or built in)",
        examples=[{"sms": True}])


class NoticeDefaultsOut(BaseModel):
    org_id: uuid.UUID
    own: dict[str, dict[str, bool]] = Field(description="the defaults this unit set itself, per notice kind")
    defaults: dict[str, dict[str, bool]] = Field(
        description="per notice kind, the channels a member of this unit who chose nothing gets: this unit's and "
                    "the units above's defaults over the built-in ones (e-mail and in-app on; SMS is opt-in, on "
                    "only for urgent kinds)")


async def _out(pool, org_id: uuid.UUID, path: list) -> NoticeDefaultsOut:
    return NoticeDefaultsOut(org_id=org_id, own=await queries.unit_notice_defaults(pool, org_id),
                             defaults=await queries.office_defaults(pool, path))


@router.get("/organisations/{org_id}/notice-defaults", response_model=NoticeDefaultsOut,
            summary="The default channels per notice kind for the members of a unit (office defaults included)")
async def get_notice_defaults(org_id: uuid.UUID, pool: PoolDep, principal: Principal = Depends(requires("read"))):
    return await _out(pool, org_id, await queries.unit_path(pool, org_id, principal))


@router.put("/organisations/{org_id}/notice-defaults/{notice_kind}", response_model=NoticeDefaultsOut,
            summary="Set a unit's default channels of one notice kind for its subtree (members' choices still win)")
async def put_notice_defaults(org_id: uuid.UUID, notice_kind: NoticeKind, body: NoticeDefaultsIn,
                              commands: CommandsDep, pool: PoolDep, principal: Principal = Depends(requires("write"))):
    await commands.run(lambda uow: preferences.set_office_defaults(uow, org_id, notice_kind, dict(body.channels),
                                                                   principal))
    return await _out(pool, org_id, await queries.unit_path(pool, org_id, principal))

"""The members welfare may aid, as its projection of membership's events keeps them, and how a
caller reads their names."""
from __future__ import annotations

import uuid

import asyncpg

from unionops.auth import ROLES, Principal
from unionops.pii import mask_name
from unionops.problems import Problem
from welfare.domain.cases import KnownMember


async def known_member(conn: asyncpg.Connection, member_id: uuid.UUID) -> KnownMember | None:
    row = await conn.fetchrow(
        "SELECT member_id, union_id, union_name, org_path, name, gender, is_migrant_worker, joined_on, status"
        " FROM members WHERE member_id = $1", member_id)
    return KnownMember(**dict(row)) if row else None


async def readable_member_path(conn: asyncpg.Connection, member_id: uuid.UUID, principal: Principal) -> list:
    """The member's path if the caller covers it; else 404, as for an unknown member."""
    path = await conn.fetchval("SELECT org_path FROM members WHERE member_id = $1", member_id)
    if path is None or not principal.covers(path):
        raise Problem(404, "会员不存在或不在您的管辖范围内")
    return list(path)


def sees_names(principal: Principal) -> bool:
    """Who reads a member's name in clear: those who handle the member's affairs (roles with
    write permission: staff, federation admins, service accounts); auditors and others read it
    masked (张*), as on a public notice — the same rule as for case notes and hardship files."""
    return "write" in ROLES.get(principal.role, ())


def shown_name(name: str | None, principal: Principal) -> str:
    """A member's name as `principal` may read it (see `sees_names`)."""
    return (name or "") if sees_names(principal) else mask_name(name or "")

"""Reads of 金秋助学: an education case's student (masked), its tier, its public notice (公示)."""
from __future__ import annotations

import uuid
from datetime import date

import asyncpg

from unionops.pii import Vault, mask_name, mask_resident_id
from welfare.domain.golden_autumn import SCHOOL_LEVELS
from welfare.domain.money import money


def student_view_of(name: str, id_number: str, school_level: str, amount_fen: int, year: int) -> dict:
    return {"name": mask_name(name), "id_number": mask_resident_id(id_number), "school_level": school_level,
            "school_level_label": SCHOOL_LEVELS[school_level], "grant_fen": amount_fen, "grant_year": year}


async def student_of(conn: asyncpg.Connection, case_id: uuid.UUID, vault: Vault) -> dict | None:
    row = await conn.fetchrow("SELECT * FROM golden_autumn_students WHERE case_id = $1", case_id)
    if row is None:
        return None
    return student_view_of(vault.decrypt("student_name", row["student_name_enc"]),
                           vault.decrypt("student_id_number", row["student_id_enc"]), row["school_level"],
                           row["tier_amount_fen"], row["grant_year"])


async def tier_of_case(conn: asyncpg.Connection, case_id: uuid.UUID) -> int | None:
    return await conn.fetchval("SELECT tier_amount_fen FROM golden_autumn_students WHERE case_id = $1", case_id)


async def notice_of_case(conn: asyncpg.Connection, case_id: uuid.UUID) -> tuple[date, date] | None:
    row = await conn.fetchrow(
        "SELECT n.ends_on, n.payable_from FROM golden_autumn_notice_entries e"
        " JOIN golden_autumn_notices n ON n.id = e.notice_id WHERE e.case_id = $1", case_id)
    return (row["ends_on"], row["payable_from"]) if row else None


async def public_notice(conn: asyncpg.Connection, notice_id: uuid.UUID) -> dict | None:
    """The notice as the public sees it: masked names, school level, amount."""
    notice = await conn.fetchrow("SELECT * FROM golden_autumn_notices WHERE id = $1", notice_id)
    if notice is None:
        return None
    entries = await conn.fetch(
        "SELECT position, member_name, student_name, school_level, amount_fen FROM golden_autumn_notice_entries"
        " WHERE notice_id = $1 ORDER BY position", notice_id)
    return {
        "id": notice["id"], "org_id": notice["org_id"], "title": notice["title"], "posted_on": notice["posted_on"],
        "ends_on": notice["ends_on"], "payable_from": notice["payable_from"],
        "entries": [{"position": e["position"], "member_name": e["member_name"],
                     "student_name": e["student_name"], "school_level": e["school_level"],
                     "school_level_label": SCHOOL_LEVELS[e["school_level"]], "amount": money(e["amount_fen"])}
                    for e in entries],
        "total": money(sum(e["amount_fen"] for e in entries)),
    }

"""HTTP API of bulk member imports (批量导入会员). The work is in commands.imports, the rules of a
row in domain.imports, the reading of the file in adapters.spreadsheets."""
from __future__ import annotations

import asyncio
import uuid
from typing import Literal

from fastapi import APIRouter, Depends, File, Form, Header, UploadFile
from fastapi.responses import JSONResponse

from membership import queries
from membership.adapters.spreadsheets import SheetRejected, open_sheet
from membership.commands import imports
from membership.domain.imports import DEFAULT_INTAKE, ImportRejected
from unionops import idempotency
from unionops.auth import Principal, requires
from unionops.dependencies import CommandsDep, PoolDep, VaultDep
from unionops.limits import BODY_LIMIT_KEY, UPLOAD
from unionops.problems import PROBLEM_JSON

router = APIRouter()


@router.post(
    "/imports/members", status_code=201, tags=["imports"],
    summary="Import members from an .xlsx or CSV sheet, all or nothing (批量导入会员)",
    responses={200: {"description": "dry run, or this very file was imported before: its summary"},
               422: {"description": "some rows are invalid: nothing imported; the report names row, column, why",
                     "content": {PROBLEM_JSON: {}}}},
    openapi_extra={BODY_LIMIT_KEY: UPLOAD},  # a sheet of thousands of rows: HTTP_MAX_UPLOAD_BYTES
)
async def import_members(
    commands: CommandsDep,
    vault: VaultDep,
    file: UploadFile = File(..., description="the sheet: .xlsx, or CSV in UTF-8 (with or without BOM) or GB18030"),
    union_id: uuid.UUID | None = Form(None, description="default union for rows whose 所属工会 is empty"),
    dry_run: bool = Form(False, description="validate and report only"),
    intake: Literal["new_joins", "register"] = Form(
        DEFAULT_INTAKE, description="what the sheet brings. new_joins (the default): people joining now, each "
        "welcomed (欢迎加入工会) as at a single admission. register: the existing register (存量会员) of people who "
        "joined before — imported as members everywhere, but not welcomed"),
    online_notice: bool = Form(False, description="register only: tell each imported member once that their "
                                                  "membership is now online (您的会员信息已上线)"),
    principal: Principal = Depends(requires("write")),
    idempotency_key: str | None = Header(None),
):
    # Not `commands.create`: the import answers 200 or 201, and a dry run or a rejected sheet
    # answers after rolling back; it claims the key in its own unit of work (commands.imports).
    key = idempotency.validate_key(idempotency_key)
    try:
        sheet = await asyncio.to_thread(open_sheet, file.file, file.filename or "")
    except SheetRejected as exc:
        raise exc.problem from None
    fingerprint = {"file_sha256": sheet.sha256, "union_id": str(union_id) if union_id else None, "dry_run": dry_run,
                   "intake": intake, "online_notice": online_notice}
    claim = imports.IdempotencyClaim(commands.idempotency_scope(principal.subject), key, fingerprint) if key else None
    try:
        outcome = await commands.on_connection(lambda conn: imports.import_members(
            conn, sheet, principal, vault, default_union_id=union_id, dry_run=dry_run, intake=intake,
            online_notice=online_notice, idempotency_key=claim))
    except ImportRejected as exc:
        raise exc.to_problem() from None
    except SheetRejected as exc:
        raise exc.problem from None
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return JSONResponse(outcome.body, status_code=outcome.status_code, headers=headers)


@router.get("/imports/{import_id}", tags=["imports"], summary="The summary of an earlier import")
async def get_import(import_id: uuid.UUID, pool: PoolDep, principal: Principal = Depends(requires("read"))):
    return await queries.import_summary(pool, import_id, principal)

"""HTTP API of bulk member imports (批量导入会员). The rules and the work are in imports.py."""
from __future__ import annotations

import asyncio
import uuid

from fastapi import APIRouter, Depends, File, Form, Header, Request, UploadFile
from fastapi.responses import JSONResponse

from membership import imports
from unionops import idempotency
from unionops.auth import Principal, requires
from unionops.limits import BODY_LIMIT_KEY, UPLOAD
from unionops.problems import PROBLEM_JSON, Problem

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
    request: Request,
    file: UploadFile = File(..., description="the sheet: .xlsx, or CSV in UTF-8 (with or without BOM) or GB18030"),
    union_id: uuid.UUID | None = Form(None, description="default union for rows whose 所属工会 is empty"),
    dry_run: bool = Form(False, description="validate and report only"),
    principal: Principal = Depends(requires("write")),
    idempotency_key: str | None = Header(None),
):
    key = idempotency.validate_key(idempotency_key)
    runtime = request.app.state.runtime
    try:
        sheet = await asyncio.to_thread(imports.open_sheet, file.file, file.filename or "")
    except imports.SheetRejected as exc:
        raise exc.problem from None
    scope = f"{principal.subject}:{request.method}:{request.url.path}"
    fingerprint = {"file_sha256": sheet.sha256, "union_id": str(union_id) if union_id else None, "dry_run": dry_run}
    async with runtime.pool.acquire() as conn:
        try:
            outcome = await imports.import_members(
                conn, sheet, principal, runtime.vault, default_union_id=union_id, dry_run=dry_run,
                idempotency_key=(scope, key, fingerprint) if key else None)
        except imports.ImportRejected as exc:
            raise exc.to_problem() from None
        except imports.SheetRejected as exc:
            raise exc.problem from None
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return JSONResponse(outcome.body, status_code=outcome.status_code, headers=headers)


@router.get("/imports/{import_id}", tags=["imports"], summary="The summary of an earlier import")
async def get_import(import_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    row = await request.app.state.runtime.pool.fetchrow(
        "SELECT i.summary, i.actor, i.created_at, o.path FROM imports i JOIN org_units o ON o.id = i.actor_org"
        " WHERE i.id = $1", import_id)
    if row is None or not principal.covers(row["path"]):
        raise Problem(404, "导入记录不存在或不在您的管辖范围内")
    return {**row["summary"], "actor": row["actor"], "created_at": row["created_at"].isoformat()}

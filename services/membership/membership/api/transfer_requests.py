"""HTTP API of transfer requests: the receiving side asks, the member or the sending side decides."""
from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Depends

from membership.api.bodies import TransferRequestIn, TransferRequestOut
from membership.commands import transfer_requests
from membership.settings import Settings
from unionops.auth import Principal, current_principal, requires
from unionops.dependencies import CommandsDep, SettingsDep, VaultDep

router = APIRouter()


@router.post("/transfer-requests", status_code=202, response_model=TransferRequestOut,
             response_model_exclude_none=True, tags=["transfer requests"],
             summary="Ask for a worker's membership to be transferred into one's own union (接转申请)",
             description="The same answer (202, `pending`) whether or not the person is a member anywhere: it takes"
                         " effect when the member or their union confirms, and expires otherwise.")
async def request_transfer(body: TransferRequestIn, commands: CommandsDep, vault: VaultDep,
                           settings: SettingsDep[Settings], principal: Principal = Depends(requires("write"))):
    cmd = transfer_requests.RequestTransfer(id_number=body.id_number, to_union_id=body.to_union_id,
                                            new_employer=body.new_employer,
                                            new_employer_credit_code=body.new_employer_credit_code)
    return await commands.run(lambda uow: transfer_requests.request_transfer(
        uow, cmd, principal, vault, expiry_days=settings.transfer_request_expiry_days))


@router.get("/transfer-requests", response_model=list[TransferRequestOut], response_model_exclude_none=True,
            tags=["transfer requests"],
            summary="Transfer requests: those one's unions made (side=receiving) or those about one's members"
                    " (side=sending); a member token: those about oneself")
async def list_transfer_requests(commands: CommandsDep, side: Literal["receiving", "sending"] = "receiving",
                                 principal: Principal = Depends(current_principal)):
    # A command, not a query: requests past their expiry are expired first.
    return await commands.run(lambda uow: transfer_requests.list_requests(uow, principal, side))


@router.post("/transfer-requests/{request_id}/confirmation", status_code=201, tags=["transfer requests"],
             summary="Confirm a transfer request (the member, or staff over the member's union): the move is made")
async def confirm_transfer_request(request_id: uuid.UUID, commands: CommandsDep,
                                   principal: Principal = Depends(current_principal)):
    return await commands.run(lambda uow: transfer_requests.confirm_request(uow, request_id, principal))


@router.post("/transfer-requests/{request_id}/declination", response_model=TransferRequestOut,
             tags=["transfer requests"], summary="Decline a transfer request (the member only)")
async def decline_transfer_request(request_id: uuid.UUID, commands: CommandsDep,
                                   principal: Principal = Depends(current_principal)):
    return await commands.run(lambda uow: transfer_requests.decline_request(uow, request_id, principal))

"""What the API modules share of their bodies: responses answered in Beijing time, and a
command's result shaped as its response model before the Idempotency-Key stores it."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Awaitable

from pydantic import BaseModel, field_serializer

from competitions.domain.contests import in_beijing


class Out(BaseModel):
    @field_serializer("*", when_used="json")
    def _beijing(self, value: Any) -> Any:
        return in_beijing(value) if isinstance(value, datetime) else value


async def shaped(model: type[BaseModel], result: Awaitable[Any]) -> dict:
    """What a command returns, shaped as the response model (Beijing times) before the
    Idempotency-Key stores it."""
    return model.model_validate(await result).model_dump(mode="json")

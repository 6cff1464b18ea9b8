"""The base of every request body: unknown fields are refused (a typo must not pass silently)
and surrounding white space is stripped from strings."""
from pydantic import BaseModel, ConfigDict


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

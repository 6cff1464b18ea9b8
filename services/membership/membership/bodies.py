"""Request-body base shared by the membership API modules."""
from pydantic import BaseModel, ConfigDict

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

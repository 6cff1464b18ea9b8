"""Event contracts shared by every service: pydantic models, their topics and JSON Schemas."""
from contracts.events import (  # noqa: F401
    EVENT_TYPES,
    TOPICS,
    DomainEvent,
    event_class,
)

"""What other teams get of the events: the published JSON Schemas (libs/contracts/schemas/events,
one per event type, with `x-topic` and `x-restricted`). The dashboard reads nothing else — not the
`contracts` models, not a service package — so it sees the system as any downstream team would."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema_rs

# deploy/local/citydash/ → the repository root; CITYDASH_SCHEMAS points elsewhere (a copy of a
# published contract bundle) when the dashboard runs outside the repository.
SCHEMAS = Path(os.environ.get("CITYDASH_SCHEMAS")
               or Path(__file__).resolve().parents[3] / "libs" / "contracts" / "schemas" / "events")


class ContractError(ValueError):
    """A payload that its event type's published schema refuses (or an unknown type)."""


@dataclass(frozen=True)
class Contracts:
    validators: dict[str, jsonschema_rs.Validator]   # event type → its schema's validator
    topics: dict[str, str]                          # event type → topic
    restricted_topics: frozenset[str]

    @property
    def public_topics(self) -> list[str]:
        """The topics a downstream reader may subscribe to: those carrying no restricted event."""
        return sorted(set(self.topics.values()) - self.restricted_topics)

    def validate(self, event_type: str, data: dict[str, Any]) -> None:
        validator = self.validators.get(event_type)
        if validator is None:
            raise ContractError(f"no published schema for event type {event_type!r}")
        if validator.is_valid(data):
            return
        error = next(iter(validator.iter_errors(data)), None)
        if error is not None:
            where = "/".join(str(p) for p in error.instance_path) or "(root)"
            raise ContractError(f"{event_type} at {where}: {error.message}")


@lru_cache(maxsize=4)
def load(folder: Path = SCHEMAS) -> Contracts:
    validators, topics, restricted = {}, {}, set()
    for path in sorted(folder.glob("*.json")):
        schema = json.loads(path.read_text())
        event_type, topic = schema["title"], schema["x-topic"]
        topics[event_type] = topic
        if schema.get("x-restricted"):
            restricted.add(topic)
        # jsonschema_rs (pinned beside jsonschema): the same Draft 2020-12 checks, formats (uuid, date,
        # date-time) included, some twenty times faster — a city's register is a million events.
        validators[event_type] = jsonschema_rs.validator_for(schema, validate_formats=True)
    if not topics:
        raise RuntimeError(f"no event schemas in {folder}")
    return Contracts(validators, topics, frozenset(restricted))

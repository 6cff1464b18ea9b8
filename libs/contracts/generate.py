"""Generate the JSON Schemas of every event into `libs/contracts/schemas/`.

    python -m contracts.generate           write schemas (refuses incompatible changes)
    python -m contracts.generate --check   exit 1 if the committed schemas are stale

`schemas/events/<Event>.json` documents each event; `schemas/broker/<topic>.json` is what the
broker validates message values against (any of the topic's events)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from contracts.events import EVENT_TYPES, TOPICS, DomainEvent

ROOT = Path(__file__).parent / "schemas"


def event_schema(cls: type[DomainEvent]) -> dict:
    schema = cls.model_json_schema()
    schema["x-topic"] = cls.topic
    schema["x-restricted"] = cls.restricted
    return schema


def _inline(node, defs: dict):
    """Replace local `$ref`s by the definitions they name: the broker's validator was seen to
    let values through unchecked behind a `$ref` (models have no recursion, so this ends)."""
    if isinstance(node, dict):
        if "$ref" in node and node["$ref"].startswith("#/$defs/"):
            return _inline(defs[node["$ref"].rsplit("/", 1)[1]], defs)
        return {k: _inline(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def broker_schema(topic: str) -> dict:
    variants = []
    for cls in TOPICS[topic]:
        s = cls.model_json_schema()
        defs = s.pop("$defs", {})
        variants.append(_inline(s, defs))
    return {"title": topic, "type": "object", "properties": {"value": {"anyOf": variants}}}


def render() -> dict[Path, str]:
    out = {}
    for name, cls in EVENT_TYPES.items():
        out[ROOT / "events" / f"{name}.json"] = json.dumps(event_schema(cls), indent=2, ensure_ascii=False) + "\n"
    for topic in TOPICS:
        out[ROOT / "broker" / f"{topic}.json"] = json.dumps(broker_schema(topic), indent=2, ensure_ascii=False) + "\n"
    return out


def incompatibilities(old: dict, new: dict) -> list[str]:
    """Within a major version only optional fields may be added."""
    problems = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name in old_props:
        if name not in new_props:
            problems.append(f"field '{name}' removed")
        elif json.dumps(old_props[name], sort_keys=True) != json.dumps(new_props[name], sort_keys=True):
            if old_props[name].get("type") != new_props[name].get("type") or "anyOf" in old_props[name]:
                problems.append(f"field '{name}' changed type")
    for name in set(new.get("required", [])) - set(old.get("required", [])):
        problems.append(f"field '{name}' became required")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    rendered = render()
    stale = [p for p, text in rendered.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    if args.check:
        for p in stale:
            print(f"stale: {p.relative_to(ROOT.parent)}", file=sys.stderr)
        return 1 if stale else 0
    errors = []
    for p in stale:
        # A new major version (another topic) may change anything: only same-topic changes are checked.
        if p.exists() and p.parent.name == "events" and \
                json.loads(p.read_text()).get("x-topic") == json.loads(rendered[p]).get("x-topic"):
            errors += [f"{p.stem}: {e}" for e in incompatibilities(json.loads(p.read_text()), json.loads(rendered[p]))]
    if errors:
        print("incompatible change within a major version (add a new topic version instead):", file=sys.stderr)
        for e in errors:
            print(f"  {e}", file=sys.stderr)
        return 2
    for p in stale:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(rendered[p], encoding="utf-8")
        print(f"wrote {p.relative_to(ROOT.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

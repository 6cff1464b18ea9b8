"""Look traces up in the local trace sink from a terminal.

    python -m devstack.traces show <trace_id>
    python -m devstack.traces find --attr member.id=<uuid> [--service membership] [--limit 20]
    python -m devstack.traces recent [--limit 20]

The sink's base URL comes from `--url`, TRACESINK_URL, or else TRACESINK_PORT of the environment
or `.env` — the sink of this stack, whatever other stacks run beside it.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from typing import Any

import httpx

from devstack.config import StackConfig
from unionops.clock import local_time


def _fail(response: httpx.Response) -> int:
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        detail = response.text
    print(f"error {response.status_code}: {detail}", file=sys.stderr)
    return 1


def _when(iso: str | None) -> str:
    if not iso:
        return "?"
    return local_time(datetime.fromisoformat(iso)).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def print_traces(traces: list[dict[str, Any]]) -> None:
    if not traces:
        print("no traces found")
        return
    print(f"{'start (Beijing)':23}  {'duration':>11}  {'spans':>5}  {'trace id':32}  root / services")
    for t in traces:
        duration = f"{t['duration_ms']:.2f} ms" if t["duration_ms"] is not None else "?"
        error = "  [ERROR]" if t.get("has_error") else ""
        print(f"{_when(t['start_time']):23}  {duration:>11}  {t['span_count']:>5}  {t['trace_id']}  "
              f"{t['root_service']}: {t['root_name']}  ({', '.join(t['services'])}){error}")


def run(args: argparse.Namespace) -> int:
    with httpx.Client(base_url=args.url.rstrip("/"), timeout=args.timeout) as client:
        if args.command == "show":
            if args.json:
                response = client.get(f"/api/traces/{args.trace_id}")
                if response.is_error:
                    return _fail(response)
                print(json.dumps(response.json(), ensure_ascii=False, indent=2))
            else:
                response = client.get(f"/api/traces/{args.trace_id}/tree")
                if response.is_error:
                    return _fail(response)
                print(response.text, end="")
            return 0
        params: list[tuple[str, str | int]] = [("limit", args.limit)]
        if args.service:
            params.append(("service", args.service))
        if args.name:
            params.append(("name", args.name))
        for attr in getattr(args, "attr", None) or []:
            params.append(("attr", attr))
        response = client.get("/api/traces", params=params)
        if response.is_error:
            return _fail(response)
        traces = response.json()["traces"]
        if args.json:
            print(json.dumps(traces, ensure_ascii=False, indent=2))
        else:
            print_traces(traces)
        return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m devstack.traces", description="Query the local trace sink.")
    parser.add_argument("--url", default=os.environ.get("TRACESINK_URL") or StackConfig.from_env().tracesink_url,
                        help="trace sink base URL (env TRACESINK_URL; else TRACESINK_PORT)")
    parser.add_argument("--timeout", type=float, default=10.0)
    commands = parser.add_subparsers(dest="command", required=True)

    show = commands.add_parser("show", help="print one trace as a tree")
    show.add_argument("trace_id")
    show.add_argument("--json", action="store_true", help="print the spans as JSON instead")

    def filters(sub: argparse.ArgumentParser, default_limit: int) -> None:
        sub.add_argument("--service", help="a span of this service")
        sub.add_argument("--name", help="a span with exactly this name")
        sub.add_argument("--limit", type=int, default=default_limit)
        sub.add_argument("--json", action="store_true")

    find = commands.add_parser("find", help="traces with a span matching all conditions")
    find.add_argument("--attr", action="append", required=True, metavar="KEY=VALUE",
                      help="exact span attribute match, e.g. member.id=...; repeatable")
    filters(find, 20)

    recent = commands.add_parser("recent", help="the most recent traces")
    filters(recent, 20)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except httpx.TransportError as exc:
        print(f"cannot reach the trace sink at {args.url}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

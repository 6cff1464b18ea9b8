"""The on-call command: status of every service, dead letters, outbox replay, the audit — all
through the services' HTTP API (`/health/ready`, `/metrics`, `/admin/…`), so it works the same
against the local stack and any other environment.

    python -m unionops.oncall status
    python -m unionops.oncall dlq list [SERVICE] [--status pending|replayed|discarded]
    python -m unionops.oncall dlq show SERVICE ID
    python -m unionops.oncall dlq replay SERVICE ID [--reason …]
    python -m unionops.oncall dlq replay-all SERVICE [--consumer C] [--topic T] [--reason …]
    python -m unionops.oncall dlq discard SERVICE ID --reason …
    python -m unionops.oncall outbox-replay SERVICE --since ISO --until ISO [--topic T] [--apply --reason …]
    python -m unionops.oncall actions [SERVICE]

Where: `--membership URL --welfare URL …` per service, or `--base 'https://{service}.example.org'`;
otherwise `<SERVICE>_URL`, else http://127.0.0.1:<SERVICE>_HTTP_PORT (the local stack's ports).
Token: `--token` or `UNIONOPS_TOKEN` (a federation admin's; locally `make token`).
`status` exits 1 when a service is unreachable or not ready."""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx

SERVICES = ("membership", "welfare", "competitions", "notify")
LOCAL_PORTS = {"membership": 8001, "welfare": 8002, "competitions": 8003, "notify": 8004}


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    for s in SERVICES:
        parser.add_argument(f"--{s}", metavar="URL", help=f"{s} 的地址")
    parser.add_argument("--base", metavar="PATTERN", help="地址模式，如 https://{service}.union.example")
    parser.add_argument("--token", default=None, help="联合会管理员令牌（默认 UNIONOPS_TOKEN）")
    parser.add_argument("--timeout", type=float, default=5.0)


def targets(args: argparse.Namespace, default: Callable[[str], str] | None = None) -> dict[str, str]:
    """Each service's base URL: its own option, the pattern, its `<SERVICE>_URL`, the default."""
    def local(s: str) -> str:
        return f"http://127.0.0.1:{os.environ.get(f'{s.upper()}_HTTP_PORT', LOCAL_PORTS[s])}"

    out = {}
    for s in SERVICES:
        url = getattr(args, s, None) or (args.base.format(service=s) if args.base else None) \
            or os.environ.get(f"{s.upper()}_URL") or (default or local)(s)
        out[s] = url.rstrip("/")
    return out


# ---- status ----------------------------------------------------------------------------------

@dataclass
class ServiceStatus:
    service: str
    url: str
    ready: bool = False
    checks: dict[str, bool] = field(default_factory=dict)
    relay_leader: bool | None = None
    outbox_backlog: int | None = None
    oldest_unpublished_seconds: float | None = None
    consumer_lag: int | None = None
    dead_letters: int | None = None
    queues: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.ready and not self.problems


_LAG = re.compile(r"^unionops_consumer_lag\w*\{[^}]*\}\s+([0-9.eE+-]+)\s*$", re.M)


def consumer_lag(metrics_text: str) -> int:
    """Records behind, summed over the service's consumers and partitions."""
    return int(sum(float(v) for v in _LAG.findall(metrics_text)))


def probe(service: str, url: str, token: str | None, timeout: float) -> ServiceStatus:
    st = ServiceStatus(service, url)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=url, timeout=timeout) as http:
        try:
            r = http.get("/health/ready")
        except httpx.HTTPError as exc:
            st.problems.append(f"不可达（{type(exc).__name__}）")
            return st
        try:
            body = r.json()
            st.checks, st.relay_leader = body.get("checks", {}), body.get("relay_leader")
        except ValueError:
            pass
        st.ready = r.status_code == 200
        if not st.ready:
            failing = [k for k, ok in st.checks.items() if not ok]
            st.problems.append("未就绪" + (f"（{'、'.join(failing)}）" if failing else f"（HTTP {r.status_code}）"))
        try:
            m = http.get("/metrics")
            if m.status_code == 200:
                st.consumer_lag = consumer_lag(m.text)
        except httpx.HTTPError:
            pass
        try:
            a = http.get("/admin/status", headers=headers)
        except httpx.HTTPError as exc:
            st.problems.append(f"/admin/status 不可达（{type(exc).__name__}）")
            return st
        if a.status_code == 200:
            body = a.json()
            st.outbox_backlog = body["outbox"]["backlog"]
            st.oldest_unpublished_seconds = body["outbox"]["oldest_unpublished_seconds"]
            st.dead_letters = sum(body["dead_letters_pending"].values())
            st.queues = body.get("queues", {})
        elif a.status_code in (401, 403):
            st.problems.append(f"/admin/status 拒绝令牌（HTTP {a.status_code}）")
        else:
            st.problems.append(f"/admin/status HTTP {a.status_code}")
    return st


def _cell(value) -> str:
    return "-" if value is None else str(value)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.0f}s" if seconds < 120 else f"{seconds / 60:.0f}m"


def table(statuses: list[ServiceStatus]) -> str:
    head = ["SERVICE", "READY", "DB", "BROKER", "RELAY", "OUTBOX", "OLDEST", "LAG", "DLQ", "QUEUES", "PROBLEMS"]
    rows = [head]
    for s in statuses:
        rows.append([
            s.service, "yes" if s.ready else "NO",
            {True: "ok", False: "DOWN"}.get(s.checks.get("database"), "-"),
            {True: "ok", False: "DOWN"}.get(s.checks.get("broker"), "-"),
            {True: "leader", False: "standby"}.get(s.relay_leader, "-"),
            _cell(s.outbox_backlog), _age(s.oldest_unpublished_seconds), _cell(s.consumer_lag),
            _cell(s.dead_letters) + ("!" if s.dead_letters else ""),
            " ".join(f"{k}={v}" for k, v in s.queues.items()) or "-",
            "；".join(s.problems) or "-",
        ])
    widths = [max(_width(r[i]) for r in rows) for i in range(len(head))]
    return "\n".join("  ".join(c + " " * (w - _width(c)) for c, w in zip(r, widths)).rstrip() for r in rows)


def _width(text: str) -> int:  # CJK characters take two columns in a terminal
    return sum(2 if "\u2e80" <= ch <= "\uffef" else 1 for ch in text)


def status(urls: dict[str, str], token: str | None, timeout: float, as_json: bool = False) -> int:
    statuses = [probe(s, u, token, timeout) for s, u in urls.items()]
    if as_json:
        print(json.dumps([s.__dict__ | {"healthy": s.healthy} for s in statuses], ensure_ascii=False, indent=2))
    else:
        print(table(statuses))
        bad = [s.service for s in statuses if not s.healthy]
        print(f"\n不健康：{'、'.join(bad)}" if bad else "\n全部健康")
    return 0 if all(s.healthy for s in statuses) else 1


# ---- the admin API ---------------------------------------------------------------------------

class Admin:
    def __init__(self, url: str, token: str | None, timeout: float) -> None:
        self.http = httpx.Client(base_url=url, timeout=timeout,
                                 headers={"Authorization": f"Bearer {token}"} if token else {})

    def call(self, method: str, path: str, **kwargs) -> Any:
        try:
            r = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise SystemExit(f"{self.http.base_url} 不可达：{type(exc).__name__}")
        if r.status_code >= 400:
            try:
                detail = r.json().get("detail", r.text)
            except ValueError:
                detail = r.text
            raise SystemExit(f"HTTP {r.status_code}: {detail}")
        return r.json()


def _print(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _dead_letter_lines(service: str, items: list[dict]) -> list[str]:
    return [f"{service:<13} {d['id']:>6}  {d['status']:<9} {d['consumer']:<22} {d['event_type'] or '-':<24}"
            f" {d['dead_lettered_at'][:19]}  {d['error'][:80]}" for d in items]


def main(argv: list[str] | None = None, default: Callable[[str], str] | None = None,
         token_default: Callable[[], str | None] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m unionops.oncall", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    common = argparse.ArgumentParser(add_help=False)  # given after the command: `status --base …`
    add_target_arguments(common)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("status", parents=[common], help="每个服务的健康、积压、延迟、死信与队列")
    p.add_argument("--json", action="store_true")
    dlq = sub.add_parser("dlq", help="死信").add_subparsers(dest="action", required=True)
    p = dlq.add_parser("list", parents=[common])
    p.add_argument("service", nargs="?", choices=SERVICES)
    p.add_argument("--status", default="pending", choices=("pending", "replayed", "discarded"))
    p.add_argument("--limit", type=int, default=100)
    for name in ("show", "replay", "discard"):
        p = dlq.add_parser(name, parents=[common])
        p.add_argument("service", choices=SERVICES)
        p.add_argument("id", type=int)
        p.add_argument("--reason", required=name == "discard")
    p = dlq.add_parser("replay-all", parents=[common])
    p.add_argument("service", choices=SERVICES)
    p.add_argument("--consumer")
    p.add_argument("--topic")
    p.add_argument("--reason")
    p = sub.add_parser("outbox-replay", parents=[common], help="重发一段时间内已发布的事件（默认只数不改）")
    p.add_argument("service", choices=SERVICES)
    p.add_argument("--since", required=True, help="ISO 8601 带时区，如 2026-11-30T00:00:00+08:00")
    p.add_argument("--until", required=True)
    p.add_argument("--topic")
    p.add_argument("--apply", action="store_true", help="真的重发（否则只数）")
    p.add_argument("--reason")
    p = sub.add_parser("actions", parents=[common], help="运维操作审计")
    p.add_argument("service", nargs="?", choices=SERVICES)
    p.add_argument("--limit", type=int, default=50)
    args = parser.parse_args(argv)

    urls = targets(args, default)
    token = args.token or os.environ.get("UNIONOPS_TOKEN") or (token_default() if token_default else None)
    if args.command == "status":
        return status(urls, token, args.timeout, args.json)
    if not token:
        raise SystemExit("需要联合会管理员令牌：--token 或 UNIONOPS_TOKEN（本地：make token）")

    def admin(service: str) -> Admin:
        return Admin(urls[service], token, max(args.timeout, 30.0))

    if args.command == "dlq" and args.action == "list":
        lines = []
        for s in [args.service] if args.service else SERVICES:
            page = admin(s).call("GET", "/admin/dead-letters", params={"status": args.status, "limit": args.limit})
            lines += _dead_letter_lines(s, page["items"])
        print("\n".join(lines) if lines else f"没有 {args.status} 状态的死信")
    elif args.command == "dlq" and args.action == "show":
        _print(admin(args.service).call("GET", f"/admin/dead-letters/{args.id}"))
    elif args.command == "dlq" and args.action == "replay":
        _print(admin(args.service).call("POST", f"/admin/dead-letters/{args.id}/replay",
                                        json={"reason": args.reason} if args.reason else {}))
    elif args.command == "dlq" and args.action == "replay-all":
        body = {k: v for k, v in (("consumer", args.consumer), ("topic", args.topic), ("reason", args.reason)) if v}
        result = admin(args.service).call("POST", "/admin/dead-letters/replay", json=body)
        _print(result)
        return 1 if result["failed"] else 0
    elif args.command == "dlq" and args.action == "discard":
        _print(admin(args.service).call("POST", f"/admin/dead-letters/{args.id}/discard", json={"reason": args.reason}))
    elif args.command == "outbox-replay":
        body = {"since": args.since, "until": args.until, "dry_run": not args.apply}
        body |= {k: v for k, v in (("topic", args.topic), ("reason", args.reason)) if v}
        _print(admin(args.service).call("POST", "/admin/outbox/replay", json=body))
    elif args.command == "actions":
        for s in [args.service] if args.service else SERVICES:
            for a in admin(s).call("GET", "/admin/actions", params={"limit": args.limit}):
                print(f"{s:<13} {a['at'][:19]}  {a['actor']:<14} {a['action']:<20} {a['target']:<22}"
                      f" {a['outcome']:<15} {a['reason'] or ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The end of the year: the invariants checked (devstack.year.invariants), the dashboard
reconciled, and the report — per phase what was done and how long it took, and the city's end
state."""
from __future__ import annotations

import asyncio
import time

from devstack.config import SERVICES


async def check(year, cfg, stack) -> list:
    from devstack.year import invariants
    src = invariants.Sources(
        dsn={s: cfg.dsn(s) for s in (*SERVICES, "traces")}, urls={s: stack.urls(s) for s in SERVICES},
        admin_token=year.admin_token(), smtpsink_url=cfg.smtpsink_url, httpsink_url=cfg.httpsink_url,
        tracesink_url=cfg.tracesink_url, bootstrap=cfg.bootstrap, trace_samples=year.trace_samples)
    return await invariants.check_all(src)


CATCH_UP_SECONDS = 60  # after the services settled, the dashboard is a consumer like the others


async def reconciled(year, stack, dashboard_url: str):
    """The dashboard's figures against the services' own APIs (any difference: a missing or wrong event)."""
    from devstack.year.invariants import Finding
    from devstack.year.reconcile import reconcile
    differences: list[str] = []
    deadline = time.monotonic() + CATCH_UP_SECONDS
    while True:  # the dashboard follows the topics: give it the time to catch up, not more
        differences = await reconcile({s: stack.urls(s)[0] for s in SERVICES}, year.admin_token(), dashboard_url)
        if not differences or time.monotonic() > deadline:
            break
        await asyncio.sleep(2)
    return Finding("the dashboard reconciles with the services' APIs", not differences,
                 "; ".join(differences[:5]), len(differences))


def render(year, findings, failures, boot_seconds, total_seconds, stack, args) -> tuple[str, dict]:
    lines = ["", f"The year {args.year} of a city of {args.members:,} members — {total_seconds:.0f} s in all "
             f"(stack up in {boot_seconds:.0f} s)", "",
             f"{'date':<6} {'phase':<28} {'seconds':>8} {'settle':>7} {'requests':>9} {'req/s':>7}  done"]
    phases = []
    for p in [*year.phases, *year.closing]:
        rate = p.requests / max(p.seconds - p.settle_seconds, 1e-6)
        counts = ", ".join(f"{k} {v:,}" for k, v in p.counts.items())
        lines.append(f"{p.day:%m-%d}  {p.name[:26]:<28} {p.seconds:>8.1f} {p.settle_seconds:>7.1f} {p.requests:>9,}"
                     f" {rate:>7.0f}  {counts}")
        phases.append({"day": p.day.isoformat(), "name": p.name, "seconds": round(p.seconds, 2),
                       "settle_seconds": round(p.settle_seconds, 2), "requests": p.requests,
                       "counts": dict(p.counts)})
    city = year.city
    end_state = {}
    if city:
        statuses = {}
        for person in city.members.values():
            statuses[person.status] = statuses.get(person.status, 0) + 1
        end_state = {"districts": len(city.districts), "streets": len(city.streets), "unions": len(city.unions),
                     "employers": len(city.employers), "members": statuses}
        lines += ["", "the city at the end: " + ", ".join(f"{k} {v}" for k, v in end_state.items())]
    lines += ["", "invariants:"]
    for f in findings:
        lines.append(f"  {'ok  ' if f.ok else 'FAIL'} {f.name} ({f.checked:,} checked){'' if f.ok else ': ' + f.detail}")
    chaos = getattr(stack, "chaos_timeline", None) or []
    if chaos:
        lines += ["", "chaos:"] + [f"  {c}" for c in chaos]
    for failure in failures:
        lines.append(f"FAILED: {failure}")
    ok = not failures and findings and all(f.ok for f in findings)
    lines.append("" if not ok else "every invariant holds")
    if not ok:
        broken = [f.name for f in findings if not f.ok]
        lines.append("broken: " + (", ".join(broken) if broken else "; ".join(failures)))
    body = {"year": args.year, "members": args.members, "seed": args.seed, "seconds": round(total_seconds, 1),
            "boot_seconds": round(boot_seconds, 1), "phases": phases, "end_state": end_state,
            "invariants": [f.__dict__ for f in findings], "failures": failures, "chaos": chaos, "ok": bool(ok),
            "statuses": {s: dict(c) for s, c in year.statuses.items()}}
    return "\n".join(lines), body

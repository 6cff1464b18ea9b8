"""`make status`: every service's health and readiness, outbox backlog, consumer lag, dead
letters and delivery queue in one table (unionops.oncall), for the local stack by default — the
ports of `.env` — or any environment given by URL:

    make status
    make status ARGS="--base https://{service}.union.example --token …"
    make status ARGS="--membership https://m.example --welfare https://w.example …"

Locally a federation admin token is minted with the development secret when none is given
(`--token` / UNIONOPS_TOKEN). Exits 1 when a service is unreachable or not ready."""
from __future__ import annotations

import sys

from devstack.config import StackConfig
from unionops import oncall


def local_token() -> str | None:
    from unionops.auth import issue_token, root_org_id
    from unionops.settings import CommonSettings

    settings = CommonSettings()
    return issue_token(settings, subject="oncall-status", role="federation_admin",
                       org_id=root_org_id(settings.city_region_code), name="make status", ttl_seconds=600)


def main(argv: list[str] | None = None) -> int:
    stack = StackConfig.from_env()
    argv = sys.argv[1:] if argv is None else argv
    given = any(a.startswith(("--base", *(f"--{s}" for s in oncall.SERVICES))) for a in argv)
    # Another environment's token is never minted here: it must be given.
    return oncall.main(["status", *argv], default=stack.url, token_default=None if given else local_token)


if __name__ == "__main__":
    sys.exit(main())

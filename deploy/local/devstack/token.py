"""Mint a staff token for local use.

    python -m devstack.token                                  # city federation admin
    python -m devstack.token --role staff --org <unit id>     # staff of one unit's subtree
"""
from __future__ import annotations

import argparse

from unionops.auth import ROLES, issue_token, root_org_id
from unionops.settings import CommonSettings


def main() -> None:
    settings = CommonSettings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--role", default="federation_admin", choices=sorted(ROLES))
    parser.add_argument("--org", default=str(root_org_id(settings.city_region_code)),
                        help="organisation unit id (default: the city root)")
    parser.add_argument("--sub", default="dev-admin")
    parser.add_argument("--name", default="本地开发")
    parser.add_argument("--ttl", type=int, default=12 * 3600, help="seconds")
    args = parser.parse_args()
    print(issue_token(settings, subject=args.sub, role=args.role, org_id=args.org, name=args.name, ttl_seconds=args.ttl))


if __name__ == "__main__":
    main()

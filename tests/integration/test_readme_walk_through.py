"""The README's "See a member join" commands, exactly as written there, run against membership as
a process: they can be run again, also after the tree has grown."""
from __future__ import annotations

import json
import re
import subprocess

import pytest

from devstack.config import REPO
from tests.support.membership import found_district

pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership")]

# `make -s token` and `make -s url NAME=…` as the Makefile's recipes run them; its install step
# (re-creating .venv when the lock files are newer) has no place in a test.
MAKE = """
make() {
  case "$2" in
    token) .venv/bin/python -m devstack.token ;;
    url) .venv/bin/python -m devstack.config url "${3#NAME=}" ;;
    *) echo "the walk-through uses make $*, which this test does not know" >&2; return 2 ;;
  esac
}
"""


def walk_through() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    return re.search(r"^## See a member join.*?^```sh\n(.*?)^```", readme, re.S | re.M).group(1)


def run(stack) -> tuple[int, dict]:
    done = subprocess.run(["bash", "-eu", "-o", "pipefail", "-c", MAKE + walk_through()], cwd=REPO,
                          env=stack.service_env("membership"), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    head, _, body = done.stdout.replace("\r\n", "\n").partition("\n\n")
    return int(head.split()[1]), json.loads(body)


async def test_the_readme_walk_through_can_be_run_again_after_the_tree_grew(stack, client):
    found_district(client)
    status, first = run(stack)
    assert status == 201, first
    # A union whose name sorts before every other (C collation: "(" before letters and 汉字)
    # becomes "the first grassroots union" of the tree.
    found_district(client, name=f"(演示)新区总工会{first['id'][:4]}")
    status, second = run(stack)
    assert status == 201, second
    assert second["id"] != first["id"] and second["name"] == first["name"] == "陈静"

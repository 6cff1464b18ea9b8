"""`make year` at a small size, as part of `make test`: a whole city and a whole year on the
simulated clock, every invariant checked at the end. The year's own exit status is the verdict;
the report says which phase did what, and these tests read it."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from devstack.config import REPO

pytestmark = pytest.mark.integration

MEMBERS = 1000


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    folder = tmp_path_factory.mktemp("year")
    report = folder / "report.json"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(str(REPO / p) for p in (
        "libs", "deploy/local", "services/membership", "services/welfare", "services/competitions", "services/notify")))
    run = subprocess.run([sys.executable, "-m", "devstack.year", "--members", str(MEMBERS), "--seed", "11",
                          "--state", str(folder / "state"), "--report", str(report)],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=1500)
    body = json.loads(report.read_text()) if report.exists() else {}
    return run, body


def test_the_year_ends_with_every_invariant_holding(year):
    run, body = year
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert body["ok"] is True and body["failures"] == []
    names = {f["name"] for f in body["invariants"]}
    assert len(names) >= 5 and all(f["ok"] for f in body["invariants"])


def test_the_city_lived_a_whole_year_of_the_plan(year):
    _, body = year
    days = [p["day"] for p in body["phases"]]
    assert days == sorted(days) and days[0].endswith("-01-04") and days[-1][5:7] == "12"
    done = {}
    for p in body["phases"]:
        for what, n in p["counts"].items():
            done[what] = done.get(what, 0) + n
    assert done["register rows imported"] == round(MEMBERS * 0.92)
    assert done["admitted"] > 0 and done["HR job changes"] > 0 and done["unions founded"] > 0
    assert done["contracts signed"] > 0 and done["sessions held"] > 0
    assert body["end_state"]["members"]["left"] > 0 and body["end_state"]["members"]["retained"] > 0


def test_the_simulated_clock_dated_the_year_not_the_machine(year):
    _, body = year
    assert {p["day"][:4] for p in body["phases"]} == {str(body["year"])}

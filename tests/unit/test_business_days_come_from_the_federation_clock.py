"""Guard: the business day is the Beijing day at every hour. No code or test anywhere takes
"today" or "now" from the server's zone (naive clocks, argument-less `astimezone`) or from the
database session's TimeZone (SQL's current date); they use `unionops.clock` or an injected today."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("services", "libs", "deploy", "tests")
THIS_FILE = Path(__file__).resolve()

_DATE_NAMES = {"date", "datetime"}
# SQL whose day is the session's TimeZone (PostgreSQL's default is whatever initdb picked).
_SQL_SERVER_DAY = re.compile(
    r"\bcurrent_date\b|\blocaltimestamp\b|\blocaltime\b|\b(now\(\)|current_timestamp)\s*::\s*date\b"
    r"|\bdate_trunc\s*\((?![^)]*\bAT\s+TIME\s+ZONE\b)[^)]*\)", re.IGNORECASE)


def _sources(suffix: str):
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob(f"*{suffix}")):
            if path.resolve() != THIS_FILE and ".venv" not in path.parts and "node_modules" not in path.parts:
                yield path


def _is_class_attr(node: ast.AST, attrs: set[str]) -> bool:
    """`date.today`, `datetime.now`, `datetime.date.today`, ... (called or not)."""
    if not isinstance(node, ast.Attribute) or node.attr not in attrs:
        return False
    owner = node.value
    return (isinstance(owner, ast.Name) and owner.id in _DATE_NAMES) or \
        (isinstance(owner, ast.Attribute) and owner.attr in _DATE_NAMES)


def _has_zone(call: ast.Call, position: int, keyword: str) -> bool:
    args = [a for a in call.args[position:position + 1] if not (isinstance(a, ast.Constant) and a.value is None)]
    kws = [k for k in call.keywords if k.arg == keyword and not (isinstance(k.value, ast.Constant)
                                                                  and k.value.value is None)]
    return bool(args or kws)


def naive_clock_uses(source: str) -> list[tuple[int, str]]:
    """(line, what) for every server-zone clock in a Python source."""
    found = []
    tree = ast.parse(source)
    calls = {id(n.func): n for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        call = calls.get(id(node))
        if _is_class_attr(node, {"today", "utcnow", "utcfromtimestamp"}):
            found.append((node.lineno, f"{ast.unparse(node)}: the server's day"))
        elif _is_class_attr(node, {"now"}) and (call is None or not _has_zone(call, 0, "tz")):
            found.append((node.lineno, "`datetime.now()` without a zone"))
        elif _is_class_attr(node, {"fromtimestamp"}) and call is not None and not _has_zone(call, 1, "tz"):
            found.append((node.lineno, "datetime.fromtimestamp() without a zone"))
        elif _is_class_attr(node, {"combine"}) and call is not None and not _has_zone(call, 2, "tzinfo"):
            found.append((node.lineno, "datetime.combine() without tzinfo: a naive wall-clock time"))
        elif isinstance(node, ast.Attribute) and node.attr == "astimezone" and call is not None \
                and not call.args and not call.keywords:
            found.append((node.lineno, ".astimezone() without a zone: the server's zone"))
        elif isinstance(node, ast.Attribute) and node.attr in {"localtime", "mktime", "ctime"} \
                and isinstance(node.value, ast.Name) and node.value.id == "time":
            found.append((node.lineno, f"time.{node.attr}: the server's zone"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "date" \
                and not node.args and isinstance(node.func.value, ast.Call) \
                and _is_class_attr(node.func.value.func, {"now"}):
            # datetime.now(timezone.utc).date() is the UTC day, 16:00–24:00 UTC a day behind Beijing
            found.append((node.lineno, "datetime.now(zone).date(): a day not taken from unionops.clock"))
    return found


def sql_server_days(text: str) -> list[tuple[int, str]]:
    return [(text.count("\n", 0, m.start()) + 1, m.group(0)) for m in _SQL_SERVER_DAY.finditer(text)]


def test_no_code_or_test_takes_today_from_the_server_clock():
    offences = []
    for path in _sources(".py"):
        source = path.read_text(encoding="utf-8")
        for line, what in naive_clock_uses(source):
            if path.relative_to(ROOT).as_posix() == "libs/unionops/clock.py":
                continue  # the federation clock itself
            offences.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert not offences, "use unionops.clock (local_today / local_now / day_start) or inject today:\n" + \
        "\n".join(offences)


def test_no_sql_cuts_days_by_the_database_session_zone():
    offences = []
    for suffix in (".sql", ".py"):
        for path in _sources(suffix):
            offences += [f"{path.relative_to(ROOT)}:{line}: {what}"
                         for line, what in sql_server_days(path.read_text(encoding="utf-8"))]
    assert not offences, "cut days in Beijing: pass the day from Python or use AT TIME ZONE 'Asia/Shanghai':\n" + \
        "\n".join(offences)


def test_the_guard_recognises_every_naive_form():
    naive = """
from datetime import date, datetime, timezone
import datetime as dt, time
date.today(); datetime.now(); datetime.utcnow(); datetime.today(); dt.date.today()  # the `naive` forms
datetime.now(tz=None); x.astimezone(); datetime.fromtimestamp(1); time.localtime()
datetime.combine(d, t); datetime.now(timezone.utc).date()
f = Field(default_factory=date.today)
"""
    assert len(naive_clock_uses(naive)) == 12
    aware = """
datetime.now(timezone.utc); datetime.now(ZoneInfo("Asia/Shanghai")); x.astimezone(zone)
datetime.fromtimestamp(1, timezone.utc); datetime.combine(d, t, tzinfo=zone); local_today()
"""
    assert naive_clock_uses(aware) == []
    assert len(sql_server_days("WHERE d = CURRENT_DATE OR d < now()::date OR date_trunc('month', at)")) == 3
    assert sql_server_days("date_trunc('month', at AT TIME ZONE 'Asia/Shanghai'), now()") == []

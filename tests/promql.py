"""Metric names in PromQL expressions and in Prometheus' text format — for the check that
dashboards and alert rules name only metrics the services expose. A small tokenizer, not a
parser: strings, label matchers, ranges and grouping clauses are removed, then every remaining
identifier that is not a function call, an operator keyword or a Grafana variable is a metric."""
from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PROMETHEUS_DIR = ROOT / "deploy" / "production" / "prometheus"
DASHBOARDS_DIR = ROOT / "deploy" / "production" / "grafana" / "dashboards"

KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left",
            "group_right", "inf", "nan", "atan2"}
# Series Prometheus itself makes, not a service.
PROMETHEUS_OWN = {"up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds", "scrape_samples_scraped"}

_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_OFFSET = re.compile(r"\boffset\s+-?\d+[a-z]+")
_VARIABLE = re.compile(r"\$\{?\w+\}?")
_IDENT = re.compile(r"(?<![\w.:])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?")


def metric_names(expr: str) -> set[str]:
    text = _VARIABLE.sub("1", _STRING.sub('""', expr))
    text = _RANGE.sub("", _MATCHERS.sub("", text))
    text = _OFFSET.sub("", _GROUPING.sub("", text))
    names = set()
    for match in _IDENT.finditer(text):
        word, call = match.group(1), match.group(2)
        if call or word.lower() in KEYWORDS:
            continue
        names.add(word)
    return names


def alert_expressions(path: Path = PROMETHEUS_DIR / "alerts.yaml") -> dict[str, str]:
    rules = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {rule.get("alert") or rule.get("record"): rule["expr"]
            for group in rules["groups"] for rule in group["rules"]}


def _panels(panels: list[dict]):
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def dashboard_expressions(directory: Path = DASHBOARDS_DIR) -> dict[str, str]:
    found = {}
    for path in sorted(directory.glob("*.json")):
        board = json.loads(path.read_text(encoding="utf-8"))
        for panel in _panels(board.get("panels", [])):
            for i, target in enumerate(panel.get("targets", [])):
                if target.get("expr"):
                    found[f"{path.name}: {panel.get('title')} #{i}"] = target["expr"]
    return found


def exposed_names(text: str) -> set[str]:
    """Series and family names in a Prometheus text exposition (histograms' _bucket/_sum/_count
    and counters' _total are sample names there)."""
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            names.add(line.split()[2])
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{\s]", line, maxsplit=1)[0])
    return names

#!/usr/bin/env python3
"""promql_metrics.py rules|grafana FILE: print, one a line and sorted, the metric names used by the
PromQL expressions of a Prometheus rule file (every rule's `expr`) or a Grafana dashboard (every
panel target's `expr`, rows' nested panels included). Label matchers, ranges, grouping clauses,
strings, numbers, Grafana variables ($name) and function names are not metric names; what is
left is."""
import json
import re
import sys

KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
            "group_left", "group_right", "inf", "nan"}


def names(expr):
    expr = re.sub(r'"(\\.|[^"\\])*"|\'(\\.|[^\'\\])*\'|`[^`]*`', '""', expr)
    expr = re.sub(r"\{[^}]*\}", " ", expr)
    expr = re.sub(r"\[[^\]]*\]", " ", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    found = set()
    for m in re.finditer(r"(?<![\w.$:])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?", expr):
        if m.group(2) is None and m.group(1).lower() not in KEYWORDS:
            found.add(m.group(1))
    return found


def rule_exprs(path):
    import yaml
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    for group in doc["groups"]:
        for rule in group["rules"]:
            yield str(rule["expr"])


def grafana_exprs(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    panels = list(doc.get("panels", []))
    while panels:
        panel = panels.pop()
        panels.extend(panel.get("panels", []))
        for target in panel.get("targets", []):
            if target.get("expr"):
                yield target["expr"]


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("rules", "grafana"):
        sys.exit(__doc__)
    exprs = list((rule_exprs if sys.argv[1] == "rules" else grafana_exprs)(sys.argv[2]))
    if not exprs:
        sys.exit("no expression found in " + sys.argv[2])
    used = set()
    for expr in exprs:
        used |= names(expr)
    print("\n".join(sorted(used)))


if __name__ == "__main__":
    main()

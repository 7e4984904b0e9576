"""junit.xml: one stable case per version and clause (`v4::UE-AUTH-01`), a pass only for a clause judged."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from fpjs_conformance.report_text import BAD, clause_note, example_text

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(text: Any) -> str:
    """Text XML 1.0 can carry (control characters shown as \\xNN)."""
    return _XML_BAD.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def to_junit(run: dict) -> str:
    """One stable case per version and clause. A stopped run (or version) has one error case for the stop
    and no case for what it did not judge: a dashboard never counts a pass it did not earn."""
    cases = [(r, v, c) for r in run["clauses"] for v, c in r["versions"].items() if c["status"] != "not-judged"]
    if run["whole_run_stopped"]:
        stops = [("run", run["stopped"] or run["whole_run_stopped"])]
    else:
        stops = list(run["stopped_versions"].items())
    failures = sum(c["status"] in ("failed", "stale-deviation") for _, _, c in cases)
    skipped = sum(c["status"] not in ("failed", "stale-deviation", "passed") for _, _, c in cases)
    counts = {
        "tests": str(len(cases) + len(stops)),
        "failures": str(failures),
        "errors": str(len(stops)),
        "skipped": str(skipped),
    }
    time_s = str(run["duration_s"] or 0)
    root = ET.Element("testsuites", {"name": run["suite"], **counts, "time": time_s})
    suite = ET.SubElement(root, "testsuite", {"name": run["suite"], **counts, "time": time_s})
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("result", run["result"]),
        ("seed", run["seed"] if run["seed"] is not None else "derandomized"),
        ("hypothesis_profile", run["hypothesis_profile"]),
        ("duration_s", run["duration_s"]),
        ("exit_status", run["exit_status"]),
    ):
        ET.SubElement(props, "property", {"name": name, "value": _x(value)})
    for v in run["versions"]:
        stats = v.get("stats") or {}
        ET.SubElement(props, "property", {"name": f"{v['version']}.target", "value": _x(v["target"])})
        ET.SubElement(
            props, "property", {"name": f"{v['version']}.requests_sent", "value": _x(stats.get("requests_sent", 0))}
        )
    for where, line in stops:
        case = ET.SubElement(suite, "testcase", {"classname": f"conformance.{where}", "name": f"{where}::stopped"})
        ET.SubElement(case, "error", {"message": _x(f"stopped: {line}"), "type": "stopped"}).text = _x(line)
    for r, version, c in cases:
        # Stable names, `v4::UE-AUTH-01`: no seed, no data, so CI can track a clause over runs.
        case = ET.SubElement(
            suite, "testcase", {"classname": f"conformance.{version}.{r['area']}", "name": f"{version}::{r['id']}"}
        )
        status = c["status"]
        if status in BAD:
            tag = "skipped" if status == "known-deviation" else "failure"
            body = [f"{version}::{r['id']} [{r['level']}] {r['title']}: {c.get('requirement', '')}"]
            body += [example_text(ex) for ex in c["examples"][:1]]
            body += [f"{e['test']}: {e['summary']}" for e in c["errors"][:1]]
            if c.get("rerun"):
                body.append(f"rerun: {c['rerun']}")
            message = c["examples"][0]["summary"] if c["examples"] and status == "failed" else clause_note(c)
            el = ET.SubElement(case, tag, {"message": _x(message), "type": status})
            el.text = _x("\n\n".join(body))
        elif status not in ("passed", "warning"):  # a SHOULD finding passes; the reports show it
            ET.SubElement(case, "skipped", {"message": _x("; ".join(c["skipped"]) or status)})
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

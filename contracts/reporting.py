"""Reports from the ledger: summary.json, summary.md, junit.xml, report.html (placeholder)."""

from __future__ import annotations

import json
from pathlib import Path


def write_all(report_dir: Path, target, state: dict, exitstatus: int, secrets: list[str]) -> list[Path]:
    report_dir.mkdir(parents=True, exist_ok=True)
    data = {"target": target.base_url, "stats": state.get("stats", {})}
    path = report_dir / "summary.json"
    path.write_text(json.dumps(data, indent=2))
    return [path]

"""Unknown is not zero: imported rows without dates never count as first-contact
resolutions or fast closures, rates say how many cases were left out, the data
quality section counts the missing facts; a running period is provisional and its
"as at" time is in the period's time zone (tested on the real clock too)."""

from __future__ import annotations

import json
import os
from datetime import datetime
from zoneinfo import ZoneInfo

ROWS = (
    "title,status,received,category\n"
    "Kettle broken,closed,2025-11-03,product_quality\n"
    "Late parcel,closed,2025-11-04,logistics\n"
    "Rude agent,open,2025-11-05,service_attitude\n"
)


def test_imported_closures_without_dates_are_unknown_not_fast(cli, ws):
    (ws / "old.csv").write_text(ROWS, encoding="utf-8")
    done = cli("import", "old.csv", cwd=ws)
    assert done.code == 0, done.err
    stats = json.loads(cli("stats", "--period", "2025-11", "--json", cwd=ws).out)
    assert (stats["received"], stats["closed"], stats["open_at_end"]) == (3, 2, 1)
    # The sheet gave no close dates and no contact history: not "closed in 0 hours".
    assert stats["resolution_hours"]["count"] == 0 and stats["resolution_unknown"] == 2
    assert stats["closed_within_3_business_days"] == {"count": 0, "known": 0, "unknown": 2, "rate": None}
    assert stats["first_contact_resolution"] == {"count": 0, "known": 0, "unknown": 2, "rate": None}
    # No "upheld" column: unknown, not 0 % upheld.
    assert stats["upheld"] == {"count": 0, "known": 0, "unknown": 2, "rate": None}
    report = cli("report", "compliance", "--period", "2025-11", cwd=ws).out
    assert "| Closed within 3 business days | n/a | 0 of 0 known; 2 unknown, left out |" in report
    assert "| Upheld | n/a | 0 of 0 known; 2 unknown, left out |" in report
    assert "| Close date | closed cases | 2 | 2 | 100.0% |" in report  # the data-quality section
    assert "| Upheld (yes/no) | closed cases | 2 | 2 | 100.0% |" in report
    assert "| 2025-10 | no data |" in report  # before the first case: no data, not 0 received


def test_a_running_period_is_provisional_and_as_at_is_in_the_period_zone(cli, ws):
    # The bundled rules count time in Asia/Shanghai; the test clock says 17:30+08:00.
    stats = json.loads(cli("stats", "--json", cwd=ws).out)
    assert stats["provisional"] is True and stats["as_at"] == "2025-11-21T17:30:00+08:00"
    done = cli("stats", "--period", "2025-10", "--json", cwd=ws)
    assert json.loads(done.out)["provisional"] is False
    # The real clock (no CMTOOL_NOW): this month is running, as_at is now in Shanghai time.
    env = {k: v for k, v in os.environ.items() if k != "CMTOOL_NOW"}
    before = datetime.now(ZoneInfo("Asia/Shanghai"))
    real = cli("stats", "--json", cwd=ws, env={**env, "CMTOOL_NOW": ""})
    assert real.code == 0, real.err
    data = json.loads(real.out)
    as_at = datetime.fromisoformat(data["as_at"])
    assert data["provisional"] is True and as_at.utcoffset() == before.utcoffset()
    assert before.replace(microsecond=0) <= as_at <= datetime.now(ZoneInfo("Asia/Shanghai"))
    assert data["period"]["label"] == before.strftime("%Y-%m")
    report = cli(
        "report", "compliance", "--period", data["period"]["label"], cwd=ws, env={**env, "CMTOOL_NOW": ""}
    )
    assert report.out.startswith(
        f"# Monthly complaints compliance report: {data['period']['label']} (provisional)"
    )

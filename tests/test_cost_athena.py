"""`orgtrail cost --athena` against moto's Athena (results queued through moto's own API): the
counting query over the projected days, its rows read into the volume, and the file sizes
Athena cannot give named as not measured."""

import json
import urllib.request
from datetime import UTC, date, datetime, timedelta

from orgtrail.__main__ import main
from orgtrail.cost.athena import window_sql
from tests.support.contract import conforming
from tests.support.moto_org import MANAGEMENT
from tests.test_cutover import payments_trail, write_stack

HEADER = (
    "account", "region", "management_read", "management_write", "s3_data", "lambda_data",
    "other_data", "network_activity", "unclassified", "first_event", "last_event",
)  # fmt: skip


def queue_athena_rows(org, rows: list[tuple]) -> None:
    body = {
        "account_id": MANAGEMENT,
        "results": [
            {
                "rows": [
                    {"Data": [{"VarCharValue": str(v)} for v in row]} for row in [HEADER, *rows]
                ],
                "column_info": [],
            }
        ],
    }
    request = urllib.request.Request(
        f"{org.environment['AWS_ENDPOINT_URL']}/moto-api/static/athena/query-results",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10).close()


def test_the_window_is_pruned_by_its_days():
    sql = window_sql(date(2026, 11, 25), date(2026, 12, 2))
    assert "FROM cloudtrail_logs\nWHERE day >= '2026/11/25' AND day < '2026/12/02'\nGROUP BY" in sql


def test_a_whole_organisation_counted_in_athena(org, tmp_path, capsys):
    payments = org.accounts["payments"]
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(days=7)
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    queue_athena_rows(
        org,
        [
            (payments, "eu-west-1", 700_000, 300_000, 0, 0, 0, 0, 0, start.strftime(stamp), end.strftime(stamp)),
            (MANAGEMENT, "us-east-1", 70_000, 30_000, 0, 0, 0, 0, 0, start.strftime(stamp), end.strftime(stamp)),
        ],
    )  # fmt: skip
    org.admin.client("athena").create_work_group(Name="org-trail")
    path = write_stack(tmp_path, org, [payments_trail(org)])
    argv = ["cost", "--athena", "--stack-config", str(path), "--offline", "--json"]
    assert main(argv) == 1  # the files' sizes and the data events are not measured
    document = conforming("cost", capsys.readouterr().out)
    assert document["window"]["events"] == 1_100_000 and document["window"]["days"] == 7.0
    items = {item["id"]: item for item in document["items"]}
    assert set(items) == {
        "management-extra-copies",
        "data-events",
        "network-activity-events",
        "insights",
    }
    month = 365.25 / 12 / 7
    # The payments trail is one extra copy of its account's management events in eu-west-1.
    assert items["management-extra-copies"]["quantityPerMonth"] == round(1_000_000 * month, 6)
    assert any(
        line.startswith("the log files, their number and sizes") for line in document["notMeasured"]
    )

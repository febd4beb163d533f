"""`orgtrail cost --athena` against moto's Athena (results queued through moto's own API): the
counting query over the projected days, its rows read into the volume, and the file sizes
Athena cannot give named as not measured."""

import json
import urllib.request
from datetime import UTC, date, datetime, timedelta

import sqlglot

from orgtrail.__main__ import main
from orgtrail.cost.athena import window_sql
from tests.support.contract import conforming
from tests.support.moto_org import MANAGEMENT
from tests.support.stacks import security_stack_file
from tests.test_cutover import payments_trail, write_stack

HEADER = ("account", "region", "kind", "events", "first_event", "last_event")


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
    assert (
        "FROM cloudtrail_logs\n  WHERE day >= '2026/11/25' AND day < '2026/12/02'\n) AS events"
        in sql
    )
    assert sql.rstrip().endswith("GROUP BY account, region, kind\nORDER BY account, region, kind")


def test_the_query_is_athena_sql_with_the_columns_read_back():
    sql = window_sql(date(2026, 11, 25), date(2026, 12, 2), ("logs-a", "logs-b"), "aws-us-gov")
    parsed = sqlglot.parse_one(sql, read="trino")  # Athena's engine: it must parse as Trino
    assert tuple(parsed.named_selects) == HEADER
    assert "starts_with(r.arn, 'arn:aws-us-gov:s3:::logs-b/')" in sql


def test_a_whole_organisation_counted_in_athena(org, tmp_path, capsys):
    payments = org.accounts["payments"]
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(days=7)
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    window = (start.strftime(stamp), end.strftime(stamp))
    queue_athena_rows(
        org,
        [
            (payments, "eu-west-1", "management_read", 700_000, *window),
            (payments, "eu-west-1", "management_write", 300_000, *window),
            (payments, "eu-west-1", "s3_read", 1_400, *window),
            (payments, "eu-west-1", "s3_write", 700, *window),
            (payments, "eu-west-1", "log_bucket_reads", 70, *window),
            (MANAGEMENT, "us-east-1", "management_read", 70_000, *window),
            (MANAGEMENT, "us-east-1", "management_write", 30_000, *window),
            (MANAGEMENT, "us-east-1", "network_kms", 7, *window),
        ],
    )
    org.admin.client("athena").create_work_group(Name="org-trail")
    path = write_stack(tmp_path, org, [payments_trail(org)])
    security = security_stack_file(
        tmp_path,
        organization_id=org.organization_id,
        management_account=MANAGEMENT,
        security_account=org.accounts["security"],
    )
    argv = ["cost", "--athena", "--stack-config", str(path), "--stack-config", str(security)]
    argv += ["--offline", "--json"]
    assert main(argv) == 1  # the files' sizes are not measured
    document = conforming("cost", capsys.readouterr().out)
    assert document["window"]["events"] == 1_102_177 and document["window"]["days"] == 7.0
    items = {item["id"]: item for item in document["items"]}
    assert set(items) == {
        "management-extra-copies",
        "s3-data-reads",
        "s3-data-writes",
        "log-bucket-reads",
        "lambda-data-events",
        "insights-api-call-rate",
        "insights-api-error-rate",
    }
    month = 365.25 / 12 / 7
    # The payments trail is one extra copy of its account's management events in eu-west-1.
    assert items["management-extra-copies"]["quantityPerMonth"] == round(1_000_000 * month, 6)
    assert items["s3-data-writes"]["quantityPerMonth"] == round(700 * month, 6)
    assert items["log-bucket-reads"]["quantityPerMonth"] == round(70 * month, 6)
    # kms's network activity events: the stack file records none.
    assert any(line.startswith(f"{7 * month:,.0f} network activity events of kms") for line in
               document["assumptions"])  # fmt: skip
    assert any(
        line.startswith("the log files, their number and sizes") for line in document["notMeasured"]
    )
    # The log buckets of the security stack file are counted apart, in the query sent.
    athena = org.admin.client("athena")
    (execution,) = athena.list_query_executions(WorkGroup="org-trail")["QueryExecutionIds"]
    sent = athena.get_query_execution(QueryExecutionId=execution)["QueryExecution"]["Query"]
    bucket = f"org-trail-logs-{org.accounts['security']}-us-east-1"
    assert f"starts_with(r.arn, 'arn:aws:s3:::{bucket}/')" in sent


def test_a_query_athena_failed_is_refused_with_its_reason(org, proxy, tmp_path, capsys):
    """moto's queries always succeed: the proxy answers GetQueryExecution as Athena does for
    a query that failed (State FAILED, StateChangeReason)."""

    def failed(call, answer):
        document = answer.json()
        document["QueryExecution"]["Status"] = {
            "State": "FAILED",
            "StateChangeReason": "TABLE_NOT_FOUND: Table org_trail.cloudtrail_logs does not exist",
        }
        return answer.with_json(document)

    proxy.on("GetQueryExecution", failed)
    org.admin.client("athena").create_work_group(Name="org-trail")
    path = write_stack(tmp_path, org, [payments_trail(org)])
    argv = ["cost", "--athena", "--stack-config", str(path), "--offline", "--json"]
    assert main(argv) == 2
    message = conforming("error", capsys.readouterr().out)["error"]["message"]
    assert message.startswith("Athena query ") and message.endswith(
        "FAILED: TABLE_NOT_FOUND: Table org_trail.cloudtrail_logs does not exist"
    )

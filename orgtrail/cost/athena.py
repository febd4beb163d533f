"""The volume of a whole organisation, counted where the logs lie: Athena over the central
bucket (the security stack's workgroup and table), the same counts `--logs` makes locally.

Athena counts events, not files: the log files' number and sizes (storage, requests, KMS,
CloudWatch Logs ingestion) are not measured this way, and the estimate says so rather than
pricing them at nothing.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import date, timedelta

from orgtrail.cost.volume import Volume, counts_sql, volume_of
from orgtrail.ops.aws import Account

DONE = ("SUCCEEDED", "FAILED", "CANCELLED")


class AthenaError(RuntimeError):
    pass


def window_sql(
    start: date, end: date, log_buckets: Sequence[str] = (), partition: str = "aws"
) -> str:
    """The counts over the days [start, end), pruned by the table's projected `day` partition."""
    return counts_sql(
        where=f"day >= '{start:%Y/%m/%d}' AND day < '{end:%Y/%m/%d}'",
        log_buckets=log_buckets,
        partition=partition,
    )


def _rows(athena, execution: str) -> list[dict]:
    names: list[str] = []
    rows: list[dict] = []
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=execution):
        for row in page["ResultSet"]["Rows"]:
            values = [cell.get("VarCharValue") for cell in row["Data"]]
            if not names:
                names = [str(value) for value in values]  # Athena's first row: the header
                continue
            rows.append(dict(zip(names, values, strict=True)))
    return rows


def measure_athena(
    account: Account,
    region: str,
    workgroup: str,
    database: str,
    days: int,
    today: date,
    log_buckets: Sequence[str] = (),
    poll_seconds: float = 1.0,
) -> Volume:
    athena = account.client("athena", region)
    start, end = today - timedelta(days=days), today
    execution = athena.start_query_execution(
        QueryString=window_sql(start, end, log_buckets, account.partition),
        QueryExecutionContext={"Database": database},
        WorkGroup=workgroup,
    )["QueryExecutionId"]
    while True:
        status = athena.get_query_execution(QueryExecutionId=execution)["QueryExecution"]["Status"]
        if status["State"] in DONE:
            break
        time.sleep(poll_seconds)
    if status["State"] != "SUCCEEDED":
        reason = status.get("StateChangeReason", "no reason given")
        raise AthenaError(f"Athena query {execution} {status['State']}: {reason}")
    rows = _rows(athena, execution)  # strings, as Athena gives them: the counts read as such
    volume = volume_of(rows, files=None)
    volume.log_buckets = tuple(log_buckets)
    return volume

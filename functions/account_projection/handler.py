"""Keeps the Athena tables' account projection equal to every account that delivers.

Partition projection of type `enum` sees only the values it lists (Athena User Guide,
"Supported types for partition projection": enum), so a table listing the management and
security accounts alone silently skips every member. The organization trail writes each
account's files under `AWSLogs/<organization-id>/<account-id>/` from the hour it joins
(CloudTrail User Guide, "Finding your CloudTrail log files"). Run every hour, this function
lists those prefixes (ListObjectsV2 with a delimiter; no Organizations permission is
needed) and adds each account found to `projection.account.values` of every table named
in TABLES (GetTable, then UpdateTable with the table's own TableInput). An account is
never removed: one that left the organisation still has logs to query.

Environment: BUCKET, ORGANIZATION_ID, DATABASE, TABLES (comma-separated).
"""

from __future__ import annotations

import os
import re

import boto3

PROJECTED = "projection.account.values"
ACCOUNT_ID = re.compile(r"^\d{12}$")
# The fields of a Table that UpdateTable's TableInput accepts (Glue API reference, TableInput).
TABLE_INPUT_FIELDS = (
    "Name",
    "Description",
    "Owner",
    "LastAccessTime",
    "LastAnalyzedTime",
    "Retention",
    "StorageDescriptor",
    "PartitionKeys",
    "ViewOriginalText",
    "ViewExpandedText",
    "TableType",
    "Parameters",
    "TargetTable",
    "ViewDefinition",
)


def delivering_accounts(s3, bucket: str, organization_id: str) -> set[str]:
    """The account IDs with a folder under the organisation's prefix of the bucket."""
    prefix = f"AWSLogs/{organization_id}/"
    found = set()
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, Delimiter="/"
    )
    for page in pages:
        for common in page.get("CommonPrefixes", []):
            account = common["Prefix"][len(prefix) :].rstrip("/")
            if ACCOUNT_ID.match(account):
                found.add(account)
    return found


def projected(parameters: dict) -> set[str]:
    return {a for a in parameters.get(PROJECTED, "").split(",") if a}


def add_accounts(glue, database: str, table: str, accounts: set[str]) -> list[str]:
    """Adds the accounts the table does not project yet; returns those added."""
    current = glue.get_table(DatabaseName=database, Name=table)["Table"]
    parameters = current.get("Parameters", {})
    added = sorted(accounts - projected(parameters))
    if added:
        table_input = {k: current[k] for k in TABLE_INPUT_FIELDS if k in current}
        values = ",".join(sorted(projected(parameters) | accounts))
        table_input["Parameters"] = {**parameters, PROJECTED: values}
        glue.update_table(DatabaseName=database, TableInput=table_input)
    return added


def handle(event, context):
    environment = os.environ
    accounts = delivering_accounts(
        boto3.client("s3"), environment["BUCKET"], environment["ORGANIZATION_ID"]
    )
    glue = boto3.client("glue")
    added = {
        table: add_accounts(glue, environment["DATABASE"], table, accounts)
        for table in environment["TABLES"].split(",")
    }
    return {"accounts": sorted(accounts), "added": added}

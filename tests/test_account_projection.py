"""Athena sees the whole organisation: the keeper function adds every account that delivers
(those that join later included) to both tables' account projection, against moto's S3 and
Glue, and its role allows exactly the calls it makes."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from components.log_analysis import INSIGHT_FOLDER
from functions.account_projection import handler
from orgtrail.analysis.cloudtrail_schema import ACCOUNT_PROJECTION, DATABASE, INSIGHTS_TABLE, TABLE
from orgtrail.contract.policy_documents import projection_keeper_policy
from orgtrail.policy_eval import ALLOW, evaluate
from tests.support.aws_calls import recorded_calls, requests_of
from tests.support.moto_org import CENTRAL_BUCKET, create_analysis_table
from tests.support.stacks import SECURITY_ACCOUNT

JOINED_LATER = "999999999999"


@pytest.fixture
def keeper(org, monkeypatch):
    """The tables as the security stack creates them (only the management and security
    accounts configured), the keeper's environment, and clients of the security account."""
    security = org.member("security")
    glue = security.client("glue")
    glue.delete_table(DatabaseName=DATABASE, Name=TABLE)  # seeded listing every account
    seeded = [org.accounts["management"], org.accounts["security"]]
    organization_id = org.organization.organization_id
    create_analysis_table(glue, organization_id, TABLE, "CloudTrail", seeded)
    create_analysis_table(glue, organization_id, INSIGHTS_TABLE, INSIGHT_FOLDER, seeded)
    environment = {
        "BUCKET": CENTRAL_BUCKET,
        "ORGANIZATION_ID": org.organization.organization_id,
        "DATABASE": DATABASE,
        "TABLES": f"{TABLE},{INSIGHTS_TABLE}",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(handler, "boto3", SimpleNamespace(client=security.client))
    return SimpleNamespace(org=org, glue=glue, s3=security.client("s3"), seeded=seeded)


def projected(glue, table: str) -> list[str]:
    parameters = glue.get_table(DatabaseName=DATABASE, Name=table)["Table"]["Parameters"]
    return parameters[ACCOUNT_PROJECTION].split(",")


def test_every_account_that_delivers_is_projected_and_none_is_removed(keeper):
    org = keeper.org
    delivering = ["payments", "data", "sandbox"]
    for name in delivering:
        org.deliver(name, "us-east-1", handler_now())
    # A folder that is not an account is no account; a later joiner is found by its folder.
    prefix = f"AWSLogs/{org.organization.organization_id}"
    keeper.s3.put_object(Bucket=CENTRAL_BUCKET, Key=f"{prefix}/notes/readme.txt", Body=b"x")
    keeper.s3.put_object(
        Bucket=CENTRAL_BUCKET,
        Key=f"{prefix}/{JOINED_LATER}/CloudTrail/us-east-1/f.json.gz",
        Body=b"x",
    )
    result = handler.handle({}, None)
    expected = sorted({*keeper.seeded, *(org.accounts[n] for n in delivering), JOINED_LATER})
    for table in (TABLE, INSIGHTS_TABLE):
        assert projected(keeper.glue, table) == expected
    assert "notes" not in str(result["accounts"])
    # A second run changes nothing; the configured accounts that never delivered stay.
    assert handler.handle({}, None)["added"] == {TABLE: [], INSIGHTS_TABLE: []}
    assert set(keeper.seeded) <= set(projected(keeper.glue, TABLE))


def test_the_rest_of_the_table_is_kept_as_it_was(keeper):
    before = keeper.glue.get_table(DatabaseName=DATABASE, Name=TABLE)["Table"]
    keeper.org.deliver("payments", "us-east-1", handler_now())
    handler.handle({}, None)
    after = keeper.glue.get_table(DatabaseName=DATABASE, Name=TABLE)["Table"]
    unchanged = ("StorageDescriptor", "PartitionKeys", "TableType")
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
    assert {k: v for k, v in after["Parameters"].items() if k != ACCOUNT_PROJECTION} == {
        k: v for k, v in before["Parameters"].items() if k != ACCOUNT_PROJECTION
    }


def test_the_keepers_role_allows_every_call_it_makes_and_no_other_table(keeper):
    org = keeper.org.organization
    keeper.org.deliver("payments", "us-east-1", handler_now())
    with recorded_calls() as calls:
        handler.handle({}, None)
    assert {c.operation for c in calls} == {"ListObjectsV2", "GetTable", "UpdateTable"}
    policy = projection_keeper_policy(org, CENTRAL_BUCKET, DATABASE, (TABLE, INSIGHTS_TABLE))
    for request in requests_of(calls, org):
        assert evaluate(policy, request) == ALLOW, request
    # Its own tables only, and only the organisation's prefix.
    probes = [
        r for r in requests_of(calls, org, table="other_table") if "other_table" in r.resource
    ]
    assert probes and all(evaluate(policy, probe) != ALLOW for probe in probes)
    (listing,) = (r for r in requests_of(calls, org) if r.action == "s3:ListBucket")
    elsewhere = replace(listing, context={"s3:prefix": "AWSLogs/"})
    assert evaluate(policy, elsewhere) != ALLOW


def test_the_stack_runs_the_keeper_hourly_and_updates_leave_its_accounts(security):
    function = security.one("aws:lambda/function:Function", "log-analysis-keeper")
    variables = function.inputs["environment"]["variables"]
    assert variables["TABLES"].split(",") == [TABLE, INSIGHTS_TABLE]
    rule = security.one("aws:cloudwatch/eventRule:EventRule")
    assert rule.inputs["scheduleExpression"] == "rate(1 hour)"
    target = security.one("aws:cloudwatch/eventTarget:EventTarget")
    assert (target.inputs["rule"], target.inputs["arn"]) == (
        rule.outputs["name"],
        function.outputs["arn"],
    )
    for table in security.of_type("aws:glue/catalogTable:CatalogTable"):
        assert table.ignore_changes == [f'parameters["{ACCOUNT_PROJECTION}"]']
    assert handler.PROJECTED == ACCOUNT_PROJECTION


def handler_now() -> datetime:
    return datetime.now(UTC) - timedelta(hours=1)


def test_only_its_own_schedule_may_invoke_the_keeper(security):
    permission = next(
        r
        for r in security.of_type("aws:lambda/permission:Permission")
        if r.name.endswith("keeper-invoke")
    )
    rule = security.one("aws:cloudwatch/eventRule:EventRule")
    assert permission.inputs["principal"] == "events.amazonaws.com"
    assert permission.inputs["sourceArn"] == rule.outputs["arn"]
    assert permission.inputs["sourceAccount"] == SECURITY_ACCOUNT

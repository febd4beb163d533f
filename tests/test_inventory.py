"""`orgtrail inventory` against a seeded organisation in moto_server."""

import json

import pytest
import yaml

from orgtrail.__main__ import main
from orgtrail.contract.config import load_settings
from orgtrail.ops.aws import current_account
from orgtrail.ops.inventory import inventory, legacy_entries, unread
from tests.support.contract import conforming
from tests.support.moto_org import MANAGEMENT, REGIONS
from tests.support.proxy import (
    Answer,
    account_of_key,
    accounts_without_status,
    ec2_error,
    enabled_regions_only,
    json_error,
)
from tests.support.stacks import management_config
from tests.support.tables import table_rows


@pytest.fixture
def org(shared_org):
    """Inventory only reads: one organisation serves the whole module."""
    return shared_org


def scan(org, **kwargs):
    return inventory(current_account(), list(REGIONS), **kwargs)


def by_name(report) -> dict:
    return {account["name"]: account for account in report["accounts"]}


def test_inventory_lists_every_account_with_id_name_and_status(org):
    report = scan(org)
    assert report["organizationId"] == org.organization_id
    assert report["managementAccountId"] == MANAGEMENT
    accounts = by_name(report)
    assert {a["accountId"] for a in report["accounts"]} == set(org.accounts.values())
    assert accounts["closed"]["status"] == "SUSPENDED"
    assert accounts["payments"]["status"] == "ACTIVE"


def test_inventory_describes_each_accounts_trails(org):
    accounts = by_name(scan(org))
    (payments,) = accounts["payments"]["trails"]
    assert payments["name"] == "default"
    assert payments["homeRegion"] == "eu-west-1"
    assert (
        payments["arn"] == f"arn:aws:cloudtrail:eu-west-1:{org.accounts['payments']}:trail/default"
    )
    assert payments["isOrganizationTrail"] is False
    assert payments["isMultiRegionTrail"] is False
    assert payments["isLogging"] is True
    assert payments["s3BucketName"] == "acme-payments-trail"
    assert payments["logFileValidationEnabled"] is False
    assert payments["bucketLifecycleRules"] == []
    assert accounts["sandbox"]["trails"] == []


def test_multi_region_trails_are_listed_once_with_their_bucket_rules(org):
    (audit,) = by_name(scan(org))["data"]["trails"]
    assert audit["isMultiRegionTrail"] is True
    assert audit["s3KeyPrefix"] == "audit"
    assert audit["bucketLifecycleRules"] == ["expire-after-a-year"]


def test_the_organization_trail_is_recognised_in_the_management_account(org):
    trails = {t["name"]: t for t in by_name(scan(org))["master"]["trails"]}
    org_trail = trails["org-trail"]
    assert org_trail["isOrganizationTrail"] is True
    assert org_trail["logFileValidationEnabled"] is True
    assert org_trail["kmsKeyId"].startswith("arn:aws:kms:")
    assert trails["management-events"]["isOrganizationTrail"] is False


def test_an_account_that_denies_the_scan_gets_an_error_and_the_scan_goes_on(org):
    accounts = by_name(scan(org))
    assert accounts["locked-out"]["error"]
    assert "DescribeTrails" in accounts["locked-out"]["error"]
    assert accounts["locked-out"]["trails"] == []
    assert all(
        accounts[name]["error"] is None
        for name in ("payments", "data", "sandbox", "security", "closed")
    )


def test_suspended_accounts_are_not_entered(org):
    closed = by_name(scan(org))["closed"]
    assert closed["trails"] == []
    assert closed["error"] is None


def test_sequential_and_concurrent_scans_agree(org):
    assert scan(org, concurrency=1) == scan(org, concurrency=8)


def test_cli_json_has_the_documented_shape_and_exits_1_on_account_errors(org, capsys):
    code = main(["inventory", "--json", "--regions", ",".join(REGIONS)])
    report = conforming("inventory", capsys.readouterr().out)
    assert code == 1
    assert report["summary"]["notRead"] == len(report["notRead"]) > 0
    assert set(report) >= {"organizationId", "managementAccountId", "accounts"}
    account = report["accounts"][0]
    assert set(account) >= {"accountId", "name", "status", "trails", "error", "regionErrors"}


def test_emit_config_prints_legacy_trails_ready_for_the_stack_and_warns(org, capsys):
    main(["inventory", "--emit-config", "--regions", ",".join(REGIONS)])
    captured = capsys.readouterr()
    document = yaml.safe_load(captured.out)
    entries = document["org-trail:legacyTrails"]
    assert sorted((e["accountId"], e["trailName"]) for e in entries) == sorted(
        [
            (org.accounts["payments"], "default"),
            (org.accounts["data"], "audit"),
            (MANAGEMENT, "management-events"),
            (org.accounts["security"], "security-legacy"),
        ]
    )
    audit = next(e for e in entries if e["trailName"] == "audit")
    assert audit == {
        "accountId": org.accounts["data"],
        "region": "us-east-1",
        "trailName": "audit",
        "bucket": "acme-data-audit",
        "bucketAccountId": org.accounts["data"],
        "bucketRegion": "us-east-1",
        "prefix": "audit",
    }
    payments = next(e for e in entries if e["trailName"] == "default")
    assert payments["bucketRegion"] == "eu-west-1"
    # A bucket another account owns, in another region than the trail's: found by the scan.
    shared = next(e for e in entries if e["trailName"] == "security-legacy")
    assert (shared["bucketAccountId"], shared["bucketRegion"]) == (
        org.accounts["data"],
        "eu-central-1",
    )
    assert all(isinstance(e["accountId"], str) for e in entries), "account IDs must stay strings"
    assert "acme-data-audit" in captured.err
    assert "expire-after-a-year" in captured.err
    # The output is valid management-stack config as it stands.
    load_settings(
        {**management_config(), "org-trail:legacyTrails": json.dumps(entries)}, "management"
    )


def test_usage_errors_exit_2(org, capsys):
    assert main(["inventory", "--regions", " , "]) == 2
    assert "--regions" in capsys.readouterr().err


def test_unusable_credentials_exit_2_before_any_scan(org, monkeypatch, capsys):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIANOTAREALKEY00000")
    assert main(["inventory", "--json", "--regions", "us-east-1"]) == 2
    assert "no usable AWS credentials" in capsys.readouterr().err


def test_a_bucket_whose_owner_was_not_found_is_emitted_with_a_warning_to_fill_it_in():
    trail = {
        "name": "old",
        "homeRegion": "us-east-1",
        "isOrganizationTrail": False,
        "ownerAccountId": "333333333333",
        "s3BucketName": "outside-bucket",
        "s3KeyPrefix": "",
        "bucketLocationError": "the bucket is not in any account the scan could enter",
    }
    report = {"accounts": [{"accountId": "333333333333", "trails": [trail]}]}
    (entry,), (warning,) = legacy_entries(report)
    assert "bucketAccountId" not in entry
    assert "outside-bucket" in warning
    assert "set bucketAccountId and bucketRegion by hand" in warning


def test_account_state_is_read_from_state_now_that_status_is_retired(org, proxy):
    accounts_without_status(proxy)
    accounts = by_name(scan(org))
    assert accounts["payments"]["status"] == "ACTIVE"
    assert accounts["closed"]["status"] == "SUSPENDED"
    assert [t["name"] for t in accounts["payments"]["trails"]] == ["default"]


def test_every_region_is_tried_and_each_failure_is_named(org, proxy, capsys):
    def us_east_1_disabled(call, answer):
        if call.region == "us-east-1":
            return json_error(400, "UnrecognizedClientException", "region not enabled")
        return None

    proxy.on("DescribeTrails", us_east_1_disabled)
    accounts = by_name(scan(org))
    payments = accounts["payments"]
    assert payments["regionErrors"] == {
        "us-east-1": "UnrecognizedClientException: region not enabled"
    }
    assert payments["error"] is None
    # The payments trail lives in eu-west-1, after the failing region: still found.
    assert [t["name"] for t in payments["trails"]] == ["default"]
    main(["inventory", "--emit-config", "--regions", ",".join(REGIONS)])
    out = capsys.readouterr().out
    assert "# NOT COMPLETE" in out
    assert (
        f"account {org.accounts['payments']} (payments), us-east-1: UnrecognizedClientException"
        in out
    )
    yaml.safe_load(out)  # the comments leave it valid YAML


def test_each_account_is_scanned_in_the_regions_it_enabled_itself(org, proxy):
    """A trail in a region only one member opted into is found: regions are read per account."""
    member = org.member("sandbox", "ap-south-1")
    member.client("s3").create_bucket(
        Bucket="acme-sandbox-mumbai", CreateBucketConfiguration={"LocationConstraint": "ap-south-1"}
    )
    member.client("cloudtrail").create_trail(Name="mumbai", S3BucketName="acme-sandbox-mumbai")
    try:
        account = account_of_key(proxy, {org.key["AccessKeyId"]: MANAGEMENT})
        sandbox = org.accounts["sandbox"]
        opted_in = {sandbox: {*REGIONS, "ap-south-1"}}
        enabled_regions_only(proxy, set(REGIONS), lambda call: opted_in.get(account(call)))
        report = inventory(current_account())
        accounts = by_name(report)
        assert report["regions"] is None
        assert accounts["sandbox"]["regions"] == ["ap-south-1", "eu-west-1", "us-east-1"]
        assert accounts["payments"]["regions"] == sorted(REGIONS)
        assert [t["name"] for t in accounts["sandbox"]["trails"]] == ["mumbai"]
    finally:
        member.client("cloudtrail").delete_trail(Name="mumbai")
        member.client("s3").delete_bucket(Bucket="acme-sandbox-mumbai")


def test_regions_an_account_cannot_list_are_named_and_the_management_accounts_read(org, proxy):
    account = account_of_key(proxy, {org.key["AccessKeyId"]: MANAGEMENT})
    enabled_regions_only(proxy, set(REGIONS))

    def denied_for_data(call, answer):
        if account(call) == org.accounts["data"]:
            return ec2_error(403, "UnauthorizedOperation", "no")
        return None

    proxy.on("DescribeRegions", denied_for_data)
    data = by_name(inventory(current_account()))["data"]
    assert data["regions"] == sorted(REGIONS)
    assert data["regionErrors"]["DescribeRegions"].startswith("UnauthorizedOperation: no; ")
    assert [t["name"] for t in data["trails"]] == ["audit"]


@pytest.mark.parametrize("state", ["PENDING_CLOSURE", "SUSPENDED"])
def test_accounts_not_scanned_are_named_with_their_state_everywhere(
    org, proxy, capsys, state, monkeypatch
):
    def closing(call, answer):
        document = answer.json()
        for account in document["Accounts"]:
            if account["Id"] == org.accounts["sandbox"]:
                account["State"] = state
        return answer.with_json(document)

    proxy.on("ListAccounts", closing)
    regions = ["--regions", ",".join(REGIONS)]
    assert main(["inventory", "--json", *regions]) == 1
    sandbox = by_name(json.loads(capsys.readouterr().out))["sandbox"]
    assert (sandbox["status"], sandbox["notScanned"]) == (
        state,
        f"not scanned: the account is {state}",
    )
    main(["inventory", "--emit-config", *regions])
    header = capsys.readouterr().out.split("org-trail:legacyTrails")[0]
    assert "# NOT COMPLETE" in header
    assert (
        f"#   account {org.accounts['sandbox']} (sandbox): not scanned: the account is {state}"
        in header
    )
    monkeypatch.setenv("COLUMNS", "250")
    main(["inventory", *regions])
    rows = {row[0]: row for row in table_rows(capsys.readouterr().out)}
    assert rows[org.accounts["sandbox"]][2] == state
    assert rows[org.accounts["sandbox"]][4] == f"not scanned: the account is {state}"


def test_the_table_shows_each_trails_scope_and_state_as_written(org, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    main(["inventory", "--regions", ",".join(REGIONS)])
    out = capsys.readouterr().out
    rows = {row[0]: row for row in table_rows(out)}
    assert rows[org.accounts["payments"]][3] == (
        "default [own, eu-west-1, logging] -> s3://acme-payments-trail"
    )
    report = inventory(current_account(), regions=REGIONS)
    trails = [t for account in report["accounts"] for t in account["trails"]]
    own = sum(not t["isOrganizationTrail"] for t in trails)
    problems = unread(report)
    assert problems  # the fixture has accounts it cannot enter
    assert out.rstrip().splitlines()[-1] == (
        f"{len(report['accounts'])} accounts, {len(trails)} trails "
        f"({len(trails) - own} organization, {own} own); "
        f"{len(problems)} not read (see the errors column)"
    )


def test_the_management_account_lists_every_accounts_regions_when_it_may(org, proxy):
    def answer(call):
        member = call.json().get("AccountId")
        regions = {"us-east-1": "ENABLED_BY_DEFAULT"}
        if member == org.accounts["sandbox"]:
            regions["ap-south-1"] = "ENABLED"
        document = {
            "Regions": [{"RegionName": n, "RegionOptStatus": s} for n, s in regions.items()]
        }
        return Answer(200, [("Content-Type", "application/json")], json.dumps(document).encode())

    proxy.refuse("ListRegions", answer)
    accounts = by_name(inventory(current_account()))
    assert accounts["sandbox"]["regions"] == ["ap-south-1", "us-east-1"]
    assert accounts["payments"]["regions"] == ["us-east-1"]
    asked = {c.json().get("AccountId") for c in proxy.calls if c.operation == "ListRegions"}
    # The management account asks for itself without an AccountId (it may not name its own).
    assert None in asked and MANAGEMENT not in asked
    assert not [c for c in proxy.calls if c.operation == "DescribeRegions"]

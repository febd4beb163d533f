"""`orgtrail cutover --apply` stops a legacy trail only on proof, judged at the moment of each stop.

Each case runs the command as an operator would (exit code, JSON report) against moto_server,
with the loopback proxy giving the answers moto cannot, and checks the trails' logging state
afterwards: a wrong stop loses an account's logs for ever, a wrong withhold costs a rerun.
"""

import json

import pytest

from orgtrail.__main__ import main
from orgtrail.ops import cutover as command
from tests.support.contract import conforming
from tests.support.moto_org import CENTRAL_BUCKET, TRAIL_NAME
from tests.support.proxy import (
    Answer,
    ec2_error,
    enabled_regions_only,
    json_error,
    selectors_answer,
    xml_error,
)
from tests.support.selector_documents import advanced, data, field, management, network
from tests.test_cutover import (
    DAY,
    NOW,
    data_trail,
    org_selectors,
    payments_records_s3_objects,
    payments_trail,
    stop_after_first_stop,
    trail_logging,
    write_stack,
)

MANAGEMENT = management(name="Management events selector")
PAYMENTS_DATA = "arn:aws:s3:::payments-data/"


def s3_objects(*fields):
    return data("AWS::S3::Object", *fields, name="S3 object data events")


def cutover(org, tmp_path, capsys, legacy, *options):
    """`orgtrail cutover --apply --json` on these legacy trails: (exit code, report)."""
    path = write_stack(tmp_path, org, legacy)
    argv = ["cutover", "--stack-config", str(path), "--log-bucket", CENTRAL_BUCKET]
    code = main([*argv, "--apply", "--yes", "--json", *options])
    return code, conforming("cutover", capsys.readouterr().out)


@pytest.fixture
def delivered(org):
    """Both legacy trails' accounts delivered through the organization trail all day."""
    org.deliver_every("payments", "eu-west-1", NOW - DAY, NOW)
    org.deliver_every("data", "us-east-1", NOW - DAY, NOW)
    return org


@pytest.mark.parametrize(
    ("narrowed", "gap"),
    [
        (
            {"Field": "resources.ARN", "EndsWith": [".json.gz"]},
            "read and write AWS::S3::Object data events under arn:aws:s3:::payments-data/ "
            "(resources.ARN other than ….json.gz)",
        ),
        (
            {"Field": "resources.ARN", "NotEquals": [f"{PAYMENTS_DATA}ledger.csv"]},
            f"read and write AWS::S3::Object data events on {PAYMENTS_DATA}ledger.csv",
        ),
        (
            {"Field": "resources.ARN", "NotEndsWith": [".csv"]},
            "read and write AWS::S3::Object data events "
            "(resources.ARN arn:aws:s3:::payments-data/….csv)",
        ),
        (
            {"Field": "resources.ARN", "Equals": [PAYMENTS_DATA]},
            f"read and write AWS::S3::Object data events under {PAYMENTS_DATA} "
            f"(resources.ARN other than {PAYMENTS_DATA})",
        ),
        (
            {"Field": "eventName", "Equals": ["GetObject"]},
            f"read and write AWS::S3::Object data events under {PAYMENTS_DATA} "
            "(eventName other than GetObject)",
        ),
    ],
    ids=["EndsWith", "NotEquals", "NotEndsWith", "Equals is exact", "eventName"],
)
def test_an_org_trail_narrowed_by_any_operator_does_not_replace_a_trail_it_misses(
    delivered, tmp_path, capsys, narrowed, gap
):
    payments_records_s3_objects(delivered, PAYMENTS_DATA)
    org_selectors(delivered, MANAGEMENT, s3_objects(narrowed))
    code, report = cutover(delivered, tmp_path, capsys, [payments_trail(delivered)])
    (decision,) = report["trails"]
    assert code == 1
    assert decision["action"] == "withheld"
    assert decision["reasons"] == [f"the organization trail does not record: {gap}"]
    assert trail_logging(delivered, "payments", "eu-west-1", "default")


def test_an_org_trail_recording_every_object_of_the_bucket_replaces_it(delivered, tmp_path, capsys):
    payments_records_s3_objects(delivered, PAYMENTS_DATA)
    prefix = {"Field": "resources.ARN", "StartsWith": [PAYMENTS_DATA]}
    org_selectors(delivered, MANAGEMENT, s3_objects(prefix))
    code, report = cutover(delivered, tmp_path, capsys, [payments_trail(delivered)])
    assert (code, report["trails"][0]["action"]) == (0, "stopped")
    assert not trail_logging(delivered, "payments", "eu-west-1", "default")


@pytest.mark.parametrize(
    "without_kms",
    [
        {"EventSelectors": [{"ReadWriteType": "All", "ExcludeManagementEventSources": ["kms.amazonaws.com"]}]},
        advanced(management(field("eventSource", NotEquals=["kms.amazonaws.com"]), name="no KMS")),
    ],
    ids=["ExcludeManagementEventSources", "eventSource NotEquals"],
)  # fmt: skip
def test_an_org_trail_without_kms_events_does_not_replace_one_with_them(
    delivered, tmp_path, capsys, proxy, without_kms
):
    selectors_answer(proxy, TRAIL_NAME, without_kms)
    code, report = cutover(delivered, tmp_path, capsys, [payments_trail(delivered)])
    (decision,) = report["trails"]
    assert (code, decision["action"]) == (1, "withheld")
    assert decision["reasons"] == [
        "the organization trail does not record: "
        "read and write management events from kms.amazonaws.com"
    ]
    assert trail_logging(delivered, "payments", "eu-west-1", "default")


NETWORK_ACTIVITY = network("ec2.amazonaws.com", name="VPC endpoint calls")


def test_a_legacy_trail_recording_network_activity_needs_an_org_trail_that_does(
    delivered, tmp_path, capsys
):
    legacy = delivered.member("payments", "eu-west-1").client("cloudtrail")
    legacy.put_event_selectors(
        TrailName="default", AdvancedEventSelectors=[MANAGEMENT, NETWORK_ACTIVITY]
    )
    code, report = cutover(delivered, tmp_path, capsys, [payments_trail(delivered)])
    assert (code, report["trails"][0]["reasons"]) == (
        1,
        ["the organization trail does not record: network activity events from ec2.amazonaws.com"],
    )
    assert trail_logging(delivered, "payments", "eu-west-1", "default")
    org_trail = delivered.admin.client("cloudtrail").get_event_selectors(TrailName=TRAIL_NAME)
    org_selectors(delivered, *org_trail["AdvancedEventSelectors"], NETWORK_ACTIVITY)
    code, report = cutover(delivered, tmp_path, capsys, [payments_trail(delivered)])
    assert (code, report["trails"][0]["action"]) == (0, "stopped")
    assert not trail_logging(delivered, "payments", "eu-west-1", "default")


@pytest.mark.parametrize(
    ("operation", "change", "reason"),
    [
        (
            "GetEventSelectors",
            lambda answer: {
                **answer,
                "AdvancedEventSelectors": [management(field("readOnly", Equals=["false"]))],
            },
            "just before the stop: the organization trail does not record: read management events",
        ),
        (
            "DescribeTrails",
            lambda answer: {
                **answer,
                "trailList": [{**t, "IsMultiRegionTrail": False} for t in answer["trailList"]],
            },
            "just before the stop: the organization trail does not record: every region "
            "(the organization trail is single-region)",
        ),
        (
            "GetInsightSelectors",
            lambda answer: {**answer, "InsightSelectors": []},
            "just before the stop: the organization trail does not record: Insights ApiCallRateInsight",
        ),
    ],
    ids=["selectors narrowed", "made single-region", "Insights off"],
)  # fmt: skip
def test_an_org_trail_changed_after_a_stop_is_judged_again_before_the_next(
    delivered, tmp_path, capsys, proxy, operation, change, reason
):
    data_insights = delivered.member("data").client("cloudtrail")
    data_insights.put_insight_selectors(
        TrailName="audit", InsightSelectors=[{"InsightType": "ApiCallRateInsight"}]
    )
    enabled_regions_only(proxy, {"us-east-1"})
    stop_after_first_stop(proxy, (operation, change))
    code, report = cutover(
        delivered, tmp_path, capsys, [payments_trail(delivered), data_trail(delivered)]
    )
    assert code == 1
    assert [t["action"] for t in report["trails"]] == ["stopped", "withheld"]
    assert report["trails"][1]["reasons"] == [reason]
    assert not trail_logging(delivered, "payments", "eu-west-1", "default")
    assert trail_logging(delivered, "data", "us-east-1", "audit")


def account_left(proxy, account_id, after_first_stop=False):
    """Organizations answers as for an account that left the organisation: from the start
    (ListAccounts and DescribeAccount), or once a legacy trail has been stopped."""
    stops = []
    proxy.on("StopLogging", lambda call, answer: stops.append(call))

    def gone(call, answer):
        if call.json().get("AccountId") == account_id and (stops or not after_first_stop):
            return json_error(400, "AccountNotFoundException", "not in the organization")
        return None

    def unlisted(call, answer):
        if after_first_stop:
            return None
        accounts = [a for a in answer.json()["Accounts"] if a["Id"] != account_id]
        return answer.with_json({**answer.json(), "Accounts": accounts})

    proxy.on("DescribeAccount", gone)
    proxy.on("ListAccounts", unlisted)


def test_an_account_that_left_the_organization_keeps_its_trail(delivered, tmp_path, capsys, proxy):
    account_left(proxy, delivered.accounts["payments"])
    code, report = cutover(delivered, tmp_path, capsys, [payments_trail(delivered)])
    assert (code, report["trails"][0]["reasons"]) == (
        1,
        [
            f"account {delivered.accounts['payments']} is not a member of "
            f"{delivered.organization_id}: the organization trail records member accounts only"
        ],
    )
    assert trail_logging(delivered, "payments", "eu-west-1", "default")


def test_an_account_leaving_during_the_run_keeps_its_trail(delivered, tmp_path, capsys, proxy):
    enabled_regions_only(proxy, {"us-east-1"})
    account_left(proxy, delivered.accounts["data"], after_first_stop=True)
    code, report = cutover(
        delivered, tmp_path, capsys, [payments_trail(delivered), data_trail(delivered)]
    )
    assert code == 1
    assert [t["action"] for t in report["trails"]] == ["stopped", "withheld"]
    assert report["trails"][1]["reasons"] == [
        f"just before the stop: account {delivered.accounts['data']} is not a member of "
        f"{delivered.organization_id}: the organization trail records member accounts only"
    ]
    assert trail_logging(delivered, "data", "us-east-1", "audit")


@pytest.mark.parametrize("state", ["SUSPENDED", "PENDING_CLOSURE"])
@pytest.mark.parametrize("when", ["at the start", "just before the stop"])
def test_an_account_that_is_not_active_keeps_its_trail(
    delivered, tmp_path, capsys, proxy, state, when
):
    payments = delivered.accounts["payments"]

    def closing(account):
        return {**{k: v for k, v in account.items() if k != "Status"}, "State": state}

    def listed(call, answer):
        accounts = [closing(a) if a["Id"] == payments else a for a in answer.json()["Accounts"]]
        return answer.with_json({**answer.json(), "Accounts": accounts})

    def described(call, answer):
        if call.json().get("AccountId") == payments:
            return answer.with_json({"Account": closing(answer.json()["Account"])})
        return None

    proxy.on("DescribeAccount", described)
    if when == "at the start":
        proxy.on("ListAccounts", listed)
    code, report = cutover(delivered, tmp_path, capsys, [payments_trail(delivered)])
    reason = f"account {payments} is {state}, not an ACTIVE member of {delivered.organization_id}"
    prefix = "just before the stop: " if when == "just before the stop" else ""
    assert (code, report["trails"][0]["reasons"]) == (1, [prefix + reason])
    assert trail_logging(delivered, "payments", "eu-west-1", "default")


@pytest.mark.parametrize(
    ("operation", "prefix"),
    [("ListAccounts", ""), ("DescribeAccount", "just before the stop: ")],
)
def test_membership_that_cannot_be_read_keeps_the_trail(
    delivered, tmp_path, capsys, proxy, operation, prefix
):
    proxy.on(operation, lambda call, answer: json_error(400, "AccessDeniedException", "no"))
    code, report = cutover(delivered, tmp_path, capsys, [payments_trail(delivered)])
    payments = delivered.accounts["payments"]
    assert (code, report["trails"][0]["reasons"]) == (
        1,
        [f"{prefix}membership of account {payments} cannot be read: AccessDeniedException: no"],
    )
    assert trail_logging(delivered, "payments", "eu-west-1", "default")


def test_a_failed_stop_whose_status_cannot_be_read_is_withheld_never_stopped(
    delivered, tmp_path, capsys, proxy
):
    proxy.refuse("StopLogging", lambda call: json_error(500, "InternalFailure", "try again"))
    # The first status read of the legacy trail (is it logging?) answers; the one after the
    # failed stop does not.
    reads = []

    def unreadable_after_the_stop(call):
        if call.json().get("Name", "").endswith("trail/default"):
            reads.append(call)
            if len(reads) > 1:
                return json_error(400, "AccessDeniedException", "not now")
        return None

    proxy.refuse("GetTrailStatus", unreadable_after_the_stop)
    code, report = cutover(delivered, tmp_path, capsys, [payments_trail(delivered)])
    (decision,) = report["trails"]
    assert (code, decision["action"]) == (1, "withheld")
    assert decision["reasons"] == [
        "StopLogging failed: InternalFailure: try again; "
        "its status cannot be read: AccessDeniedException: not now"
    ]
    assert trail_logging(delivered, "payments", "eu-west-1", "default")


def test_an_unreadable_legacy_selector_is_never_taken_as_covered(
    delivered, tmp_path, capsys, proxy
):
    def unknown_field(call, answer):
        if call.json().get("TrailName", "").endswith("trail/default"):
            new = management(field("eventSource", Matches=["*"]), name="new")
            return answer.with_json(advanced(new))
        return None

    proxy.on("GetEventSelectors", unknown_field)
    code, report = cutover(delivered, tmp_path, capsys, [payments_trail(delivered)])
    assert (code, report["trails"][0]["reasons"]) == (
        1,
        [
            "the organization trail does not record: what the legacy trail's advanced selector "
            "'new': eventSource has no operator records (not read, so never proven covered)"
        ],
    )
    assert trail_logging(delivered, "payments", "eu-west-1", "default")


def test_every_reason_a_trail_is_withheld_is_listed(org, tmp_path, capsys, proxy):
    enabled_regions_only(proxy, {"us-east-1", "eu-west-1"})
    org.admin.client("cloudtrail").update_trail(Name=TRAIL_NAME, IsMultiRegionTrail=False)
    code, report = cutover(org, tmp_path, capsys, [data_trail(org)])
    (decision,) = report["trails"]
    assert code == 1
    assert decision["reasons"][0] == (
        "the organization trail does not record: every region (the organization trail is single-region)"
    )
    assert [r.split(":")[0] for r in decision["reasons"][1:]] == ["eu-west-1", "us-east-1"]
    assert decision["reason"] == "; ".join(decision["reasons"])
    assert trail_logging(org, "data", "us-east-1", "audit")


def test_regions_that_cannot_be_read_withhold_with_every_other_reason(org, tmp_path, capsys, proxy):
    org.admin.client("cloudtrail").update_trail(Name=TRAIL_NAME, IsMultiRegionTrail=False)
    proxy.on("DescribeRegions", lambda call, answer: ec2_error(403, "UnauthorizedOperation", "no"))
    code, report = cutover(org, tmp_path, capsys, [data_trail(org)])
    assert (code, report["trails"][0]["reasons"]) == (
        1,
        [
            "the organization trail does not record: every region (the organization trail is "
            "single-region)",
            "the account's regions cannot be read: UnauthorizedOperation: no",
        ],
    )
    assert trail_logging(org, "data", "us-east-1", "audit")


def test_a_region_whose_deliveries_cannot_be_listed_is_named_beside_the_others(
    org, tmp_path, capsys, proxy
):
    enabled_regions_only(proxy, {"us-east-1", "eu-west-1"})
    org.deliver_every("data", "us-east-1", NOW - DAY, NOW)
    denied = xml_error(403, "AccessDenied", "Access Denied")

    def eu_west_denied(call, answer):
        prefix = call.query.get("prefix", [""])[0]
        return denied if call.query.get("list-type") and "/eu-west-1/" in prefix else None

    proxy.add(eu_west_denied)
    code, report = cutover(org, tmp_path, capsys, [data_trail(org)])
    (decision,) = report["trails"]
    assert (code, decision["reasons"]) == (
        1,
        ["eu-west-1: deliveries cannot be read: AccessDenied: Access Denied"],
    )
    assert decision["deliveries"] > 0  # us-east-1's, counted
    assert trail_logging(org, "data", "us-east-1", "audit")


def list_regions_answer(proxy, regions_of):
    """Account Management's ListRegions (which moto lacks), answered by the proxy: the regions
    `regions_of(account ID or None)` gives, with their opt-in states."""

    def answer(call):
        document = {
            "Regions": [
                {"RegionName": name, "RegionOptStatus": state}
                for name, state in regions_of(call.json().get("AccountId")).items()
            ]
        }
        return Answer(200, [("Content-Type", "application/json")], json.dumps(document).encode())

    proxy.refuse("ListRegions", answer)


def test_regions_are_listed_organisation_wide_from_the_management_account(
    delivered, tmp_path, capsys, proxy
):
    states = {"us-east-1": "ENABLED_BY_DEFAULT", "ap-south-1": "ENABLING"}
    list_regions_answer(proxy, lambda account: states)
    code, report = cutover(delivered, tmp_path, capsys, [data_trail(delivered)])
    assert code == 1
    (decision,) = report["trails"]
    # A region being enabled may already be recorded by the legacy trail: it must be proven too.
    assert decision["regions"] == ["ap-south-1", "us-east-1"]
    assert decision["reasons"][0].startswith("ap-south-1: no log file delivered")
    asked = [c for c in proxy.calls if c.operation == "ListRegions"]
    assert [c.json().get("AccountId") for c in asked] == [delivered.accounts["data"]]
    assert set(asked[0].json()["RegionOptStatusContains"]) == {
        "ENABLED", "ENABLED_BY_DEFAULT", "ENABLING", "DISABLING",
    }  # fmt: skip
    assert not [c for c in proxy.calls if c.operation == "DescribeRegions"]
    assert trail_logging(delivered, "data", "us-east-1", "audit")


def test_where_no_list_of_regions_is_allowed_the_accounts_ec2_is_asked(
    delivered, tmp_path, capsys, proxy
):
    refused = json_error(403, "AccessDeniedException", "not allowed")
    proxy.refuse("ListRegions", lambda call: refused)
    enabled_regions_only(proxy, {"us-east-1"})
    code, report = cutover(delivered, tmp_path, capsys, [data_trail(delivered)])
    assert (code, report["trails"][0]["action"], report["trails"][0]["regions"]) == (
        0,
        "stopped",
        ["us-east-1"],
    )
    described = [c for c in proxy.calls if c.operation == "DescribeRegions"]
    assert [c.region for c in described] == ["us-east-1"]  # the legacy trail's home region


def test_without_trusted_access_an_account_lists_its_own_regions(
    delivered, tmp_path, capsys, proxy
):
    refused = json_error(403, "AccessDeniedException", "trusted access is not enabled")
    own = {"Regions": [{"RegionName": "us-east-1", "RegionOptStatus": "ENABLED_BY_DEFAULT"}]}
    answer = Answer(200, [("Content-Type", "application/json")], json.dumps(own).encode())
    proxy.refuse("ListRegions", lambda call: refused if "AccountId" in call.json() else answer)
    code, report = cutover(delivered, tmp_path, capsys, [data_trail(delivered)])
    assert (code, report["trails"][0]["regions"]) == (0, ["us-east-1"])
    listed = [c.json().get("AccountId") for c in proxy.calls if c.operation == "ListRegions"]
    assert listed == [delivered.accounts["data"], None]
    assert not [c for c in proxy.calls if c.operation == "DescribeRegions"]


def test_apply_asks_on_a_terminal_and_needs_yes_elsewhere(delivered, tmp_path, capsys, monkeypatch):
    # As `pulumi up` does: a terminal is asked, a script must say --yes.
    path = write_stack(tmp_path, delivered, [payments_trail(delivered)])
    argv = ["cutover", "--stack-config", str(path), "--log-bucket", CENTRAL_BUCKET, "--apply"]
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main([*argv, "--json"]) == 2
    assert "add --yes to confirm when not run from a terminal" in capsys.readouterr().out
    assert trail_logging(delivered, "payments", "eu-west-1", "default")

    asked = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr(command.Confirm, "ask", lambda *a, **k: asked.append(a) or False)
    assert main([*argv, "--json"]) == 0
    declined = json.loads(capsys.readouterr().out)
    (decision,) = declined["trails"]
    assert (decision["action"], decision["reason"]) == (
        "ready",
        "not confirmed: nothing was stopped",
    )
    assert declined["applied"] is False  # declined: nothing was applied
    assert asked == [("Stop 1 legacy trail?",)]
    assert trail_logging(delivered, "payments", "eu-west-1", "default")
    main(argv)
    title = capsys.readouterr().out.splitlines()[0]
    assert title.startswith("cutover (not confirmed)")

    monkeypatch.setattr(command.Confirm, "ask", lambda *a, **k: True)
    assert main([*argv, "--json"]) == 0
    confirmed = json.loads(capsys.readouterr().out)
    assert (confirmed["applied"], confirmed["trails"][0]["action"]) == (True, "stopped")
    assert not trail_logging(delivered, "payments", "eu-west-1", "default")


def test_the_text_report_ends_with_one_line_of_counts(delivered, tmp_path, capsys):
    path = write_stack(tmp_path, delivered, [payments_trail(delivered), data_trail(delivered)])
    argv = ["cutover", "--stack-config", str(path), "--log-bucket", CENTRAL_BUCKET]
    main(argv)
    report = capsys.readouterr().out.rstrip().splitlines()
    assert report[-1] == "1 ready, 1 withheld"  # the data trail: multi-region, one region delivered
    assert command.summary_line({"trails": []}) == "no legacy trails in the stack config"
    mixed = [{"action": a} for a in ("withheld", "stopped", "withheld", "already-stopped")]
    assert command.summary_line({"trails": mixed}) == "1 stopped, 1 already-stopped, 2 withheld"

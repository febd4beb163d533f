"""`orgtrail verify` checks seen passing, and each seen failing when exactly its property breaks.

These tests only read the organisation (the proxy rewrites AWS's answers), so one seeded
organisation whose every active account delivered serves the whole module.
"""

import json
import re
from datetime import timedelta

import pytest

from orgtrail.__main__ import main
from orgtrail.ops.aws import current_account
from orgtrail.ops.verify import Expected, verify
from tests.support.contract import conforming
from tests.support.moto_org import CENTRAL_BUCKET, MANAGEMENT, TRAIL_NAME
from tests.support.proxy import (
    Answer,
    failing_listings,
    json_error,
    selectors_answer,
    trail_rewrite,
    xml_error,
)
from tests.support.selector_documents import data, field, management
from tests.support.tables import table_rows
from tests.test_verify import (
    ACTIVE,
    IN_THE_EMULATOR,
    NOW,
    deliver_for,
    results,
    security_role,
)

SCP = "SERVICE_CONTROL_POLICY enabled and attached"
PROBED = "every probe denied"
RCP = "RESOURCE_CONTROL_POLICY enabled and attached"


@pytest.fixture(scope="module")
def delivered(shared_org):
    deliver_for(shared_org, ACTIVE)
    return shared_org


def test_a_complete_setup_passes_every_check_and_says_what_it_found(delivered):
    listed = delivered.admin.client("cloudtrail").describe_trails()["trailList"]
    (trail,) = [t for t in listed if t["Name"] == TRAIL_NAME]
    security = delivered.accounts["security"]
    (root,) = delivered.admin.client("organizations").list_roots()["Roots"]
    every_data_event = "read and write, every resource"
    assert [(c.area, c.name, c.ok, c.detail) for c in results(delivered).values()] == [
        ("trail", "exists", True, trail["TrailARN"]),
        ("trail", "organization trail", True, ""),
        ("trail", "multi-region", True, ""),
        ("trail", "log file validation", True, ""),
        ("trail", "KMS encryption", True, trail["KmsKeyId"]),
        ("trail", "delivers to the central bucket", True, CENTRAL_BUCKET),
        ("trail", "global service events", True, "IAM, STS, CloudFront events recorded"),
        ("trail", "logging without delivery errors", True, "logging"),
        ("trail", "CloudWatch Logs delivery", True, trail["CloudWatchLogsLogGroupArn"]),
        ("trail", "Insights", True, "ApiCallRateInsight, ApiErrorRateInsight"),
        ("trail", "event selectors read", True, "3 read"),
        ("trail", "management events, read and write", True, "read and write"),
        ("trail", "S3 object data events", True, every_data_event),
        ("trail", "Lambda data events", True, every_data_event),
        ("bucket", "Object Lock with default retention", True, "GOVERNANCE 365"),
        ("bucket", "versioning", True, "Enabled"),
        ("bucket", "Block Public Access", True, "all four on"),
        ("bucket", "SSE-KMS default encryption", True, "aws:kms"),
        ("bucket", "policy lets this trail write", True, "only this trail may write"),
        (
            "keys",
            "trail key is a customer managed key of the security account",
            True,
            f"{delivered.key_arn} (expected: the security account {security})",
        ),
        (
            "keys",
            "bucket key is a customer managed key of the security account",
            True,
            f"{delivered.key_arn} (expected: the security account {security})",
        ),
        (
            "guardrails",
            "SERVICE_CONTROL_POLICY enabled and attached",
            True,
            f"org-trail-deny-leave-organization -> {root['Id']}; "
            f"org-trail-protect-log-pipeline -> {security}",
        ),
        ("guardrails", "org-trail-deny-leave-organization denies what it must", True, PROBED),
        ("guardrails", "org-trail-protect-log-pipeline denies what it must", True, PROBED),
        (
            "guardrails",
            "RESOURCE_CONTROL_POLICY enabled and attached",
            True,
            f"org-trail-log-data-perimeter -> {security}",
        ),
        ("guardrails", "org-trail-log-data-perimeter denies what it must", True, PROBED),
        *alert_path(delivered),
        ("analysis", "Athena sees every active account", True, "6 active accounts projected"),
        (
            "delivery",
            "every active account delivered in the last 24 h",
            True,
            "6 active accounts delivered",
        ),
    ]


def alert_path(org) -> list[tuple]:
    """The alert path's checks on the seeded organisation, all passing, in their order."""
    topic = f"arn:aws:sns:us-east-1:{MANAGEMENT}:org-trail-cis-alarms"
    function = f"arn:aws:lambda:us-east-1:{MANAGEMENT}:function:org-trail-insights-notifier"
    role = f"arn:aws:iam::{MANAGEMENT}:role/org-trail-insights-notifier"
    return [
        (
            "alerts",
            "the alarm topic is encrypted with a key CloudWatch may use",
            True,
            org.alarm_key_arn,
        ),
        (
            "alerts",
            "this account's alarms may publish to the alarm topic",
            True,
            "this account's alarms may publish",
        ),
        (
            "alerts",
            "someone has confirmed a subscription to the alarm topic",
            True,
            f"sqs:arn:aws:sqs:us-east-1:{MANAGEMENT}:on-call",
        ),
        (
            "alerts",
            "an alarm pages when the trail's log group goes silent",
            True,
            "org-trail-silent-trail: below 1 in 3600 s",
        ),
        ("alerts", "Insights events go to the notifier", True, f"org-trail-insights -> {function}"),
        (
            "alerts",
            "the Insights notifier is active and publishes to the alarm topic",
            True,
            f"{function} -> {topic}",
        ),
        (
            "alerts",
            "CloudWatch Logs may invoke the notifier for the trail's log group",
            True,
            "logs.amazonaws.com from /aws/cloudtrail/org-trail: Allow",
        ),
        (
            "alerts",
            "the notifier's role may publish to the topic with its key",
            True,
            role,
        ),
        ("alerts", "the notifier's failures go to the alarm topic", True, f"on failure: {topic}"),
    ]


def test_a_region_holding_only_a_copy_of_the_trail_names_its_home(delivered):
    # By name, DescribeTrails finds a trail in its home region only; eu-west-1 holds a shadow copy.
    exists = results(delivered, region="eu-west-1")["exists"]
    assert (exists.ok, exists.detail) == (
        False,
        f"no trail {TRAIL_NAME} in eu-west-1; its home region is us-east-1: run with --region us-east-1",
    )


def test_an_account_whose_listing_failed_is_not_verified(delivered, proxy):

    failing_listings(
        proxy, delivered.accounts["payments"], xml_error(403, "AccessDenied", "Denied")
    )
    checks = results(delivered)
    summary = checks["every active account delivered in the last 24 h"]
    payments = delivered.accounts["payments"]
    assert (summary.ok, summary.detail) == (False, f"not verified: {payments} (payments)")
    listing = checks[f"account {payments}"]
    assert (listing.area, listing.ok, listing.detail) == ("delivery", False, "AccessDenied: Denied")


def test_a_trail_without_global_service_events_fails_that_check(delivered, proxy):
    proxy.on(*trail_rewrite(lambda trail: trail.update(IncludeGlobalServiceEvents=False)))
    failed = {name: check.detail for name, check in results(delivered).items() if not check.ok}
    assert failed == {"global service events": "IncludeGlobalServiceEvents is off"}


def test_cloudwatch_delivery_errors_fail_that_check(delivered, proxy):
    def failing(call, answer):
        return answer.with_json(
            {**answer.json(), "LatestCloudWatchLogsDeliveryError": "AccessDeniedException"}
        )

    proxy.on("GetTrailStatus", failing)
    check = results(delivered)["CloudWatch Logs delivery"]
    assert (check.ok, check.detail) == (False, "AccessDeniedException")


def s3_rewrite(subresource, pattern, replacement):
    def rewrite(call, answer):
        if subresource not in call.query:
            return None
        return Answer(answer.status, answer.headers, re.sub(pattern, replacement, answer.body))

    return rewrite


@pytest.mark.parametrize(
    ("check", "detail", "operation", "rewrite"),
    [
        ("organization trail", "", *trail_rewrite(lambda t: t.update(IsOrganizationTrail=False))),
        ("multi-region", "", *trail_rewrite(lambda t: t.update(IsMultiRegionTrail=False))),
        ("log file validation", "", *trail_rewrite(lambda t: t.pop("LogFileValidationEnabled"))),
        ("KMS encryption", "no KmsKeyId", *trail_rewrite(lambda t: t.pop("KmsKeyId", None))),
        (
            "delivers to the central bucket",
            "somewhere-else",
            *trail_rewrite(lambda t: t.update(S3BucketName="somewhere-else")),
        ),
        (
            "logging without delivery errors",
            "NoSuchBucket",
            "GetTrailStatus",
            lambda call, answer: answer.with_json(
                {**answer.json(), "LatestDeliveryError": "NoSuchBucket"}
            ),
        ),
        (
            "Object Lock with default retention",
            "no default retention",
            None,
            s3_rewrite("object-lock", rb"<Rule>.*</Rule>", b""),
        ),
        ("versioning", "Suspended", None, s3_rewrite("versioning", b"Enabled", b"Suspended")),
        (
            "versioning",
            "never enabled",
            None,
            s3_rewrite("versioning", rb"<Status>Enabled</Status>", b""),
        ),
        (
            "Block Public Access",
            "off: BlockPublicPolicy, RestrictPublicBuckets",
            None,
            s3_rewrite(
                "publicAccessBlock",
                rb"<(BlockPublicPolicy|RestrictPublicBuckets)>true",
                rb"<\1>false",
            ),
        ),
        (
            "management events, read and write",
            "not recorded: read and write management events",
            "GetEventSelectors",
            lambda call, answer: answer.with_json(
                {
                    **answer.json(),
                    "AdvancedEventSelectors": [
                        s
                        for s in answer.json()["AdvancedEventSelectors"]
                        if "Management" not in json.dumps(s)
                    ],
                }
            ),
        ),
        (
            "SSE-KMS default encryption",
            "AES256",
            None,
            s3_rewrite("encryption", b"aws:kms", b"AES256"),
        ),
    ],
)
def test_each_check_fails_when_exactly_its_property_breaks(
    delivered, proxy, check, detail, operation, rewrite
):
    if operation:
        proxy.on(operation, rewrite)
    else:
        proxy.add(rewrite)
    failed = {name: result.detail for name, result in results(delivered).items() if not result.ok}
    assert failed == {check: detail}


def test_data_events_of_one_kind_of_access_only_fail_and_say_which(delivered, proxy):
    def read_only_lambda(call, answer):
        document = answer.json()
        for found in document.get("AdvancedEventSelectors", []):
            fields = found["FieldSelectors"]
            if any("AWS::Lambda::Function" in f.get("Equals", []) for f in fields):
                fields.append({"Field": "readOnly", "Equals": ["true"]})
        return answer.with_json(document)

    proxy.on("GetEventSelectors", read_only_lambda)
    checks = results(delivered)
    assert [name for name, check in checks.items() if not check.ok] == ["Lambda data events"]
    assert checks["Lambda data events"].detail == (
        "not recorded: write AWS::Lambda::Function data events"
    )


def test_a_read_that_fails_is_a_failed_check_named_with_the_error(delivered, proxy):
    denied = xml_error(403, "AccessDenied", "Access Denied")
    proxy.add(lambda call, answer: denied if "versioning" in call.query else None)
    checks = results(delivered)
    failed = [(c.area, c.name, c.detail) for c in checks.values() if not c.ok]
    assert failed == [("bucket", "versioning", "AccessDenied: Access Denied")]


def test_insights_and_data_events_say_exactly_what_is_missing(delivered, proxy):
    proxy.on("GetInsightSelectors", lambda call, answer: answer.with_json({}))

    def two_buckets_only(call, answer):
        document = answer.json()
        for found in document.get("AdvancedEventSelectors", []):
            fields = found["FieldSelectors"]
            if any("AWS::S3::Object" in f.get("Equals", []) for f in fields):
                fields[:] = [f for f in fields if f["Field"] != "resources.ARN"]
                starts = ["arn:aws:s3:::one/", "arn:aws:s3:::two/"]
                fields.append({"Field": "resources.ARN", "StartsWith": starts})
        return answer.with_json(document)

    proxy.on("GetEventSelectors", two_buckets_only)
    checks = results(delivered)
    assert checks["Insights"].detail == "missing ApiCallRateInsight, ApiErrorRateInsight"
    assert checks["S3 object data events"].detail == (
        "not recorded: read and write AWS::S3::Object data events "
        "(resources.ARN other than arn:aws:s3:::one/…, arn:aws:s3:::two/…)"
    )


def test_a_retention_in_years_is_shown_in_years(delivered, proxy):
    proxy.add(s3_rewrite("object-lock", rb"<Years>[^<]*</Years>", b""))
    proxy.add(s3_rewrite("object-lock", rb"<Days>365</Days>", b"<Years>1</Years>"))
    lock = results(delivered)["Object Lock with default retention"]
    assert (lock.ok, lock.detail) == (True, "GOVERNANCE 1")


def test_dual_layer_kms_encryption_counts_as_sse_kms(delivered, proxy):
    proxy.add(s3_rewrite("encryption", rb"aws:kms<", b"aws:kms:dsse<"))
    encryption = results(delivered)["SSE-KMS default encryption"]
    assert (encryption.ok, encryption.detail) == (True, "aws:kms:dsse")


def test_an_encryption_rule_without_a_default_algorithm_is_not_sse_kms(delivered, proxy):
    # A rule may carry only BucketKeyEnabled (S3 API reference, ServerSideEncryptionRule).
    proxy.add(
        s3_rewrite(
            "encryption",
            rb"<ApplyServerSideEncryptionByDefault>.*</ApplyServerSideEncryptionByDefault>",
            b"",
        )
    )
    encryption = results(delivered)["SSE-KMS default encryption"]
    assert (encryption.ok, encryption.detail) == (False, "no default encryption algorithm")


def bucket_policy_rewrite(change):
    """A rewrite of the bucket policy S3 answers with: `change` edits its statements."""

    def rewrite(call, answer):
        if "policy" not in call.query:
            return None
        document = json.loads(answer.body)
        change(document["Statement"])
        return Answer(answer.status, answer.headers, json.dumps(document).encode())

    return rewrite


def write_grants(statements):
    return [s for s in statements if s["Effect"] == "Allow" and "s3:PutObject" in str(s["Action"])]


def test_a_write_grant_that_also_requires_tls_lets_the_trail_write(delivered, proxy):
    def tls_required(statements):
        for statement in write_grants(statements):
            condition = statement.setdefault("Condition", {})
            condition.setdefault("Bool", {})["aws:SecureTransport"] = "true"

    proxy.add(bucket_policy_rewrite(tls_required))
    check = results(delivered)["policy lets this trail write"]
    assert (check.ok, check.detail) == (True, "only this trail may write")


def test_a_write_grant_missing_for_the_trail_fails_the_policy_check(delivered, proxy):
    def without_write_grants(statements):
        for statement in write_grants(statements):
            statements.remove(statement)

    proxy.add(bucket_policy_rewrite(without_write_grants))
    checks = results(delivered)
    arn = checks["exists"].detail
    check = checks["policy lets this trail write"]
    assert (check.ok, check.detail) == (False, f"CloudTrail may not write for {arn}")


def test_a_write_grant_for_the_trails_own_account_only_fails_the_policy_check(delivered, proxy):
    """Written as for a trail of one account: CloudTrail could not write the members' logs, nor
    those of accounts that join later."""
    arn = results(delivered)["exists"].detail
    own = arn.split(":")[4]

    def own_account_only(statements):
        for statement in write_grants(statements):
            statement["Resource"] = re.sub(r"/\*$", f"/{own}/*", statement["Resource"])

    proxy.add(bucket_policy_rewrite(own_account_only))
    check = results(delivered)["policy lets this trail write"]
    assert (check.ok, check.detail) == (
        False,
        f"CloudTrail may write only {own}'s logs, not every account's "
        f"(AWSLogs/{delivered.organization_id}/*)",
    )


DELIVERED = "every active account delivered in the last 24 h"
# Every active account of `delivered` delivered 3 h before NOW: 21 h 30 min later its newest
# delivery is 24 h 30 min old.
A_DAY_AND_A_HALF_HOUR_LATER = NOW + timedelta(hours=21, minutes=30)


def active_accounts(org) -> list[tuple[str, str]]:
    """(ID, name) of each active account, as Organizations lists them, in ID order."""
    ids = {org.accounts[name] for name in ACTIVE}
    listed = org.admin.client("organizations").list_accounts()["Accounts"]
    return sorted((a["Id"], a["Name"]) for a in listed if a["Id"] in ids)


def test_a_delivery_older_than_a_day_does_not_count_and_each_silent_account_is_named(delivered):
    check = results(delivered, now=A_DAY_AND_A_HALF_HOUR_LATER)[DELIVERED]
    silent = [f"{id_} ({name})" for id_, name in active_accounts(delivered)]
    assert (check.ok, check.detail) == (False, f"silent: {', '.join(silent)}")


def test_accounts_not_read_do_not_stop_the_others_being_checked(delivered, proxy):
    first, second, *rest = active_accounts(delivered)
    for id_, _ in (first, second):
        failing_listings(proxy, id_, xml_error(403, "AccessDenied", "Denied"))
    check = results(delivered, now=A_DAY_AND_A_HALF_HOUR_LATER)[DELIVERED]
    silent = ", ".join(f"{id_} ({name})" for id_, name in rest)
    unread = ", ".join(f"{id_} ({name})" for id_, name in (first, second))
    assert (check.ok, check.detail) == (False, f"silent: {silent}; not verified: {unread}")


def test_an_unreadable_organization_root_fails_the_guardrail_check(delivered, proxy):
    proxy.on("ListRoots", lambda call, answer: json_error(400, "AccessDeniedException", "no"))
    failed = [(c.area, c.name, c.ok, c.detail) for c in results(delivered).values() if not c.ok]
    assert failed == [("guardrails", "policy types", False, "AccessDeniedException: no")]


def test_a_root_listed_without_policy_types_has_none_enabled(delivered, proxy):
    def without_policy_types(call, answer):
        document = answer.json()
        for root in document["Roots"]:
            root.pop("PolicyTypes", None)
        return answer.with_json(document)

    proxy.on("ListRoots", without_policy_types)
    checks = results(delivered)
    scp = checks[SCP]
    assert (scp.ok, scp.detail.partition(" --root-id")[0]) == (
        False,
        "not enabled: aws organizations enable-policy-type",
    )


def guardrail_checks(org) -> list[tuple[str, bool, str]]:
    """Each guardrail type's check (service control policies first, then resource control
    policies); the content of each policy is checked apart."""
    return [
        (c.name, c.ok, c.detail)
        for c in results(org).values()
        if c.area == "guardrails" and c.name.endswith("enabled and attached")
    ]


def test_a_type_not_enabled_does_not_stop_the_next_being_checked(delivered, proxy):
    def scp_disabled(call, answer):
        document = answer.json()
        for root in document["Roots"]:
            types = root["PolicyTypes"]
            types[:] = [t for t in types if t["Type"] != "SERVICE_CONTROL_POLICY"]
        return answer.with_json(document)

    proxy.on("ListRoots", scp_disabled)
    scp, rcp = guardrail_checks(delivered)
    assert (scp[:2], scp[2].partition(" --root-id")[0]) == (
        (SCP, False),
        "not enabled: aws organizations enable-policy-type",
    )
    assert rcp[:2] == (RCP, True)


def test_a_policy_listing_that_fails_fails_its_type_only(delivered, proxy):
    def scps_denied(call, answer):
        if call.json().get("Filter") != "SERVICE_CONTROL_POLICY":
            return None
        return json_error(400, "AccessDeniedException", "no")

    proxy.on("ListPolicies", scps_denied)
    scp, rcp = guardrail_checks(delivered)
    assert scp == (SCP, False, "AccessDeniedException: no")
    assert rcp[:2] == (RCP, True)


def test_a_type_without_an_org_trail_policy_fails(delivered, proxy):
    def only_others(call, answer):
        document = answer.json()
        for policy in document["Policies"]:
            policy["Name"] = "someone-else-" + policy["Name"]
        return answer.with_json(document)

    proxy.on("ListPolicies", only_others)
    assert [check[1:] for check in guardrail_checks(delivered)] == [
        (False, "no org-trail policy of this type")
    ] * 2


def test_a_policy_attached_twice_names_both_targets(delivered, proxy):
    def one_more_target(call, answer):
        document = answer.json()
        document["Targets"] = [*document["Targets"], {**document["Targets"][0], "TargetId": "ou-x"}]
        return answer.with_json(document)

    proxy.on("ListTargetsForPolicy", one_more_target)
    _, rcp = guardrail_checks(delivered)
    security = delivered.accounts["security"]
    assert rcp == (RCP, True, f"org-trail-log-data-perimeter -> {security}, ou-x")


def test_policies_attached_nowhere_are_each_named(delivered, proxy):
    proxy.on("ListTargetsForPolicy", lambda call, answer: answer.with_json({"Targets": []}))
    scp, _ = guardrail_checks(delivered)
    assert scp == (
        SCP,
        False,
        "not attached: org-trail-deny-leave-organization, org-trail-protect-log-pipeline",
    )


def test_an_unreadable_organization_stops_before_the_bucket(delivered, proxy):
    proxy.on(
        "DescribeOrganization",
        lambda call, answer: json_error(400, "AccessDeniedException", "no"),
    )
    checks = results(delivered).values()
    assert {c.area for c in checks} == {"trail", "organization"}
    assert [(c.area, c.name, c.ok, c.detail) for c in checks if not c.ok] == [
        ("organization", "readable", False, "AccessDeniedException: no")
    ]


def test_an_unlistable_organization_is_a_failed_delivery_check(delivered, proxy):
    proxy.on("ListAccounts", lambda call, answer: json_error(400, "AccessDeniedException", "no"))
    checks = results(delivered)
    failed = [(c.area, c.name, c.detail) for c in checks.values() if not c.ok]
    assert failed == [("delivery", "accounts", "AccessDeniedException: no")]


DENIED = "AccessDeniedException: not for you"


@pytest.mark.parametrize(
    ("operation", "failed"),
    [
        ("DescribeTrails", {"exists": DENIED}),
        (
            "GetTrailStatus",
            {
                "log file validation": f"digest delivery not known: {DENIED}",
                "logging without delivery errors": DENIED,
                "CloudWatch Logs delivery": DENIED,
            },
        ),
        ("GetEventSelectors", {"event selectors": DENIED}),
    ],
)
def test_a_trail_read_that_fails_is_a_failed_check_with_the_error(
    delivered, proxy, operation, failed
):
    proxy.on(
        operation, lambda call, answer: json_error(400, "AccessDeniedException", "not for you")
    )
    checks = results(delivered)
    assert {c.name: c.detail for c in checks.values() if c.area == "trail" and not c.ok} == failed


def test_the_trail_may_be_named_by_its_arn_in_its_home_region(delivered):
    arn = results(delivered)["exists"].detail
    assert [name for name, check in results(delivered, trail=arn).items() if not check.ok] == []


# --- the command ---------------------------------------------------------------------------

VERIFY = ["verify", "--log-bucket", CENTRAL_BUCKET, "--trail", TRAIL_NAME]


@pytest.fixture
def wide(monkeypatch):
    """A terminal wide enough for rich to print every line unwrapped."""
    monkeypatch.setenv("COLUMNS", "250")


def test_cli_prints_a_table_of_every_check_with_its_result(delivered, proxy, capsys, wide):
    proxy.add(s3_rewrite("versioning", b"Enabled", b"Suspended"))
    # No --region: the session's (AWS_DEFAULT_REGION); no --stack-config: every guardrail type.
    assert main([*VERIFY, "--log-bucket-role-arn", security_role(delivered)]) == 1
    output = capsys.readouterr().out
    assert f"verify {TRAIL_NAME} -> s3://{CENTRAL_BUCKET}" in output
    rows = {row[1]: row for row in table_rows(output)}  # by the check's name
    assert rows["check"] == ["id", "check", "result", "detail"]
    assert rows["versioning"] == ["bucket.versioning", "versioning", "FAIL", "Suspended"]
    assert rows["S3_POLICY enabled and attached"][::2] == ["guardrails.attached", "FAIL"]
    assert rows["Block Public Access"] == [
        "bucket.block-public-access",
        "Block Public Access",
        "PASS",
        "all four on",
    ]
    assert [name for name, row in rows.items() if row[2] == "FAIL"] == [
        "versioning",
        "S3_POLICY enabled and attached",
    ]


def test_cli_json_and_the_regions_searched_for_deliveries(delivered, capsys):
    # Deliveries were made in us-east-1 only: naming just eu-west-1 finds none.
    options = ["--region", "us-east-1", "--json"]
    assert main([*VERIFY, *options, "--regions", "eu-west-1"]) == 1
    document = conforming("verify", capsys.readouterr().out)
    checks = document["checks"]
    failed = sum(not check["ok"] for check in checks)
    assert failed and document["summary"] == {"passed": len(checks) - failed, "failed": failed}
    assert checks[-1]["detail"].startswith("silent: ")
    main([*VERIFY, *options, "--regions", " eu-west-1 , us-east-1,,"])
    checks = conforming("verify", capsys.readouterr().out)["checks"]
    assert checks[-1] == {
        "id": "delivery.every-account",
        "area": "delivery",
        "subject": "",
        "name": "every active account delivered in the last 24 h",
        "result": "PASS",
        "ok": True,
        "detail": "6 active accounts delivered",
    }


def test_cli_reads_the_central_bucket_with_the_role_it_is_given(delivered, proxy, capsys):
    role = f"arn:aws:iam::{delivered.accounts['security']}:role/OrganizationAccountAccessRole"
    main([*VERIFY, "--json", "--log-bucket-role-arn", role])
    checks = {check["name"]: check for check in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["versioning"]["ok"] and checks["policy lets this trail write"]["ok"]
    own_key = delivered.environment["AWS_ACCESS_KEY_ID"]
    bucket_reads = [call for call in proxy.calls if call.path.startswith(f"/{CENTRAL_BUCKET}")]
    assert bucket_reads
    assert not [call for call in bucket_reads if f"Credential={own_key}/" in call.authorization]


def test_cli_without_region_verifies_in_the_sessions_region(delivered, capsys):
    assert main([*VERIFY[:-1], "no-such-trail", "--json"]) == 1
    checks = conforming("verify", capsys.readouterr().out)["checks"]
    assert checks[0]["detail"] == "no trail no-such-trail in us-east-1"


def test_the_trail_may_be_named_by_its_arn_and_is_found_from_any_region(delivered, proxy):
    arn = results(delivered)["exists"].detail
    exists = results(delivered, trail=arn, region="eu-west-1")["exists"]
    assert (exists.ok, exists.detail) == (
        False,
        f"no trail {arn} in eu-west-1; its home region is us-east-1: run with --region us-east-1",
    )

    def shadows_unreadable(call, answer):
        if call.json().get("trailNameList"):
            return None
        return json_error(400, "AccessDeniedException", "no")

    proxy.on("DescribeTrails", shadows_unreadable)
    exists = results(delivered, region="eu-west-1")["exists"]
    assert (exists.ok, exists.detail) == (False, f"no trail {TRAIL_NAME} in eu-west-1")


# --- what issue #19 found verify passing -------------------------------------------------


def status_rewrite(change):
    def rewrite(call, answer):
        if TRAIL_NAME in call.json().get("Name", ""):
            return answer.with_json({**answer.json(), **change})
        return None

    return rewrite


def test_a_digest_delivery_error_fails_log_file_validation(delivered, proxy):
    proxy.on("GetTrailStatus", status_rewrite({"LatestDigestDeliveryError": "AccessDenied"}))
    failed = {name: c.detail for name, c in results(delivered).items() if not c.ok}
    assert failed == {"log file validation": "digest files not delivered: AccessDenied"}


MANAGEMENT_ALL = management()
S3_ALL = data("AWS::S3::Object", name="s3")
LAMBDA_ALL = data("AWS::Lambda::Function", name="lambda")
FUNCTION = "arn:aws:lambda:us-east-1:111111111111:function:payments"


@pytest.mark.parametrize(
    ("selectors", "failed"),
    [
        (
            [MANAGEMENT_ALL, data("AWS::S3::Object", field("eventName", Equals=["GetObject"])), LAMBDA_ALL],
            {"S3 object data events": "not recorded: read and write AWS::S3::Object data events (eventName other than GetObject)"},
        ),
        (
            [MANAGEMENT_ALL, S3_ALL, data("AWS::Lambda::Function", field("resources.ARN", NotEquals=[FUNCTION]))],
            {"Lambda data events": f"not recorded: read and write AWS::Lambda::Function data events on {FUNCTION}"},
        ),
        (
            [management(field("eventSource", NotEquals=["kms.amazonaws.com"])), S3_ALL, LAMBDA_ALL],
            {"management events, read and write": "not recorded: read and write management events from kms.amazonaws.com"},
        ),
        (
            [MANAGEMENT_ALL, S3_ALL, LAMBDA_ALL, management(field("eventSource", StartsWith=["kms"]), name="odd")],
            {"event selectors read": "not read, so never counted as recording: advanced selector 'odd': eventSource StartsWith is not a form CloudTrail takes for Management selectors (only NotEquals)"},
        ),
    ],
    ids=["S3 by eventName", "Lambda NotEquals", "no KMS events", "not read"],
)  # fmt: skip
def test_selectors_that_narrow_what_is_recorded_fail_their_check(
    delivered, proxy, selectors, failed
):
    selectors_answer(proxy, TRAIL_NAME, {"AdvancedEventSelectors": selectors})
    assert {name: c.detail for name, c in results(delivered).items() if not c.ok} == failed


def test_basic_selectors_excluding_kms_fail_the_management_events_check(delivered, proxy):
    basic = {"ReadWriteType": "All", "ExcludeManagementEventSources": ["kms.amazonaws.com"]}
    resources = [
        {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]},
        {"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda"]},
    ]
    selectors_answer(proxy, TRAIL_NAME, {"EventSelectors": [{**basic, "DataResources": resources}]})
    assert {name: c.detail for name, c in results(delivered).items() if not c.ok} == {
        "management events, read and write": (
            "not recorded: read and write management events from kms.amazonaws.com"
        )
    }


def test_network_activity_the_stack_configures_must_be_recorded(delivered, proxy):
    expected = Expected(
        guardrails=IN_THE_EMULATOR.guardrails, network_sources=("ec2.amazonaws.com",)
    )
    failed = {
        name: c.detail for name, c in results(delivered, expected=expected).items() if not c.ok
    }
    assert failed == {
        "network activity events of ec2.amazonaws.com": (
            "not recorded: network activity events from ec2.amazonaws.com"
        )
    }


def describe_key_rewrite(change):
    """DescribeKey of the security account's keys answered changed (the alarm topic's key,
    the management account's, is left as it is)."""

    def rewrite(call, answer):
        document = answer.json()
        if document["KeyMetadata"]["AWSAccountId"] == MANAGEMENT:
            return None
        document["KeyMetadata"] = {**document["KeyMetadata"], **change(document["KeyMetadata"])}
        return answer.with_json(document)

    return "DescribeKey", rewrite


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda key: {"Arn": key["Arn"].replace(key["AWSAccountId"], "999999999999")},
            "owned by 999999999999",
        ),
        (lambda key: {"KeyManager": "AWS"}, "managed by AWS, not the customer"),
        (lambda key: {"KeyState": "PendingDeletion"}, "PendingDeletion"),
    ],
    ids=["an unrelated account's key", "an AWS managed key", "a key pending deletion"],
)
def test_the_keys_must_be_the_security_accounts_own(delivered, proxy, change, problem):
    proxy.on(*describe_key_rewrite(change))
    failed = {name: c.detail for name, c in results(delivered).items() if not c.ok}
    assert set(failed) == {
        "trail key is a customer managed key of the security account",
        "bucket key is a customer managed key of the security account",
    }
    security = delivered.accounts["security"]
    assert all(
        f"; {problem} (expected: the security account {security})" in detail
        for detail in failed.values()
    )


def test_default_encryption_with_the_aws_managed_key_fails(delivered, proxy):
    proxy.add(s3_rewrite("encryption", rb"<KMSMasterKeyID>[^<]*</KMSMasterKeyID>", b""))
    failed = {name: c.detail for name, c in results(delivered).items() if not c.ok}
    assert failed == {
        "bucket key is a customer managed key of the security account": (
            "no KMSMasterKeyID: the AWS managed key aws/s3"
        )
    }


def test_without_the_security_account_a_key_of_the_organisation_is_expected(delivered, proxy):
    proxy.on(
        *describe_key_rewrite(
            lambda key: {"Arn": key["Arn"].replace(key["AWSAccountId"], "999999999999")}
        )
    )
    management = current_account()
    reader = management.assume_role_arn(security_role(delivered))
    checks = verify(
        management, CENTRAL_BUCKET, TRAIL_NAME, "us-east-1", None, reader, NOW, IN_THE_EMULATOR
    )
    keys = [c for c in checks if c.area == "keys"]
    assert [c.ok for c in keys] == [
        False,
        False,
    ]  # the bucket's reader's account is the expected one
    anyone = Expected(guardrails=IN_THE_EMULATOR.guardrails, security_account=None)
    checks = verify(management, CENTRAL_BUCKET, TRAIL_NAME, "us-east-1", None, reader, NOW, anyone)
    assert "owned by 999999999999" in next(c.detail for c in checks if c.area == "keys")


def policy_content_rewrite(name, content):
    def rewrite(call, answer):
        document = answer.json()
        if document["Policy"]["PolicySummary"]["Name"] == name:
            document["Policy"]["Content"] = json.dumps(content)
            return answer.with_json(document)
        return None

    return "DescribePolicy", rewrite


ALLOW_EVERYTHING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


@pytest.mark.parametrize(
    ("guardrail", "denied_no_more"),
    [
        ("org-trail-deny-leave-organization", "does not deny organizations:LeaveOrganization on *"),
        ("org-trail-protect-log-pipeline", "does not deny s3:DeleteBucket, s3:DeleteBucketPolicy"),
        ("org-trail-log-data-perimeter", f"does not deny s3:GetObject on arn:aws:s3:::{CENTRAL_BUCKET}/AWSLogs/x"),
    ],
)  # fmt: skip
def test_a_guardrail_whose_content_allows_everything_fails_by_what_it_no_longer_denies(
    delivered, proxy, guardrail, denied_no_more
):
    proxy.on(*policy_content_rewrite(guardrail, ALLOW_EVERYTHING))
    failed = {name: c.detail for name, c in results(delivered).items() if not c.ok}
    assert list(failed) == [f"{guardrail} denies what it must"]
    assert failed[f"{guardrail} denies what it must"].startswith(denied_no_more)


def test_a_guardrail_content_that_is_not_a_policy_fails_with_the_reason(delivered, proxy):
    proxy.on(*policy_content_rewrite("org-trail-deny-leave-organization", {"Statement": "x"}))
    check = results(delivered)["org-trail-deny-leave-organization denies what it must"]
    assert not check.ok
    assert check.detail


def test_a_guardrail_of_another_name_does_not_stand_in_for_a_missing_one(delivered, proxy):
    def renamed(call, answer):
        document = answer.json()
        for policy in document["Policies"]:
            if policy["Name"] == "org-trail-deny-leave-organization":
                policy["Name"] = "org-trail-something-else"
        return answer.with_json(document)

    proxy.on("ListPolicies", renamed)
    check = results(delivered)["org-trail-deny-leave-organization denies what it must"]
    assert (check.ok, check.detail) == (False, "no policy named org-trail-deny-leave-organization")


@pytest.mark.parametrize("status", ["PENDING_ENABLE", "PENDING_DISABLE"])
def test_a_policy_type_not_yet_or_no_longer_enabled_is_not_enabled(delivered, proxy, status):
    """PolicyTypeSummary.Status is ENABLED, PENDING_ENABLE or PENDING_DISABLE: only the first
    means the guardrails of that type apply."""

    def pending(call, answer):
        document = answer.json()
        for root in document["Roots"]:
            for policy_type in root["PolicyTypes"]:
                if policy_type["Type"] == "SERVICE_CONTROL_POLICY":
                    policy_type["Status"] = status
        return answer.with_json(document)

    proxy.on("ListRoots", pending)
    scp, rcp = guardrail_checks(delivered)
    assert scp[:2] == (SCP, False)
    assert scp[2].startswith(f"{status}, not ENABLED: aws organizations enable-policy-type")
    assert rcp[:2] == (RCP, True)

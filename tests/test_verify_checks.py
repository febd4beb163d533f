"""`orgtrail verify` checks seen passing, and each seen failing when exactly its property breaks.

These tests only read the organisation (the proxy rewrites AWS's answers), so one seeded
organisation whose every active account delivered serves the whole module.
"""

import pytest

from tests.support.proxy import Answer, failing_listings, xml_error
from tests.test_verify import ACTIVE, deliver_for, results


@pytest.fixture(scope="module")
def delivered(shared_org):
    deliver_for(shared_org, ACTIVE)
    return shared_org


def test_a_complete_setup_passes_every_check(delivered):
    checks = results(delivered)
    assert [name for name, check in checks.items() if not check.ok] == []
    assert len(checks) == 21


def test_an_account_whose_listing_failed_is_not_verified(delivered, proxy):

    failing_listings(
        proxy, delivered.accounts["payments"], xml_error(403, "AccessDenied", "Denied")
    )
    checks = results(delivered)
    summary = checks["every active account delivered in the last 24 h"]
    assert not summary.ok
    assert f"not verified: {delivered.accounts['payments']}" in summary.detail
    assert not checks[f"account {delivered.accounts['payments']}"].ok


def test_a_trail_without_global_service_events_fails_that_check(delivered, proxy):
    def without_global_events(call, answer):
        document = answer.json()
        for trail in document.get("trailList", []):
            trail["IncludeGlobalServiceEvents"] = False
        return answer.with_json(document)

    proxy.on("DescribeTrails", without_global_events)
    failed = [name for name, check in results(delivered).items() if not check.ok]
    assert failed == ["global service events"]


def test_cloudwatch_delivery_errors_fail_that_check(delivered, proxy):
    def failing(call, answer):
        return answer.with_json(
            {**answer.json(), "LatestCloudWatchLogsDeliveryError": "AccessDeniedException"}
        )

    proxy.on("GetTrailStatus", failing)
    check = results(delivered)["CloudWatch Logs delivery"]
    assert (check.ok, check.detail) == (False, "AccessDeniedException")


def trail_rewrite(change):
    def rewrite(call, answer):
        document = answer.json()
        for trail in document.get("trailList", []):
            change(trail)
        return answer.with_json(document)

    return "DescribeTrails", rewrite


def s3_rewrite(subresource, old, new):
    def rewrite(call, answer):
        if subresource not in call.query:
            return None
        return Answer(answer.status, answer.headers, answer.body.replace(old, new))

    return rewrite


@pytest.mark.parametrize(
    ("check", "operation", "rewrite"),
    [
        ("organization trail", *trail_rewrite(lambda t: t.update(IsOrganizationTrail=False))),
        ("multi-region", *trail_rewrite(lambda t: t.update(IsMultiRegionTrail=False))),
        ("KMS encryption", *trail_rewrite(lambda t: t.pop("KmsKeyId", None))),
        (
            "delivers to the central bucket",
            *trail_rewrite(lambda t: t.update(S3BucketName="somewhere-else")),
        ),
        (
            "logging without delivery errors",
            "GetTrailStatus",
            lambda call, answer: answer.with_json(
                {**answer.json(), "LatestDeliveryError": "NoSuchBucket"}
            ),
        ),
        (
            "Object Lock with default retention",
            None,
            s3_rewrite("object-lock", b"<DefaultRetention>", b"<Nothing>"),
        ),
        ("versioning", None, s3_rewrite("versioning", b"Enabled", b"Suspended")),
        ("SSE-KMS default encryption", None, s3_rewrite("encryption", b"aws:kms", b"AES256")),
    ],
)
def test_each_check_fails_when_exactly_its_property_breaks(
    delivered, proxy, check, operation, rewrite
):
    if operation:
        proxy.on(operation, rewrite)
    else:
        proxy.add(rewrite)
    failed = [name for name, result in results(delivered).items() if not result.ok]
    assert failed == [check]


def test_data_events_of_one_kind_of_access_only_fail_and_say_which(delivered, proxy):
    def read_only_lambda(call, answer):
        document = answer.json()
        for selector in document.get("AdvancedEventSelectors", []):
            fields = selector["FieldSelectors"]
            if any("AWS::Lambda::Function" in f.get("Equals", []) for f in fields):
                fields.append({"Field": "readOnly", "Equals": ["true"]})
        return answer.with_json(document)

    proxy.on("GetEventSelectors", read_only_lambda)
    checks = results(delivered)
    assert [name for name, check in checks.items() if not check.ok] == ["Lambda data events"]
    assert checks["Lambda data events"].detail == "only read"

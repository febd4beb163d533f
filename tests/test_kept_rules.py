"""Legacy buckets keep their own lifecycle rules: PutBucketLifecycleConfiguration replaces a
bucket's whole configuration, so the program reads each legacy bucket's rules (Cloud Control
API, in the owner's account) and sends them back beside the archive rules, field for field,
or refuses, naming the bucket, the rule and what cannot be kept, before registering any."""

import pulumi
import pytest

from orgtrail.offline.simulate import MockOrganization, simulate
from tests.support.stacks import (
    MANAGEMENT_ACCOUNT,
    ORGANIZATION_ID,
    SECURITY_STACK,
    management_config,
    run_security,
)
from tests.test_management_stack import LEGACY, LIFECYCLE

PAYMENTS = "payments-trail"


@pytest.fixture(scope="module")
def exports():
    return run_security().exports


def deploy(exports, lifecycles: dict):
    return simulate(
        "management",
        management_config(legacyTrails=LEGACY),
        caller_account_id=MANAGEMENT_ACCOUNT,
        stack_outputs={SECURITY_STACK: exports},
        organization=MockOrganization(
            organization_id=ORGANIZATION_ID, bucket_lifecycles=lifecycles
        ),
    )


def rules_of(sim, bucket: str) -> list[dict]:
    (config,) = (r for r in sim.of_type(LIFECYCLE) if r.inputs["bucket"] == bucket)
    return config.inputs["rules"]


def test_a_buckets_own_rules_are_sent_back_beside_the_archive_rules(exports):
    theirs = [
        {"Id": "expire-tmp", "Status": "Enabled", "Prefix": "tmp/", "ExpirationInDays": 30},
        {
            "Id": "old-versions",
            "Status": "Disabled",
            "NoncurrentVersionExpiration": {"NoncurrentDays": 90, "NewerNoncurrentVersions": 3},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2},
        },
        {
            "Id": "big-tagged",
            "Status": "Enabled",
            "Prefix": "exports/",
            "TagFilters": [{"Key": "class", "Value": "cold"}],
            "ObjectSizeGreaterThan": "1048576",
            "Transitions": [{"StorageClass": "DEEP_ARCHIVE", "TransitionInDays": 180}],
        },
        {
            "Id": "one-tag",
            "Status": "Enabled",
            "TagFilters": [{"Key": "k", "Value": "v"}],
            "ExpirationInDays": 5,
        },
    ]
    sim = deploy(exports, {PAYMENTS: {"Rules": theirs}})
    rules = rules_of(sim, PAYMENTS)
    assert [r["id"] for r in rules] == [
        "expire-tmp",
        "old-versions",
        "big-tagged",
        "one-tag",
        "org-trail-archive-0",
    ]
    kept = {r["id"]: r for r in rules}
    assert kept["expire-tmp"] == {
        "id": "expire-tmp",
        "status": "Enabled",
        "filter": {"prefix": "tmp/"},
        "expiration": {"days": 30},
    }
    assert kept["old-versions"]["status"] == "Disabled"
    assert kept["old-versions"]["noncurrentVersionExpiration"] == {
        "noncurrentDays": 90,
        "newerNoncurrentVersions": 3,
    }
    assert kept["old-versions"]["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 2}
    # Several conditions go under `and`, as S3 requires; one tag alone is a `tag`.
    assert kept["big-tagged"]["filter"] == {
        "and": {"prefix": "exports/", "tags": {"class": "cold"}, "objectSizeGreaterThan": 1048576}
    }
    assert kept["big-tagged"]["transitions"] == [{"days": 180, "storageClass": "DEEP_ARCHIVE"}]
    assert kept["one-tag"]["filter"] == {"tag": {"key": "k", "value": "v"}}
    # Another bucket with no rules of its own gets the archive rules alone.
    assert [r["id"] for r in rules_of(sim, "data-audit")] == ["org-trail-archive-0"]


def test_the_archive_rules_of_an_earlier_deployment_are_not_kept_twice(exports):
    earlier = {
        "Id": "org-trail-archive-0",
        "Status": "Enabled",
        "Prefix": "",
        "ExpirationInDays": 1,
    }
    mine = {"Id": "mine", "Status": "Enabled", "Prefix": "x/", "ExpirationInDays": 9}
    rules = rules_of(deploy(exports, {PAYMENTS: {"Rules": [earlier, mine]}}), PAYMENTS)
    assert [r["id"] for r in rules] == ["mine", "org-trail-archive-0"]
    assert "expiration" not in rules[-1]  # ours as configured now, not as read


def refusal(exports, lifecycles: dict) -> str:
    with pytest.raises(pulumi.RunError) as raised:
        deploy(exports, lifecycles)
    return str(raised.value)


def test_what_cannot_be_kept_is_refused_naming_every_bucket_rule_and_field(exports):
    message = refusal(
        exports,
        {
            PAYMENTS: {
                "Rules": [
                    {"Id": "a", "Status": "Enabled", "Prefix": "", "SomethingNew": {"X": 1}},
                    {"Id": "b", "Status": "Enabled", "Prefix": "", "ExpirationInDays": 3},
                ]
            },
            "data-audit": {
                "TransitionDefaultMinimumObjectSize": "varies_by_storage_class",
                "Rules": [],
            },
        },
    )
    assert message.startswith("the legacy buckets' own lifecycle rules cannot all be kept")
    assert f"bucket {PAYMENTS}, rule a: cannot carry over SomethingNew" in message
    assert "rule b" not in message
    assert (
        "bucket data-audit: its transitionDefaultMinimumObjectSize is 'varies_by_storage_class'"
        in message
    )


def test_more_rules_than_s3_allows_is_refused(exports):
    many = [
        {"Id": f"r{i}", "Status": "Enabled", "Prefix": f"{i}/", "ExpirationInDays": 9}
        for i in range(1000)
    ]
    message = refusal(exports, {PAYMENTS: {"Rules": many}})
    assert (
        f"bucket {PAYMENTS}: 1000 rules of its own and 1 archive rules exceed S3's 1000" in message
    )


def test_the_rules_are_read_in_the_owners_account_and_region(exports, monkeypatch):
    from orgtrail.offline import simulate as simulation

    asked = []
    answer = simulation.OfflineMocks.call

    def spy(self, args):
        if args.token == "aws:cloudcontrol/getResource:getResource":
            asked.append((args.args["identifier"], args.args.get("region"), args.provider))
        return answer(self, args)

    monkeypatch.setattr(simulation.OfflineMocks, "call", spy)
    deploy(exports, {})
    by_bucket = {bucket: (region, provider) for bucket, region, provider in asked}
    assert by_bucket.keys() == {"payments-trail", "data-audit", "mgmt-trail"}
    assert by_bucket["data-audit"][0] == "us-east-2"
    assert "legacy-" in by_bucket["data-audit"][1]  # the owner account's provider
    assert by_bucket["mgmt-trail"][1] in ("", None)  # the management account: the stack's own


def test_a_rule_that_cannot_be_kept_stops_the_program_before_any_resource(exports, registrations):
    """pulumi up creates resources as they are registered: the refusal must come first."""
    refusal(exports, {PAYMENTS: {"Rules": [{"Id": "a", "Status": "Enabled", "Odd": 1}]}})
    created = [t for t in registrations if t.startswith("aws:")]
    assert created == [], created
    assert "pulumi:providers:aws" in registrations  # the member provider the read goes through


def test_a_bucket_whose_rules_cannot_be_read_stops_the_program(exports, monkeypatch):
    """Not read is not "no rules": AccessDenied from Cloud Control (the provider's invoke
    failure, as the engine hands it back) must never let the archive rules replace rules
    nobody saw."""
    from orgtrail.offline import simulate as simulation

    answer = simulation.OfflineMocks.call

    def denied(self, args):
        if args.token == "aws:cloudcontrol/getResource:getResource":
            reason = "operation error CloudControl: GetResource, AccessDeniedException: denied"
            return {}, [("identifier", reason)]
        return answer(self, args)

    monkeypatch.setattr(simulation.OfflineMocks, "call", denied)
    with pytest.raises(pulumi.RunError) as raised:
        deploy(exports, {})
    message = str(raised.value)
    assert message.startswith("cannot read the lifecycle rules legacy bucket ")
    assert "so they cannot be kept" in message and "AccessDeniedException" in message

"""Config validation: every bad key named at once, before any resource is registered."""

import json

import pulumi
import pytest

from orgtrail.contract.config import (
    ConfigError,
    ManagementSettings,
    SecuritySettings,
    load_settings,
)
from orgtrail.offline.simulate import simulate
from tests.support.stacks import (
    MANAGEMENT_ACCOUNT,
    MEMBER_ACCOUNT,
    SECURITY_ACCOUNT,
    engine_config,
    management_config,
    security_config,
)


def problems(config: dict, stack: str) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(config, stack)
    return dict(caught.value.problems)


def test_valid_configs_load_into_settings():
    security = load_settings(security_config(), "security")
    management = load_settings(management_config(), "management")
    assert isinstance(security, SecuritySettings)
    assert isinstance(management, ManagementSettings)
    assert security.object_lock.mode == "COMPLIANCE"
    assert security.object_lock.days == 400
    assert management.organization.trail_arn == security.organization.trail_arn


def test_one_error_names_every_bad_key_and_what_is_allowed():
    config = security_config(
        organizationId="org-123",
        managementAccountId="1111",
        securityAccountId="abc",
        trailName="-bad--name",
        logBucketName="Bad_Bucket",
        objectLock={"mode": "FOREVER", "days": 0},
    )
    found = problems(config, "security")
    assert set(found) == {
        "org-trail:organizationId",
        "org-trail:managementAccountId",
        "org-trail:securityAccountId",
        "org-trail:trailName",
        "org-trail:logBucketName",
        "org-trail:objectLock.mode",
        "org-trail:objectLock.days",
    }
    assert "o- followed by 10-32 lowercase letters or digits" in found["org-trail:organizationId"]
    assert "12-digit" in found["org-trail:managementAccountId"]
    assert "GOVERNANCE, COMPLIANCE" in found["org-trail:objectLock.mode"]
    assert ">= 1" in found["org-trail:objectLock.days"]


def test_error_message_lists_each_problem_on_its_own_line():
    with pytest.raises(ConfigError) as caught:
        load_settings(security_config(organizationId="x", trailName="a"), "security")
    message = str(caught.value)
    assert "2 problems" in message
    assert "\n  - org-trail:organizationId: " in message
    assert "\n  - org-trail:trailName: " in message


@pytest.mark.parametrize(
    "name",
    ["ab", "my--trail", "my-_trail", "trail-", "_trail", "192.168.5.4", "bad/name", "x" * 129],
)
def test_trail_names_follow_cloudtrail_rules(name):
    assert "org-trail:trailName" in problems(security_config(trailName=name), "security")


@pytest.mark.parametrize(
    "bucket",
    [
        "ab",
        "UPPER-case",
        "under_score",
        "double..dot",
        "-start",
        "end-",
        "192.168.5.4",
        "xn--punycode",
        "name-s3alias",
        "x" * 64,
    ],
)
def test_bucket_names_follow_s3_rules(bucket):
    assert "org-trail:logBucketName" in problems(security_config(logBucketName=bucket), "security")


def test_lifecycle_may_never_expire_logs_before_the_lock_ends():
    found = problems(
        security_config(
            objectLock={"mode": "GOVERNANCE", "days": 365}, lifecycle={"expireAfterDays": 364}
        ),
        "security",
    )
    assert (
        "shorter than the Object Lock retention (365 days)"
        in found["org-trail:lifecycle.expireAfterDays"]
    )


def test_lifecycle_expiry_must_follow_the_archive_transition():
    found = problems(
        security_config(lifecycle={"archiveAfterDays": 500, "expireAfterDays": 450}), "security"
    )
    assert "later than archiveAfterDays" in found["org-trail:lifecycle.expireAfterDays"]


def test_security_account_must_be_separate_from_management():
    found = problems(security_config(securityAccountId=MANAGEMENT_ACCOUNT), "security")
    assert "separate account" in found["org-trail:securityAccountId"]


def test_unknown_keys_are_reported_with_a_suggestion():
    found = problems(security_config(objectlock={"mode": "GOVERNANCE", "days": 1}), "security")
    assert "did you mean org-trail:objectLock?" in found["org-trail:objectlock"]


def test_keys_of_the_other_stack_are_refused_unless_they_are_project_defaults():
    found = problems(security_config(insights=False), "security")
    assert "belongs to the management stack" in found["org-trail:insights"]
    load_settings(security_config(insights=True, legacyTrails=[]), "security")


def test_stack_kind_comes_from_the_stack_name_or_the_key():
    assert isinstance(
        load_settings(security_config(stackKind="security"), "prod-logs"), SecuritySettings
    )
    found = problems(security_config(), "prod-logs")
    assert "security, management" in found["org-trail:stackKind"]


def test_region_is_required():
    found = problems(engine_config({"organizationId": "o-a1b2c3d4e5"}, region=""), "security")
    assert "home region" in found["aws:region"]
    assert "org-trail:managementAccountId" in found


def test_account_ids_that_lost_leading_zeros_in_yaml_are_explained():
    found = problems(
        {**security_config(), "org-trail:managementAccountId": 12345678901}, "security"
    )
    assert "quote account IDs" in found["org-trail:managementAccountId"]


def test_log_retention_must_be_a_cloudwatch_value():
    found = problems(management_config(logRetentionDays=100), "management")
    assert "one of 0, 1, 3" in found["org-trail:logRetentionDays"]


def test_objects_must_be_valid_json():
    found = problems({**management_config(), "org-trail:dataEvents": "{s3: true"}, "management")
    assert "not valid JSON" in found["org-trail:dataEvents"]


def test_legacy_trail_entries_are_checked_field_by_field():
    legacy = [
        {"accountId": "12", "region": "mars-1", "trailName": "ok-name", "bucket": "fine-bucket"},
        {"region": "us-east-1", "trailName": "x", "bucket": "B", "colour": "blue"},
        "not-an-object",
    ]
    found = problems(management_config(legacyTrails=legacy), "management")
    assert "12-digit" in found["org-trail:legacyTrails[0].accountId"]
    assert "not an AWS region" in found["org-trail:legacyTrails[0].region"]
    assert found["org-trail:legacyTrails[1].accountId"].startswith("is required")
    assert "not a valid trail name" in found["org-trail:legacyTrails[1].trailName"]
    assert "org-trail:legacyTrails[1].bucket" in found
    assert "not a field" in found["org-trail:legacyTrails[1].colour"]
    assert "must be an object" in found["org-trail:legacyTrails[2]"]


def test_legacy_duplicates_and_shared_buckets_across_accounts_are_refused():
    entry = {
        "accountId": MEMBER_ACCOUNT,
        "region": "us-east-1",
        "trailName": "trail-one",
        "bucket": "shared-bucket",
    }
    legacy = [
        entry,
        dict(entry),
        {**entry, "accountId": SECURITY_ACCOUNT, "trailName": "trail-two"},
    ]
    found = problems(management_config(legacyTrails=legacy), "management")
    assert "repeats org-trail:legacyTrails[0]" in found["org-trail:legacyTrails[1]"]
    assert "one owner" in found["org-trail:legacyTrails[2].bucketAccountId"]


def test_trails_of_several_accounts_may_share_a_bucket_that_names_its_owner():
    shared = {
        "bucket": "central-legacy-logs",
        "bucketAccountId": SECURITY_ACCOUNT,
        "bucketRegion": "us-east-1",
    }
    legacy = [
        {"accountId": MEMBER_ACCOUNT, "region": "us-east-1", "trailName": "one", **shared},
        {"accountId": MANAGEMENT_ACCOUNT, "region": "eu-west-1", "trailName": "two", **shared},
    ]
    settings = load_settings(management_config(legacyTrails=legacy), "management")
    assert {trail.bucket_owner for trail in settings.legacy_trails} == {SECURITY_ACCOUNT}
    found = problems(
        management_config(legacyTrails=[legacy[0], {**legacy[1], "bucketRegion": "eu-west-1"}]),
        "management",
    )
    assert "lives in one region" in found["org-trail:legacyTrails[1].bucketRegion"]


def test_the_organization_trail_is_not_a_legacy_trail():
    legacy = [
        {
            "accountId": MANAGEMENT_ACCOUNT,
            "region": "us-east-1",
            "trailName": "org-trail",
            "bucket": "b-logs",
        }
    ]
    found = problems(management_config(legacyTrails=legacy), "management")
    assert "organization trail itself" in found["org-trail:legacyTrails[0]"]


def test_native_yaml_values_are_accepted_like_engine_strings():
    config = {
        **security_config(),
        "org-trail:objectLock": {"mode": "GOVERNANCE", "days": 30},
        "org-trail:managementAccountId": 111111111111,
    }
    settings = load_settings(config, "security")
    assert settings.object_lock.days == 30
    assert settings.organization.management_account_id == "111111111111"


def test_invalid_config_stops_the_program_before_anything_is_registered(registrations):
    with pytest.raises(pulumi.RunError, match="org-trail:organizationId"):
        simulate(
            "security", security_config(organizationId="nope"), caller_account_id=SECURITY_ACCOUNT
        )
    assert registrations == []


def test_a_shared_legacy_bucket_cannot_need_more_lifecycle_rules_than_s3_holds():
    legacy = [
        {
            "accountId": MEMBER_ACCOUNT,
            "region": "us-east-1",
            "trailName": f"trail-{n}",
            "bucket": "shared-bucket",
            "prefix": f"team-{n}",
        }
        for n in range(1001)
    ]
    found = problems(management_config(legacyTrails=legacy), "management")
    assert list(found) == ["org-trail:legacyTrails[1000].prefix"]
    assert found["org-trail:legacyTrails[1000].prefix"] == (
        "'shared-bucket' would need more than 1000 lifecycle rules (one per trail prefix), "
        "more than S3 holds for a bucket"
    )
    load_settings(management_config(legacyTrails=legacy[:1000]), "management")


def test_one_role_is_assumed_per_bucket_owning_account():
    base = {"accountId": MEMBER_ACCOUNT, "region": "us-east-1", "bucket": "member-trail"}
    legacy = [
        {**base, "trailName": "trail-one"},
        {**base, "trailName": "trail-two", "roleName": "Auditor"},
    ]
    found = problems(management_config(legacyTrails=legacy), "management")
    assert "one role is assumed per account" in found["org-trail:legacyTrails[1].roleName"]


@pytest.mark.parametrize("storage_class", ["GLACIER", "DEEP_ARCHIVE"])
def test_an_archive_class_athena_skips_is_refused_inside_the_analysis_window(storage_class):
    lifecycle = {"archiveAfterDays": 90, "storageClass": storage_class}
    found = problems(security_config(lifecycle=lifecycle), "security")
    assert "Athena skips" in found["org-trail:lifecycle.storageClass"]
    after_the_window = {**lifecycle, "archiveAfterDays": 400}
    settings = load_settings(
        security_config(lifecycle=after_the_window, analysis={"windowDays": 400}), "security"
    )
    assert settings.lifecycle.storage_class == storage_class


def test_the_default_archive_class_keeps_logs_queryable():
    settings = load_settings(security_config(lifecycle=None), "security")
    assert settings.lifecycle.storage_class == "GLACIER_IR"


def test_the_management_stack_requires_its_security_stack_reference():
    found = problems(management_config(securityStack=None), "management")
    assert "is required in the management stack" in found["org-trail:securityStack"]


def test_network_activity_sources_are_those_cloudtrail_takes():
    assert problems(
        management_config(
            dataEvents={"networkActivity": ["ec2.amazonaws.com", "s3.amazonaws.com"]}
        ),
        "management",
    ) == {
        "org-trail:dataEvents.networkActivity[1]": (
            "'s3.amazonaws.com' is not allowed: one of cloudtrail.amazonaws.com, "
            "ec2.amazonaws.com, kms.amazonaws.com, secretsmanager.amazonaws.com"
        )
    }
    settings = load_settings(
        management_config(dataEvents={"networkActivity": ["kms.amazonaws.com"]}), "management"
    )
    assert settings.data_events.network_activity == ["kms.amazonaws.com"]
    assert load_settings(management_config(), "management").data_events.network_activity == []


@pytest.mark.parametrize(
    ("region", "problem"),
    [
        ("eu-wst-1", "'eu-wst-1' is not an AWS region (did you mean 'eu-west-1'?)"),
        ("us-gov-east-9", "'us-gov-east-9' is not an AWS region (did you mean 'us-gov-east-1'?)"),
        ("moon-1", "'moon-1' is not an AWS region name (like us-east-1)"),
    ],
)
def test_a_region_aws_does_not_have_is_refused_with_the_nearest_one(region, problem):
    legacy = [{"accountId": "333333333333", "region": region, "trailName": "t", "bucket": "b-1x"}]
    found = problems(management_config(legacyTrails=legacy), "management")
    assert found["org-trail:legacyTrails[0].region"].startswith(problem)
    for known in ("eu-west-1", "cn-northwest-1", "us-gov-west-1", "ap-southeast-5"):
        legacy[0]["region"] = known
        assert "org-trail:legacyTrails[0].region" not in problems(
            management_config(legacyTrails=legacy), "management"
        )


@pytest.mark.parametrize(
    ("alarms", "problem"),
    [
        ({"silentTrailMinutes": 4}, "4 is not allowed: a whole number >= 5"),
        (
            {"silentTrailMinutes": 1441},
            "1441 is not allowed: a whole number <= 1440",
        ),  # a day: the limit of PutMetricAlarm on Period x EvaluationPeriods
        ({"silentTrailMinimumEvents": 0}, "0 is not allowed: a whole number >= 1"),
    ],
)
def test_the_silent_trail_alarm_stays_within_what_cloudwatch_takes(alarms, problem):
    found = problems(management_config(alarms=json.dumps(alarms)), "management")
    key = next(k for k in found if k.startswith("org-trail:alarms."))
    assert problem in found[key]

"""The rules across keys, each with the exact problem it reports: the key to fix, what is wrong,
and what to do instead. Checked before anything is created (`load_settings`)."""

import pytest
from pydantic import BaseModel, ValidationError

from orgtrail.contract.config import ConfigError, _problems, load_settings
from tests.support.stacks import (
    ACCESS_LOG_BUCKET,
    DEPLOY_ROLE,
    LOG_BUCKET,
    MANAGEMENT_ACCOUNT,
    MEMBER_ACCOUNT,
    OTHER_MEMBER_ACCOUNT,
    SECURITY,
    TRAIL_NAME,
    engine_config,
    management_config,
    security_config,
)

KEY = "org-trail:legacyTrails"


def problems(config: dict, stack: str) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(config, stack)
    return dict(caught.value.problems)


def legacy(**fields):
    return {
        "accountId": MEMBER_ACCOUNT,
        "region": "us-east-1",
        "trailName": "legacy",
        "bucket": "legacy-logs",
        **fields,
    }


def test_the_three_security_buckets_must_be_distinct():
    assert problems(security_config(accessLogBucketName=LOG_BUCKET), "security") == {
        "org-trail:accessLogBucketName": "must differ from logBucketName: a bucket cannot "
        "receive its own access logs"
    }
    for taken in (LOG_BUCKET, ACCESS_LOG_BUCKET):
        config = security_config(analysis={"resultsBucketName": taken})
        assert problems(config, "security") == {
            "org-trail:analysis.resultsBucketName": "must differ from the log and access-log buckets"
        }


def test_an_archive_class_athena_cannot_read_must_wait_for_the_analysis_window():
    config = security_config(
        lifecycle={"archiveAfterDays": 30, "storageClass": "GLACIER"}, analysis={"windowDays": 90}
    )
    assert problems(config, "security") == {
        "org-trail:lifecycle.storageClass": "GLACIER after 30 days hides logs from Athena inside "
        "analysis.windowDays (90): Athena skips GLACIER and DEEP_ARCHIVE objects unless restored. "
        "Use GLACIER_IR (read like STANDARD), or archiveAfterDays >= windowDays"
    }
    waits = security_config(
        lifecycle={"archiveAfterDays": 90, "storageClass": "DEEP_ARCHIVE"},
        analysis={"windowDays": 90},
    )
    assert load_settings(waits, "security").lifecycle.storage_class == "DEEP_ARCHIVE"


def test_protecting_the_pipeline_needs_a_role_of_the_security_account_exempt():
    config = management_config(
        guardrails={"exemptRoleArns": [f"arn:aws:iam::{MEMBER_ACCOUNT}:role/deployer"]}
    )
    assert problems(config, "management") == {
        "org-trail:guardrails.exemptRoleArns": "protectLogPipeline would lock out the role that "
        "deploys the security stack: name it (arn:aws:iam::222222222222:role/<name>), and a "
        "break-glass role, or switch protectLogPipeline off"
    }
    switched_off = management_config(guardrails={"protectLogPipeline": False, "exemptRoleArns": []})
    assert not load_settings(switched_off, "management").guardrails.protect_log_pipeline


def test_alarm_endpoints_fit_their_protocol():
    subscriptions = [
        {"protocol": "email", "endpoint": "ops.example.com"},
        {"protocol": "https", "endpoint": "http://hooks.example.com/cis"},
        {"protocol": "email", "endpoint": "ops@example.com"},
        {"protocol": "https", "endpoint": "https://hooks.example.com/cis"},
        {"protocol": "sqs", "endpoint": "arn:aws:sqs:us-east-1:111111111111:cis"},
    ]
    config = management_config(alarms={"subscriptions": subscriptions})
    assert problems(config, "management") == {
        "org-trail:alarms.subscriptions[0].endpoint": "'ops.example.com' is not an email address",
        "org-trail:alarms.subscriptions[1].endpoint": "'http://hooks.example.com/cis' must be an "
        "https:// URL",
    }


def test_legacy_trails_name_each_conflict_with_the_entry_it_conflicts_with():
    trails = [
        legacy(),
        legacy(),
        legacy(accountId=MANAGEMENT_ACCOUNT, trailName=TRAIL_NAME),
        legacy(accountId=OTHER_MEMBER_ACCOUNT, trailName="trail-b", roleName="Other"),
        legacy(trailName="trail-c", bucketAccountId=OTHER_MEMBER_ACCOUNT),
        legacy(trailName="trail-d", bucketRegion="eu-west-1"),
    ]
    assert problems(management_config(legacyTrails=trails), "management") == {
        f"{KEY}[1]": f"repeats {KEY}[0] (same account, region and trail)",
        f"{KEY}[2]": "is the organization trail itself, not a legacy trail",
        f"{KEY}[3].bucketAccountId": f"'legacy-logs' is owned by account {MEMBER_ACCOUNT} in "
        f"{KEY}[0]; a bucket has one owner: set bucketAccountId to it on every trail that writes "
        "there",
        f"{KEY}[4].roleName": f"'OrganizationAccountAccessRole' differs from 'Other' in {KEY}[3] "
        f"for the same bucket-owning account {OTHER_MEMBER_ACCOUNT}: one role is assumed per "
        "account",
        f"{KEY}[4].bucketAccountId": f"'legacy-logs' is owned by account {MEMBER_ACCOUNT} in "
        f"{KEY}[0]; a bucket has one owner: set bucketAccountId to it on every trail that writes "
        "there",
        f"{KEY}[5].bucketRegion": f"'legacy-logs' is in us-east-1 in {KEY}[0]; a bucket lives in "
        "one region: set bucketRegion to it on every trail that writes there",
    }


def test_each_kind_of_bad_key_is_named_with_what_is_allowed():
    config = security_config(objectLock={"mode": "GOVERNANCE", "days": 1, "dayz": 3})
    config["org-trail:logBuketName"] = "x"
    del config["org-trail:organizationId"], config["aws:region"]
    assert problems(config, "security") == {
        "org-trail:logBuketName": "is not an org-trail key; did you mean org-trail:logBucketName?",
        "org-trail:objectLock.dayz": "is not a field of org-trail:objectLock (allowed: mode, days)",
        "aws:region": "is required (the home region, e.g. us-east-1)",
        "org-trail:organizationId": "is required (AWS Organizations ID, o- followed by 10-32 "
        "lowercase letters or digits.)",
    }
    unlike = security_config()
    unlike["org-trail:zzz"] = "x"
    assert problems(unlike, "security") == {"org-trail:zzz": "is not an org-trail key"}


def test_a_bad_field_of_a_list_entry_is_named_with_the_entry_and_what_it_allows():
    entry = legacy(colour="blue")
    del entry["bucket"]
    assert problems(management_config(legacyTrails=[legacy(), entry]), "management") == {
        f"{KEY}[1].colour": f"is not a field of {KEY}[1] (allowed: accountId, region, trailName, "
        "bucket, roleName, bucketAccountId, bucketRegion, prefix)",
        f"{KEY}[1].bucket": "is required",
    }


def test_a_blank_region_is_a_missing_region():
    assert problems({**security_config(), "aws:region": ""}, "security") == {
        "aws:region": "is required (the home region, e.g. us-east-1)"
    }


def test_an_account_id_that_yaml_read_as_a_switch_is_not_a_string():
    config = {**security_config(), "org-trail:managementAccountId": True}
    assert problems(config, "security") == {
        "org-trail:managementAccountId": "must be a non-empty string, got True"
    }


def test_a_legacy_prefix_loses_only_its_slashes():
    settings = load_settings(
        management_config(legacyTrails=[legacy(prefix="/Xray-team/")]), "management"
    )
    assert settings.legacy_trails[0].prefix == "Xray-team"


def test_numbers_and_switches_say_what_they_take():
    fractional = security_config(objectLock={"mode": "GOVERNANCE", "days": 2.5})
    assert problems(fractional, "security") == {
        "org-trail:objectLock.days": "2.5 is not allowed: a whole number"
    }
    too_long = security_config(objectLock={"mode": "GOVERNANCE", "days": 40000})
    assert problems(too_long, "security") == {
        "org-trail:objectLock.days": "40000 is not allowed: a whole number <= 36500"
    }
    assert problems(management_config(insights="maybe"), "management") == {
        "org-trail:insights": "'maybe' is not allowed: true or false"
    }
    assert problems(management_config(logRetentionDays="12x"), "management") == {
        "org-trail:logRetentionDays": "'12x' is not allowed: a whole number"
    }


def test_a_key_of_the_other_stack_is_refused_unless_it_holds_the_default():
    assert problems(management_config(logBucketName=LOG_BUCKET), "management") == {
        "org-trail:logBucketName": "belongs to the security stack, not management"
    }
    assert problems(security_config(insights=False, legacyTrails=[legacy()]), "security") == {
        "org-trail:insights": "belongs to the management stack, not security",
        "org-trail:legacyTrails": "belongs to the management stack, not security",
    }
    assert load_settings(security_config(legacyTrails=[], insights=True), "security")
    # The default as the engine passes a stack file's JSON text, whatever its key order or
    # spacing, and an empty value are not set on purpose.
    reordered = {
        **security_config(),
        "org-trail:dataEvents": '{"s3IncludeTrailBucket": false, "lambda": true, "s3": true}',
    }
    assert load_settings(reordered, "security")
    assert load_settings(security_config(securityStack=""), "security")
    assert problems(security_config(insights=""), "security") == {
        "org-trail:insights": "'' is not allowed: true or false"
    }
    # Each key is judged: one holding its default does not excuse the keys after it.
    later = security_config(legacyTrails=[], insights=False)
    assert problems(later, "security") == {
        "org-trail:insights": "belongs to the management stack, not security"
    }


def test_settings_fill_in_the_derived_defaults():
    settings = load_settings(
        security_config(logBucketName=None, accessLogBucketName=None), "security"
    )
    assert settings.log_bucket_name == "org-trail-logs-222222222222-us-east-1"
    assert settings.access_log_bucket_name == "org-trail-server-access-logs-222222222222-us-east-1"
    assert (
        settings.analysis.results_bucket_name == "org-trail-athena-results-222222222222-us-east-1"
    )
    assert settings.analysis.account_ids == [MANAGEMENT_ACCOUNT, "222222222222"]
    assert (
        "eu-west-1" in settings.analysis.regions and "cn-north-1" not in settings.analysis.regions
    )
    listed = security_config(
        analysis={
            "accountIds": [MEMBER_ACCOUNT, MEMBER_ACCOUNT, "222222222222"],
            "regions": ["eu-west-1"],
        }
    )
    analysis = load_settings(listed, "security").analysis
    assert (analysis.account_ids, analysis.regions) == (
        [MEMBER_ACCOUNT, "222222222222"],
        ["eu-west-1"],
    )
    china = load_settings(engine_config(SECURITY, {}, region="cn-north-1"), "security")
    assert china.analysis.regions == ["cn-north-1", "cn-northwest-1"]
    key = "arn:aws:kms:us-east-1:111111111111:key/abc"
    management = load_settings(
        management_config(memberPreviewRoleName="ReadOnly", logGroupKmsKeyArn=key), "management"
    )
    assert (management.member_preview_role_name, management.log_group_kms_key_arn) == (
        "ReadOnly",
        key,
    )


def test_expiry_must_follow_the_archive_and_outlast_the_lock_to_the_day():
    def lifecycle(expire):
        return security_config(
            lifecycle={
                "archiveAfterDays": 90,
                "storageClass": "GLACIER_IR",
                "expireAfterDays": expire,
            }
        )

    assert problems(lifecycle(90), "security") == {
        "org-trail:lifecycle.expireAfterDays": "90 must be later than archiveAfterDays (90)"
    }
    assert problems(lifecycle(399), "security") == {
        "org-trail:lifecycle.expireAfterDays": "399 is shorter than the Object Lock retention "
        "(400 days); logs may never expire before their lock ends"
    }
    assert load_settings(lifecycle(400), "security").lifecycle.expire_after_days == 400
    legacy_archive = management_config(
        legacyArchive={"archiveAfterDays": 30, "expireAfterDays": 30}
    )
    assert problems(legacy_archive, "management") == {
        "org-trail:legacyArchive.expireAfterDays": "30 must be later than archiveAfterDays (30)"
    }


def test_the_security_account_is_not_the_management_account():
    for stack, config in (
        ("security", security_config(securityAccountId=MANAGEMENT_ACCOUNT)),
        ("management", management_config(securityAccountId=MANAGEMENT_ACCOUNT, guardrails=None)),
    ):
        assert problems(config, stack)["org-trail:securityAccountId"] == (
            "must be a separate account from managementAccountId: the logs must survive a "
            "compromised management account"
        )


def test_engine_strings_and_yaml_values_read_alike():
    for text, expected in (("false", False), ("true", True)):
        config = management_config()
        config["org-trail:insights"] = text
        assert load_settings(config, "management").insights is expected
    unquoted = security_config(securityAccountId=222222222222)
    assert load_settings(unquoted, "security").organization.security_account_id == "222222222222"
    trail = legacy(prefix="/old/logs/")
    settings = load_settings(management_config(legacyTrails=[trail]), "management")
    assert settings.legacy_trails[0].log_prefix == "old/logs/AWSLogs/"
    assert problems(management_config(legacyTrails=[legacy(prefix="a b")]), "management") == {
        f"{KEY}[0].prefix": "'a b' is not an S3 key prefix CloudTrail accepts"
    }


def test_names_say_what_aws_allows():
    assert problems(security_config(logBucketName="Bad_Bucket", trailName="x"), "security") == {
        "org-trail:trailName": "'x' is not a valid trail name (3-128 letters, digits, '.', '_' or "
        "'-', starting and ending with a letter or digit, no two of '._-' in a row, not an IP "
        "address)",
        "org-trail:logBucketName": "'Bad_Bucket' is not a valid bucket name (3-63 lowercase "
        "letters, digits, dots and hyphens, starting and ending with a letter or digit)",
    }


def test_an_error_the_project_has_no_words_for_keeps_pydantics():
    class Probe(BaseModel):
        ratio: float

    with pytest.raises(ValidationError) as caught:
        Probe.model_validate({"ratio": "most"})
    assert _problems(caught.value) == [
        ("org-trail:ratio", "Input should be a valid number, unable to parse string as a number")
    ]


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::222222222222:role/*",  # every role of the security account
        "arn:aws:iam::222222222222:role/deploy*",
        "arn:aws:iam::222222222222:role/deplo?",
        "arn:aws:iam::*:role/deployer",
        "arn:aws:iam::222222222222:user/deployer",
        "arn:aws:iam::222222222222:root",
    ],
)
def test_an_exemption_names_one_role_exactly(arn):
    """A wildcard exempts every role it matches from the log-pipeline guardrail."""
    config = management_config(guardrails={"exemptRoleArns": [arn, DEPLOY_ROLE]})
    found = problems(config, "management")
    assert list(found) == ["org-trail:guardrails.exemptRoleArns[0]"], found
    assert "an IAM role ARN" in found["org-trail:guardrails.exemptRoleArns[0]"]


def test_an_exemption_with_a_role_path_is_one_role():
    config = management_config(
        guardrails={
            "exemptRoleArns": [DEPLOY_ROLE, "arn:aws:iam::222222222222:role/ops/breakglass"]
        }
    )
    exempt = load_settings(config, "management").guardrails.exempt_role_arns
    assert exempt[1] == "arn:aws:iam::222222222222:role/ops/breakglass"

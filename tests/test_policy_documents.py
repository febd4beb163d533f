"""The management account's documents, evaluated as AWS would evaluate them: the CloudWatch Logs
delivery role and its key, the alarm topic and its key, the Athena results bucket. Each test
asks who may and who may not (the IAM user guide's confused-deputy conditions included)."""

from orgtrail.contract import policy_documents as documents
from orgtrail.contract.config import Organization
from orgtrail.policy_eval import ALLOW, DENY, IMPLICIT_DENY, Request, evaluate

ORG = Organization(
    organization_id="o-abc123defg",
    management_account_id="111111111111",
    security_account_id="222222222222",
    trail_name="org-trail",
    region="eu-west-1",
)
GROUP = "/org-trail/cloudtrail"
GROUP_ARN = "arn:aws:logs:eu-west-1:111111111111:log-group:/org-trail/cloudtrail"
TOPIC = "arn:aws:sns:eu-west-1:111111111111:cis-alarms"
ALARM = "arn:aws:cloudwatch:eu-west-1:111111111111:alarm:cis-4.1"
OTHER_ACCOUNT = "333333333333"
ANALYST = "arn:aws:iam::222222222222:role/analyst"


def by_service(service, action, resource="*", **context):
    return Request(action, resource, service=service, context=context)


def test_only_this_organization_trail_may_assume_the_delivery_role():
    trust = documents.cloudwatch_delivery_trust(ORG)
    own = {"aws:SourceArn": ORG.trail_arn, "aws:SourceAccount": "111111111111"}
    assert evaluate(trust, by_service("cloudtrail.amazonaws.com", "sts:AssumeRole", **own)) == ALLOW
    other_trail = {**own, "aws:SourceArn": ORG.trail_arn + "-copy"}
    for denied in (
        by_service("cloudtrail.amazonaws.com", "sts:AssumeRole", **other_trail),
        by_service(
            "cloudtrail.amazonaws.com",
            "sts:AssumeRole",
            **{**own, "aws:SourceAccount": OTHER_ACCOUNT},
        ),
        by_service("cloudtrail.amazonaws.com", "sts:AssumeRole"),
        by_service("logs.amazonaws.com", "sts:AssumeRole", **own),
        by_service("cloudtrail.amazonaws.com", "sts:TagSession", **own),
    ):
        assert evaluate(trust, denied) == IMPLICIT_DENY, denied


def test_the_delivery_role_writes_only_the_streams_an_organization_trail_names():
    policy = documents.cloudwatch_delivery_policy(ORG, GROUP)
    streams = f"{GROUP_ARN}:log-stream:"
    for stream in (
        "111111111111_CloudTrail_eu-west-1",
        "111111111111_CloudTrail_eu-west-1_2",
        "o-abc123defg_222222222222_CloudTrail_eu-west-1",
    ):
        for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
            assert evaluate(policy, Request(action, streams + stream)) == ALLOW, (action, stream)
    for action, resource in (
        ("logs:PutLogEvents", streams + "o-other_222222222222_CloudTrail_eu-west-1"),
        ("logs:PutLogEvents", streams + "111111111111_CloudTrail_us-east-1"),
        ("logs:PutLogEvents", f"{GROUP_ARN}-other:log-stream:o-abc123defg_1"),
        ("logs:DeleteLogStream", streams + "o-abc123defg_1"),
    ):
        assert evaluate(policy, Request(action, resource)) == IMPLICIT_DENY, (action, resource)


def test_cloudwatch_logs_may_use_the_group_key_for_this_log_group_only():
    policy = documents.log_group_key_policy(ORG, GROUP)
    logs = "logs.eu-west-1.amazonaws.com"
    context = {"kms:EncryptionContext:aws:logs:arn": GROUP_ARN}
    for action in (
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncryptFrom",
        "kms:GenerateDataKey",
        "kms:DescribeKey",
    ):
        assert evaluate(policy, by_service(logs, action, **context)) == ALLOW, action
    other_group = {"kms:EncryptionContext:aws:logs:arn": GROUP_ARN + "-other"}
    for denied in (
        by_service(logs, "kms:Decrypt", **other_group),
        by_service(logs, "kms:Decrypt"),
        by_service("logs.us-east-1.amazonaws.com", "kms:Decrypt", **context),
        by_service(logs, "kms:ScheduleKeyDeletion", **context),
    ):
        assert evaluate(policy, denied) == IMPLICIT_DENY, denied
    administrator = Request(
        "kms:PutKeyPolicy", "*", principal_arn="arn:aws:iam::111111111111:role/admin"
    )
    assert evaluate(policy, administrator) == ALLOW
    stranger = Request("kms:Decrypt", "*", principal_arn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/x")
    assert evaluate(policy, stranger) == IMPLICIT_DENY


def test_regional_service_names_follow_the_partition():
    china = Organization(**{**ORG.model_dump(), "region": "cn-north-1"})
    assert documents.service_endpoint(china, "logs") == "logs.cn-north-1.amazonaws.com.cn"
    assert documents.log_group_arn(china, GROUP).startswith(
        "arn:aws-cn:logs:cn-north-1:111111111111:"
    )
    assert documents.bucket_arn(china, "b") == "arn:aws-cn:s3:::b"


def test_only_this_accounts_alarms_may_publish_to_the_topic_and_only_over_tls():
    policy = documents.alarm_topic_policy(ORG, "cis-alarms")
    own = {
        "aws:SourceAccount": "111111111111",
        "aws:SourceArn": ALARM,
        "aws:SecureTransport": "true",
    }
    assert (
        evaluate(policy, by_service("cloudwatch.amazonaws.com", "sns:Publish", TOPIC, **own))
        == ALLOW
    )
    for denied in (
        {**own, "aws:SourceAccount": OTHER_ACCOUNT},
        {**own, "aws:SourceArn": f"arn:aws:cloudwatch:eu-west-1:{OTHER_ACCOUNT}:alarm:x"},
        {**own, "aws:SourceArn": "arn:aws:cloudwatch:us-east-1:111111111111:alarm:x"},
    ):
        assert (
            evaluate(policy, by_service("cloudwatch.amazonaws.com", "sns:Publish", TOPIC, **denied))
            == IMPLICIT_DENY
        )
    assert (
        evaluate(policy, by_service("events.amazonaws.com", "sns:Publish", TOPIC, **own))
        == IMPLICIT_DENY
    )
    plain = {**own, "aws:SecureTransport": "false"}
    assert (
        evaluate(policy, by_service("cloudwatch.amazonaws.com", "sns:Publish", TOPIC, **plain))
        == DENY
    )


def test_the_alarm_topic_key_lets_this_accounts_cloudwatch_encrypt_and_nobody_else():
    policy = documents.alarm_topic_key_policy(ORG)
    own = {"aws:SourceAccount": "111111111111"}
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        assert evaluate(policy, by_service("cloudwatch.amazonaws.com", action, **own)) == ALLOW
    administrator = Request(
        "kms:PutKeyPolicy", "*", principal_arn="arn:aws:iam::111111111111:role/a"
    )
    assert evaluate(policy, administrator) == ALLOW
    for denied in (
        by_service(
            "cloudwatch.amazonaws.com", "kms:Decrypt", **{"aws:SourceAccount": OTHER_ACCOUNT}
        ),
        by_service("cloudwatch.amazonaws.com", "kms:Encrypt", **own),
        by_service("sns.amazonaws.com", "kms:Decrypt", **own),
    ):
        assert evaluate(policy, denied) == IMPLICIT_DENY, denied


def test_the_results_bucket_refuses_plain_http_and_grants_nothing_itself():
    policy = documents.results_bucket_policy(ORG, "athena-results")

    def analyst(action, resource, **context):
        return Request(action, resource, principal_arn=ANALYST, context=context)

    result = "arn:aws:s3:::athena-results/q.csv"
    assert evaluate(policy, analyst("s3:GetObject", result)) == IMPLICIT_DENY  # IAM decides
    plain = {"aws:SecureTransport": "false"}
    assert evaluate(policy, analyst("s3:GetObject", result, **plain)) == DENY
    assert (
        evaluate(policy, analyst("s3:ListBucket", "arn:aws:s3:::athena-results", **plain)) == DENY
    )


def test_server_access_logs_arrive_from_the_stacks_buckets_only_and_over_tls():
    policy = documents.access_log_bucket_policy(ORG, "access-logs", ["logs", "results"])
    delivery = {
        "aws:SourceArn": "arn:aws:s3:::logs",
        "aws:SourceAccount": "222222222222",
        "aws:SecureTransport": "true",
    }
    key = "arn:aws:s3:::access-logs/logs/2026-11-27-00-00-00-ABC"
    logging = "logging.s3.amazonaws.com"
    assert evaluate(policy, by_service(logging, "s3:PutObject", key, **delivery)) == ALLOW
    for denied in (
        {**delivery, "aws:SourceArn": "arn:aws:s3:::someone-elses"},
        {**delivery, "aws:SourceAccount": OTHER_ACCOUNT},
    ):
        assert evaluate(policy, by_service(logging, "s3:PutObject", key, **denied)) == IMPLICIT_DENY
    other_prefix = "arn:aws:s3:::access-logs/elsewhere/x"
    assert (
        evaluate(policy, by_service(logging, "s3:PutObject", other_prefix, **delivery))
        == IMPLICIT_DENY
    )
    plain = {**delivery, "aws:SecureTransport": "false"}
    assert evaluate(policy, by_service(logging, "s3:PutObject", key, **plain)) == DENY

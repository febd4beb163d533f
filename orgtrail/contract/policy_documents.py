"""IAM, bucket and key policy documents as plain dicts.

Everything here is computed from configuration alone (bucket names and the
trail ARN are deterministic), so the documents need no invoke and no Output,
and tests evaluate them directly.
"""

from __future__ import annotations

from collections.abc import Sequence

from orgtrail.contract.config import Organization

CLOUDTRAIL = "cloudtrail.amazonaws.com"
S3_LOGGING = "logging.s3.amazonaws.com"
# IAM policy variable: resolved by AWS per request, kept literally here.
PRINCIPAL_ACCOUNT = "${aws:PrincipalAccount}"


# DNS suffix of each partition's service endpoints (AWS SDK endpoints.json, "partitions").
DNS_SUFFIXES = {
    "aws": "amazonaws.com",
    "aws-cn": "amazonaws.com.cn",
    "aws-us-gov": "amazonaws.com",
    "aws-iso": "c2s.ic.gov",
    "aws-iso-b": "sc2s.sgov.gov",
    "aws-iso-e": "cloud.adc-e.uk",
    "aws-iso-f": "csp.hci.ic.gov",
}


def service_endpoint(organization: Organization, service: str) -> str:
    """A service's regional name, as kms:ViaService and regional service principals use it."""
    return f"{service}.{organization.region}.{DNS_SUFFIXES[organization.partition]}"


def bucket_arn(organization: Organization, bucket: str) -> str:
    return f"arn:{organization.partition}:s3:::{bucket}"


def document(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def account_administration(partition: str, account_id: str) -> dict:
    """The key's own account keeps full control: without it a key can become unmanageable."""
    return {
        "Sid": "AccountAdministration",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


def deny_insecure_transport(bucket: str) -> dict:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket, f"{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def log_bucket_policy(organization: Organization, bucket: str) -> dict:
    """AWS's organization-trail bucket policy, TLS only, members read their own logs."""
    arn = bucket_arn(organization, bucket)
    from_this_trail = {"aws:SourceArn": organization.trail_arn}
    delivery = {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", **from_this_trail}}
    own_logs = f"AWSLogs/{organization.organization_id}/{PRINCIPAL_ACCOUNT}/"
    in_organization = {"aws:PrincipalOrgID": organization.organization_id}
    return document(
        deny_insecure_transport(arn),
        {
            "Sid": "AWSCloudTrailAclCheck",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL},
            "Action": "s3:GetBucketAcl",
            "Resource": arn,
            "Condition": {"StringEquals": from_this_trail},
        },
        {
            "Sid": "AWSCloudTrailWrite",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL},
            "Action": "s3:PutObject",
            "Resource": f"{arn}/AWSLogs/{organization.management_account_id}/*",
            "Condition": delivery,
        },
        {
            "Sid": "AWSCloudTrailOrganizationWrite",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL},
            "Action": "s3:PutObject",
            "Resource": f"{arn}/AWSLogs/{organization.organization_id}/*",
            "Condition": delivery,
        },
        {
            "Sid": "MembersReadOwnLogs",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "s3:GetObject",
            "Resource": f"{arn}/{own_logs}*",
            "Condition": {"StringEquals": in_organization},
        },
        {
            "Sid": "MembersListOwnLogs",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "s3:ListBucket",
            "Resource": arn,
            "Condition": {
                "StringEquals": in_organization,
                "StringLike": {"s3:prefix": [own_logs, f"{own_logs}*"]},
            },
        },
    )


def access_log_bucket_policy(
    organization: Organization, bucket: str, source_buckets: Sequence[str]
) -> dict:
    """Server access log delivery from the stack's own buckets only (ACLs are disabled)."""
    arn = bucket_arn(organization, bucket)
    return document(
        deny_insecure_transport(arn),
        {
            "Sid": "S3ServerAccessLogsDelivery",
            "Effect": "Allow",
            "Principal": {"Service": S3_LOGGING},
            "Action": "s3:PutObject",
            "Resource": [f"{arn}/{source}/*" for source in source_buckets],
            "Condition": {
                "ArnLike": {
                    "aws:SourceArn": [bucket_arn(organization, source) for source in source_buckets]
                },
                "StringEquals": {"aws:SourceAccount": organization.security_account_id},
            },
        },
    )


def trail_key_policy(organization: Organization) -> dict:
    """Key policy for the trail's key, following AWS's CloudTrail key policy."""
    p = organization.partition
    from_this_trail = {"aws:SourceArn": organization.trail_arn}
    trail_context = {
        "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:{p}:cloudtrail:*:{organization.management_account_id}:trail/*"
    }
    return document(
        account_administration(p, organization.security_account_id),
        {
            "Sid": "CloudTrailEncryptLogs",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL},
            "Action": "kms:GenerateDataKey*",
            "Resource": "*",
            "Condition": {"StringEquals": from_this_trail, "StringLike": trail_context},
        },
        {
            "Sid": "CloudTrailDescribeKey",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL},
            "Action": "kms:DescribeKey",
            "Resource": "*",
            "Condition": {"StringEquals": from_this_trail},
        },
        {
            # With an S3 Bucket Key, CloudTrail's PutObject decrypts the bucket-level data key.
            "Sid": "CloudTrailDecryptForBucketKey",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringEquals": from_this_trail},
        },
        {
            # New accounts need no change: membership, not a list of IDs, grants the read;
            # only through S3 in the bucket's region, and only to decrypt (their own IAM
            # policy must allow kms:Decrypt on this key too: cross-account use needs both).
            "Sid": "OrganizationMembersDecryptLogs",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "aws:PrincipalOrgID": organization.organization_id,
                    "kms:ViaService": service_endpoint(organization, "s3"),
                },
                "Null": {"kms:EncryptionContext:aws:cloudtrail:arn": "false"},
            },
        },
    )


def cloudwatch_delivery_trust(organization: Organization) -> dict:
    """Only this trail may use the role (confused-deputy protection, IAM user guide)."""
    return document(
        {
            "Sid": "CloudTrailAssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {
                    "aws:SourceArn": organization.trail_arn,
                    "aws:SourceAccount": organization.management_account_id,
                }
            },
        }
    )


def log_group_key_policy(organization: Organization, log_group: str) -> dict:
    """CloudWatch Logs may use the key for this log group only (CloudWatch Logs user guide,
    "Encrypt log data in CloudWatch Logs using AWS KMS")."""
    return document(
        account_administration(organization.partition, organization.management_account_id),
        {
            "Sid": "CloudWatchLogsEncryptTrailLogGroup",
            "Effect": "Allow",
            "Principal": {"Service": service_endpoint(organization, "logs")},
            "Action": [
                "kms:Encrypt*",
                "kms:Decrypt*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:Describe*",
            ],
            "Resource": "*",
            "Condition": {
                "ArnEquals": {
                    "kms:EncryptionContext:aws:logs:arn": log_group_arn(organization, log_group)
                }
            },
        },
    )


def log_group_arn(organization: Organization, log_group: str) -> str:
    return (
        f"arn:{organization.partition}:logs:{organization.region}:"
        f"{organization.management_account_id}:log-group:{log_group}"
    )


def cloudwatch_delivery_policy(organization: Organization, log_group: str) -> dict:
    """CreateLogStream/PutLogEvents on the stream names an organization trail writes."""
    streams = f"{log_group_arn(organization, log_group)}:log-stream:"
    return document(
        {
            "Sid": "CloudTrailDeliverToLogGroup",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [
                f"{streams}{organization.management_account_id}_CloudTrail_{organization.region}*",
                f"{streams}{organization.organization_id}_*",
            ],
        }
    )


def results_bucket_policy(organization: Organization, bucket: str) -> dict:
    """Athena results: private to the security account's principals (IAM decides), TLS only."""
    return document(deny_insecure_transport(bucket_arn(organization, bucket)))


CLOUDWATCH = "cloudwatch.amazonaws.com"
# The alarm topic: the CIS alarms, the silent-trail alarm and each Insights event go to it.
ALARM_TOPIC = "org-trail-cis-alarms"
# The subscription filter handing every Insights event to the notifier (CloudWatch Logs
# filter pattern syntax, JSON property selector).
INSIGHTS_PATTERN = '{ $.eventType = "AwsCloudTrailInsight" }'


def alarm_topic_arn(organization: Organization, topic: str) -> str:
    return f"arn:{organization.partition}:sns:{organization.region}:{organization.management_account_id}:{topic}"


def alarm_topic_key_policy(organization: Organization) -> dict:
    """CloudWatch alarms can only publish to an encrypted topic whose key lets CloudWatch use it."""
    p = organization.partition
    return document(
        account_administration(p, organization.management_account_id),
        {
            "Sid": "CloudWatchAlarmsPublish",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDWATCH},
            "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": organization.management_account_id}
            },
        },
    )


def alarm_topic_policy(organization: Organization, topic: str) -> dict:
    arn = alarm_topic_arn(organization, topic)
    return document(
        {
            "Sid": "CloudWatchAlarmsPublish",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDWATCH},
            "Action": "sns:Publish",
            "Resource": arn,
            "Condition": {
                "StringEquals": {"aws:SourceAccount": organization.management_account_id},
                "ArnLike": {
                    "aws:SourceArn": f"arn:{organization.partition}:cloudwatch:{organization.region}:{organization.management_account_id}:alarm:*"
                },
            },
        },
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:Publish",
            "Resource": arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    )


# --- the Insights notifier ----------------------------------------------------------------

NOTIFIER = "org-trail-insights-notifier"
LAMBDA = "lambda.amazonaws.com"


def notifier_log_group_arn(organization: Organization) -> str:
    return log_group_arn(organization, f"/aws/lambda/{NOTIFIER}")


def notifier_trust_policy(organization: Organization) -> dict:
    """Only Lambda, for a function of the management account, may take the notifier's role."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Service": LAMBDA},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": organization.management_account_id}
            },
        }
    )


def notifier_policy(organization: Organization, topic: str, topic_key_arn: str) -> dict:
    """What the notifier does and nothing else: write its own logs, read an account's name,
    publish to the alarm topic (encrypted: SNS uses the key on the publisher's behalf, so
    the publisher needs GenerateDataKey and Decrypt on it, through SNS only)."""
    o = organization
    return document(
        {
            "Sid": "OwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{notifier_log_group_arn(o)}:*",
        },
        {
            "Sid": "AccountNames",
            "Effect": "Allow",
            "Action": "organizations:DescribeAccount",
            "Resource": f"arn:{o.partition}:organizations::{o.management_account_id}:account/{o.organization_id}/*",
        },
        {
            "Sid": "PublishToTheAlarmTopic",
            "Effect": "Allow",
            "Action": "sns:Publish",
            "Resource": alarm_topic_arn(o, topic),
        },
        {
            "Sid": "TopicKeyThroughSns",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": topic_key_arn,
            "Condition": {
                "StringEquals": {"kms:ViaService": f"sns.{o.region}.{DNS_SUFFIXES[o.partition]}"}
            },
        },
    )


# --- AWS Organizations guardrails ----------------------------------------------------------

# What would stop delivery or destroy readability of the logs (Service Authorization
# Reference: Amazon S3 and AWS KMS actions).
PROJECTION_KEEPER = "org-trail-account-projection"


def projection_keeper_trust_policy(organization: Organization) -> dict:
    """Only Lambda, for a function of the security account, may take the keeper's role."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Service": LAMBDA},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": organization.security_account_id}},
        }
    )


def projection_keeper_policy(
    organization: Organization, bucket: str, database: str, tables: Sequence[str]
) -> dict:
    """What the account-projection keeper does and nothing else: list the account folders
    under the organisation's prefix, read and update the analysis tables, write its logs."""
    o = organization
    glue = f"arn:{o.partition}:glue:{o.region}:{o.security_account_id}"
    return document(
        {
            "Sid": "ListTheAccountFolders",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn(o, bucket),
            "Condition": {"StringEquals": {"s3:prefix": f"AWSLogs/{o.organization_id}/"}},
        },
        {
            "Sid": "ProjectTheAccounts",
            "Effect": "Allow",
            "Action": ["glue:GetTable", "glue:UpdateTable"],
            "Resource": [
                f"{glue}:catalog",
                f"{glue}:database/{database}",
                *(f"{glue}:table/{database}/{table}" for table in tables),
            ],
        },
        {
            "Sid": "OwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:{o.partition}:logs:{o.region}:{o.security_account_id}:"
            f"log-group:/aws/lambda/{PROJECTION_KEEPER}:*",
        },
    )


LOG_READER = "org-trail-log-reader"
# What the operator commands read through the log reader (verify, cutover, cost): the two
# log buckets' settings, the listing of the logs and the logs themselves.
LOG_READER_BUCKET_ACTIONS = (
    "s3:ListBucket",
    "s3:GetBucketLocation",
    "s3:GetBucketPolicy",
    "s3:GetBucketVersioning",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetEncryptionConfiguration",
    "s3:GetBucketLogging",
    "s3:GetLifecycleConfiguration",
)


def named_roles_trust_policy(organization: Organization, principals: Sequence[str]) -> dict:
    """Named roles of the management account only: the account is the principal (so the
    policy is accepted before the roles exist) and `aws:PrincipalArn` names each role."""
    o = organization
    return document(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{o.partition}:iam::{o.management_account_id}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"ArnEquals": {"aws:PrincipalArn": list(principals)}},
        }
    )


def log_reader_policy(
    organization: Organization, buckets: Sequence[str], key_arn: str, database: str
) -> dict:
    """Read only: the log buckets' settings and objects, the trail key's settings (and
    decrypting the logs through S3), the Athena tables' definitions."""
    o = organization
    glue = f"arn:{o.partition}:glue:{o.region}:{o.security_account_id}"
    return document(
        {
            "Sid": "TheLogBuckets",
            "Effect": "Allow",
            "Action": list(LOG_READER_BUCKET_ACTIONS),
            "Resource": [bucket_arn(o, bucket) for bucket in buckets],
        },
        {
            "Sid": "TheLogs",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": [f"{bucket_arn(o, bucket)}/*" for bucket in buckets],
        },
        {
            "Sid": "TheTrailKey",
            "Effect": "Allow",
            "Action": ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus"],
            "Resource": key_arn,
        },
        {
            "Sid": "DecryptTheLogsThroughS3",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": service_endpoint(o, "s3")}},
        },
        {
            "Sid": "TheTables",
            "Effect": "Allow",
            "Action": ["glue:GetDatabase", "glue:GetTable"],
            "Resource": [
                f"{glue}:catalog",
                f"{glue}:database/{database}",
                f"{glue}:table/{database}/*",
            ],
        },
    )


MEMBER_OPERATOR = "org-trail-member"
MEMBER_ROLES_STACK_SET = "org-trail-member-roles"
# A member account's own ARNs, resolved by CloudFormation in each account of the StackSet.
THIS_ACCOUNT = "${AWS::AccountId}"
THIS_PARTITION = "${AWS::Partition}"


def _in_member(text: str) -> dict:
    return {"Fn::Sub": text}


# A member account's own buckets, whatever their names or number: the template stays the
# same size for 5 legacy buckets or 5,000 (IAM's 10,240-character inline policy limit).
OWN_BUCKETS = {"StringEquals": {"s3:ResourceAccount": _in_member(THIS_ACCOUNT)}}


def member_operator_policy() -> dict:
    """What inventory, cutover and cost --glacier do in a member account: read its trails,
    regions and buckets' settings, stop (never delete) its own trails, list its own buckets
    (the legacy buckets' storage, sampled by cost --glacier)."""
    trails = f"arn:{THIS_PARTITION}:cloudtrail:*:{THIS_ACCOUNT}:trail/*"
    return document(
        {
            "Sid": "ReadTrailsAndRegions",
            "Effect": "Allow",
            "Action": [
                "cloudtrail:DescribeTrails",
                "cloudtrail:ListTrails",
                "cloudtrail:GetTrailStatus",
                "cloudtrail:GetEventSelectors",
                "cloudtrail:GetInsightSelectors",
                "account:ListRegions",
                "ec2:DescribeRegions",
                "s3:ListAllMyBuckets",
                "s3:GetBucketLocation",
                "s3:GetLifecycleConfiguration",
                "cloudwatch:GetMetricStatistics",
            ],
            "Resource": "*",
        },
        {
            "Sid": "StopTheAccountsOwnTrails",
            "Effect": "Allow",
            "Action": "cloudtrail:StopLogging",
            "Resource": _in_member(trails),
        },
        {
            "Sid": "ListTheAccountsOwnBuckets",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "*",
            "Condition": OWN_BUCKETS,
        },
    )


def member_preview_policy() -> dict:
    """What `pulumi preview` of the management stack reads in a member account: each of its
    own buckets as Cloud Control API describes it (a legacy bucket's lifecycle rules, to keep
    them: components/kept_rules.py), and the refresh of its lifecycle configuration. Cloud
    Control's read of an AWS::S3::Bucket runs the bucket's Get* calls with the caller's
    permissions: bucket-level reads of the account's own buckets (`s3:ResourceAccount`)."""
    return document(
        {
            "Sid": "DescribeTheLegacyBuckets",
            "Effect": "Allow",
            "Action": "cloudformation:GetResource",
            "Resource": "*",
        },
        {
            "Sid": "ReadTheAccountsOwnBucketsSettings",
            "Effect": "Allow",
            # Bucket settings only: no object action is named GetBucket* or Get*Configuration.
            "Action": ["s3:GetBucket*", "s3:Get*Configuration", "s3:ListBucket"],
            "Resource": _in_member(f"arn:{THIS_PARTITION}:s3:::*"),
            "Condition": OWN_BUCKETS,
        },
    )


def member_roles_template(
    organization: Organization,
    operator_principals: Sequence[str],
    preview_principals: Sequence[str],
    preview_role_name: str | None,
) -> dict:
    """The CloudFormation template the StackSet deploys to every member account."""
    roles = []
    if operator_principals:
        roles.append(
            (
                "OperatorRole",
                MEMBER_OPERATOR,
                operator_principals,
                member_operator_policy(),
            )
        )
    if preview_principals and preview_role_name:
        roles.append(
            ("PreviewRole", preview_role_name, preview_principals, member_preview_policy())
        )
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "org-trail: roles the management account's named roles assume here",
        "Resources": {
            logical: {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": name,
                    "AssumeRolePolicyDocument": named_roles_trust_policy(organization, principals),
                    "Policies": [{"PolicyName": name, "PolicyDocument": policy}],
                },
            }
            for logical, name, principals, policy in roles
        },
    }


# What `orgtrail verify` reads in the management account (docs/operator-cli.md, "IAM
# permissions"); each needs no resource narrower than "*" to be useful across the trail,
# the policies and the alert path, and none of them writes.
VERIFY_READS = (
    "cloudtrail:DescribeTrails",
    "cloudtrail:GetTrailStatus",
    "cloudtrail:GetEventSelectors",
    "cloudtrail:GetInsightSelectors",
    "organizations:DescribeOrganization",
    "organizations:ListAccounts",
    "organizations:ListRoots",
    "organizations:ListPolicies",
    "organizations:ListTargetsForPolicy",
    "organizations:DescribePolicy",
    "sns:GetTopicAttributes",
    "sns:ListSubscriptionsByTopic",
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "cloudwatch:DescribeAlarmsForMetric",
    "logs:DescribeSubscriptionFilters",
    "lambda:GetFunction",
    "lambda:GetPolicy",
    "lambda:GetFunctionEventInvokeConfig",
    "iam:ListRolePolicies",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
)


def verify_workflow_policy(organization: Organization, topic: str, topic_key_arn: str) -> dict:
    """The scheduled verify workflow's role in the management account (the management
    stack's output `verifyWorkflowPolicy`, for the role your identity provider's OIDC tokens
    assume): verify's reads, the log reader, and telling the alarm topic what failed."""
    o = organization
    return document(
        {"Sid": "VerifyReads", "Effect": "Allow", "Action": list(VERIFY_READS), "Resource": "*"},
        {
            "Sid": "ReadTheLogsThroughTheLogReader",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": f"arn:{o.partition}:iam::{o.security_account_id}:role/{LOG_READER}",
        },
        {
            "Sid": "TellTheAlarmTopic",
            "Effect": "Allow",
            "Action": "sns:Publish",
            "Resource": alarm_topic_arn(o, topic),
        },
        {
            "Sid": "TheTopicKeyThroughSns",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": topic_key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": service_endpoint(o, "sns")}},
        },
    )


PIPELINE_BUCKET_ACTIONS = (
    "s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:PutBucketPolicy", "s3:PutLifecycleConfiguration",
    "s3:PutBucketVersioning", "s3:PutEncryptionConfiguration", "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketPublicAccessBlock", "s3:PutBucketOwnershipControls", "s3:PutBucketLogging",
    "s3:PutBucketAcl",
)  # fmt: skip
PIPELINE_OBJECT_ACTIONS = ("s3:BypassGovernanceRetention",)
PIPELINE_KEY_ACTIONS = (
    "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy", "kms:DisableKeyRotation",
    "kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias",
)  # fmt: skip


def s3_block_public_access_policy() -> dict:
    """Organizations S3 policy: all four Block Public Access settings, in every target account
    (Organizations user guide, "Amazon S3 policy syntax and examples")."""
    return {"s3_attributes": {"public_access_block_configuration": {"@@assign": "all"}}}


def protect_pipeline_scp(
    organization: Organization, buckets: Sequence[str], key_arn: str, exempt_roles: Sequence[str]
) -> dict:
    """SCP for the security account: the log buckets and key cannot be taken apart, except by
    the exempt roles (the security stack's deployer, break-glass)."""
    unless_exempt = {"ArnNotLike": {"aws:PrincipalArn": list(exempt_roles)}}
    arns = [bucket_arn(organization, bucket) for bucket in buckets]
    return document(
        {
            "Sid": "ProtectLogBuckets",
            "Effect": "Deny",
            "Action": list(PIPELINE_BUCKET_ACTIONS),
            "Resource": arns,
            "Condition": unless_exempt,
        },
        {
            "Sid": "KeepLockedLogsLocked",
            "Effect": "Deny",
            "Action": list(PIPELINE_OBJECT_ACTIONS),
            "Resource": [f"{arn}/*" for arn in arns],
            "Condition": unless_exempt,
        },
        {
            "Sid": "ProtectTrailKey",
            "Effect": "Deny",
            "Action": list(PIPELINE_KEY_ACTIONS),
            "Resource": key_arn,
            "Condition": unless_exempt,
        },
    )


def deny_leave_organization_scp() -> dict:
    """SCP: no member account leaves the organisation, and so the organization trail."""
    return document(
        {
            "Sid": "StayInTheOrganization",
            "Effect": "Deny",
            "Action": "organizations:LeaveOrganization",
            "Resource": "*",
        }
    )


def log_data_perimeter_rcp(
    organization: Organization, buckets: Sequence[str], key_arn: str
) -> dict:
    """RCP for the security account: the log buckets and key answer only principals of the
    organisation and AWS services (CloudTrail, S3 log delivery), whatever a resource policy says.

    An RCP rather than an SCP: it bounds who may reach the *resources* from anywhere, including
    accounts outside the organisation that an SCP never sees. `aws:PrincipalIsAWSService`
    keeps CloudTrail's and S3 logging's service access (AWS's data perimeter examples).
    """
    arns = [bucket_arn(organization, bucket) for bucket in buckets]
    return document(
        {
            "Sid": "LogsOnlyInsideTheOrganization",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["s3:*", "kms:*"],
            "Resource": [*arns, *(f"{arn}/*" for arn in arns), key_arn],
            "Condition": {
                "StringNotEqualsIfExists": {"aws:PrincipalOrgID": organization.organization_id},
                "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
            },
        }
    )

"""A seeded AWS Organization in moto_server, on a free loopback port.

moto_server is a real HTTP AWS API emulator: boto3 talks to it exactly as to
AWS (AWS_ENDPOINT_URL), accounts are separated by credentials, and STS
assume-role moves between them. IAM authorisation is switched on after
seeding, so a member account whose role has no permissions answers
AccessDenied, as a real account would.
"""

from __future__ import annotations

import fcntl
import gzip
import io
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import botocore.session

from components.log_analysis import projection
from orgtrail.analysis.cloudtrail_schema import DATABASE, PARTITIONS, TABLE
from orgtrail.contract.config import Organization
from orgtrail.contract.policy_documents import (
    ALARM_TOPIC,
    INSIGHTS_PATTERN,
    NOTIFIER,
    alarm_topic_key_policy,
    alarm_topic_policy,
    deny_leave_organization_scp,
    log_bucket_policy,
    log_data_perimeter_rcp,
    log_group_arn,
    notifier_policy,
    notifier_trust_policy,
    protect_pipeline_scp,
)
from orgtrail.project import CHECKOUT

MANAGEMENT = "123456789012"  # moto's default account: the caller of the seeded organisation
ROLE = "OrganizationAccountAccessRole"
REGIONS = ("us-east-1", "eu-west-1")
ALLOW_ALL = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)
CENTRAL_BUCKET = "acme-org-trail-logs"
SHARED_LEGACY_BUCKET = "acme-shared-legacy-trails"
TRAIL_NAME = "org-trail"
NOTIFIER_HANDLER = CHECKOUT / "functions" / "insights_notifier" / "handler.py"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MotoServer:
    """moto_server on a free loopback port, started here; or, given its `url`, one already
    running that someone else stops."""

    def __init__(self, url: str | None = None):
        self.process: subprocess.Popen | None = None
        if url is not None:
            self.url, self.port = url, urlsplit(url).port
            return
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._start()

    def _start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.moto_main",
                "-H",
                "127.0.0.1",
                "-p",
                str(self.port),
            ],
            cwd=CHECKOUT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)

    def _post(self, path: str, body: bytes = b"") -> None:
        request = urllib.request.Request(
            f"{self.url}{path}", data=body, method="POST", headers={"Content-Type": "text/plain"}
        )
        urllib.request.urlopen(request, timeout=10).close()

    def reset(self) -> None:
        """Forget every account and resource; authorisation off again."""
        self._post("/moto-api/reset-auth", b"inf")
        self._post("/moto-api/reset")

    def enforce_iam(self) -> None:
        self._post("/moto-api/reset-auth", b"0")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@contextmanager
def borrowed_server(urls: list[str]) -> Iterator[MotoServer]:
    """One of the running servers at `urls`, held by a lock file until the block ends.

    `make mutation` starts one server per worker (ORGTRAIL_MOTO_SERVERS), so the test run of
    each mutant does not start and stop its own; seeding resets what the last holder left.
    """
    while True:
        for url in urls:
            path = Path(tempfile.gettempdir()) / f"orgtrail-moto-{urlsplit(url).port}.lock"
            with path.open("w") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                yield MotoServer(url)
                return
        time.sleep(0.05)


def all_s3_objects_but(prefixes: list[str]) -> list[dict]:
    """Advanced event selectors: every management event, and S3 object events of every object
    except those under `prefixes`."""
    return [
        {
            "Name": "Management events selector",
            "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}],
        },
        {
            "Name": "S3 object data events",
            "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Data"]},
                {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                {"Field": "resources.ARN", "NotStartsWith": prefixes},
            ],
        },
    ]


# One botocore session for every LoopbackSession: a session loads service models and the
# endpoint resolver once (about 60 ms a client otherwise, most of the seeding time).
_BOTOCORE = botocore.session.get_session()


class LoopbackSession:
    """Clients for one set of credentials that can only ever reach the emulator."""

    def __init__(self, endpoint: str, credentials: dict, region: str = "us-east-1"):
        self.endpoint = endpoint
        self.region_name = region
        self.keys = {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials.get("SessionToken"),
        }

    def client(self, service: str, region_name: str | None = None, **kwargs):
        return _BOTOCORE.create_client(
            service,
            region_name=region_name or self.region_name,
            endpoint_url=self.endpoint,
            **self.keys,
            **kwargs,
        )


@dataclass
class SeededOrg:
    """What the tests need to know about the organisation they run against."""

    admin: LoopbackSession
    key: dict[str, str]  # the management account's administrator
    environment: dict[str, str]
    organization_id: str
    accounts: dict[str, str] = field(default_factory=dict)  # name -> account ID
    credentials: dict[str, dict] = field(
        default_factory=dict
    )  # account ID -> assumed-role credentials
    key_arn: str = ""  # the trail's and the central bucket's key, in the security account

    def member(self, name_or_id: str, region: str = "us-east-1") -> LoopbackSession:
        account_id = self.accounts.get(name_or_id, name_or_id)
        if account_id == MANAGEMENT:
            return LoopbackSession(self.environment["AWS_ENDPOINT_URL"], self.key, region)
        if account_id not in self.credentials:
            self.credentials[account_id] = self.admin.client("sts").assume_role(
                RoleArn=f"arn:aws:iam::{account_id}:role/{ROLE}", RoleSessionName="test-seed"
            )["Credentials"]
        return LoopbackSession(
            self.environment["AWS_ENDPOINT_URL"], self.credentials[account_id], region
        )

    @property
    def organization(self) -> Organization:
        return Organization(
            organization_id=self.organization_id,
            management_account_id=MANAGEMENT,
            security_account_id=self.accounts["security"],
            trail_name=TRAIL_NAME,
            region="us-east-1",
        )

    @property
    def trail_arn(self) -> str:
        return self.organization.trail_arn

    def deliver(
        self,
        account: str,
        region: str,
        at: datetime,
        bucket: str = CENTRAL_BUCKET,
        prefix: str = "",
    ) -> str:
        """Put a log file where the organization trail delivers one, named for its delivery time
        (under the trail's S3 key prefix, when it has one)."""
        account_id = self.accounts.get(account, account)
        stamp = at.astimezone(UTC)
        key = (
            f"{prefix + '/' if prefix else ''}AWSLogs/{self.organization_id}/{account_id}/CloudTrail/{region}/{stamp:%Y/%m/%d}/"
            f"{account_id}_CloudTrail_{region}_{stamp:%Y%m%dT%H%MZ}_{stamp:%S}{stamp.microsecond:06d}.json.gz"
        )
        body = gzip.compress(json.dumps({"Records": []}).encode())
        self.security_s3.put_object(Bucket=bucket, Key=key, Body=body)
        return key

    @cached_property
    def security_s3(self):
        return self.member("security").client("s3")

    def deliver_every(
        self,
        account: str,
        region: str,
        start: datetime,
        end: datetime,
        step_minutes: int = 30,
        prefix: str = "",
    ) -> int:
        count, at = 0, start
        while at <= end:
            self.deliver(account, region, at, prefix=prefix)
            count += 1
            at += timedelta(minutes=step_minutes)
        return count


def _admin_user(server: MotoServer) -> dict:
    root = LoopbackSession(server.url, {"AccessKeyId": "seed", "SecretAccessKey": "seed"})
    iam = root.client("iam")
    iam.create_user(UserName="org-admin")
    iam.put_user_policy(UserName="org-admin", PolicyName="administrator", PolicyDocument=ALLOW_ALL)
    return iam.create_access_key(UserName="org-admin")["AccessKey"]


def seed(server: MotoServer) -> SeededOrg:
    """An organisation with a security account, members with and without legacy trails,
    a suspended account and one whose role may do nothing."""
    server.reset()
    key = _admin_user(server)
    environment = {
        "AWS_ENDPOINT_URL": server.url,
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": "2",
    }
    return _seed(server, environment)


def _seed(server: MotoServer, environment: dict[str, str]) -> SeededOrg:
    key = {
        "AccessKeyId": environment["AWS_ACCESS_KEY_ID"],
        "SecretAccessKey": environment["AWS_SECRET_ACCESS_KEY"],
    }
    admin = LoopbackSession(server.url, key)
    organizations = admin.client("organizations")
    organization_id = organizations.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    org = SeededOrg(admin, key, environment, organization_id, {"management": MANAGEMENT})
    for name in ("security", "payments", "data", "sandbox", "closed", "locked-out"):
        created = organizations.create_account(Email=f"{name}@example.com", AccountName=name)
        org.accounts[name] = created["CreateAccountStatus"]["AccountId"]
    for name in ("security", "payments", "data", "sandbox"):
        org.member(name).client("iam").put_role_policy(
            RoleName=ROLE, PolicyName="administrator", PolicyDocument=ALLOW_ALL
        )
    organizations.close_account(AccountId=org.accounts["closed"])

    _central_bucket(org)
    _legacy_trail(org, "payments", "eu-west-1", "default", "acme-payments-trail")
    _legacy_trail(
        org,
        "data",
        "us-east-1",
        "audit",
        "acme-data-audit",
        prefix="audit",
        multi_region=True,
        lifecycle=True,
    )
    _legacy_trail(org, "management", "us-east-1", "management-events", "acme-management-trail")
    # A bucket the data account owns in another region, written by the security account's trail.
    _bucket(org.member("data", "eu-central-1").client("s3"), SHARED_LEGACY_BUCKET, "eu-central-1")
    _legacy_trail(
        org, "security", "us-east-1", "security-legacy", SHARED_LEGACY_BUCKET, owned=False
    )
    _organization_trail(org)
    _alert_path(org)
    _guardrails(org)
    _analysis(org)
    server.enforce_iam()
    return org


def _analysis(org: SeededOrg) -> None:
    """The security stack's events table, its account projection listing every account (as
    the keeper function leaves it once each has delivered)."""
    glue = org.member("security").client("glue")
    glue.create_database(DatabaseInput={"Name": DATABASE})
    create_analysis_table(glue, org.organization_id, TABLE, "CloudTrail", org.accounts.values())


def create_analysis_table(
    glue, organization_id: str, table: str, folder: str, accounts: Iterable[str]
) -> None:
    """A table of the security stack's analysis as the component defines its parameters."""
    analysis = SimpleNamespace(
        account_ids=sorted(accounts), regions=["us-east-1"], start_date="2026/01/01"
    )
    parameters = projection(analysis, CENTRAL_BUCKET, organization_id, folder)
    glue.create_table(
        DatabaseName=DATABASE,
        TableInput={
            "Name": table,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"EXTERNAL": "TRUE", **parameters},
            "PartitionKeys": [{"Name": p, "Type": "string"} for p in PARTITIONS],
            "StorageDescriptor": {"Location": f"s3://{CENTRAL_BUCKET}/AWSLogs/", "Columns": []},
        },
    )


def _central_bucket(org: SeededOrg) -> None:
    kms = org.member("security").client("kms")
    org.key_arn = kms.create_key(Description="org-trail logs")["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/org-trail", TargetKeyId=org.key_arn)
    s3 = org.member("security").client("s3")
    s3.create_bucket(Bucket=CENTRAL_BUCKET, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(
        Bucket=CENTRAL_BUCKET,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 365}},
        },
    )
    s3.put_bucket_versioning(Bucket=CENTRAL_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_public_access_block(
        Bucket=CENTRAL_BUCKET,
        PublicAccessBlockConfiguration=dict.fromkeys(
            ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"),
            True,
        ),
    )
    s3.put_bucket_encryption(
        Bucket=CENTRAL_BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": org.key_arn,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    policy = log_bucket_policy(org.organization, CENTRAL_BUCKET)
    # moto applies a bucket policy's Deny statements without evaluating their conditions, so
    # the TLS-only Deny would refuse every request: leave it out of the emulated bucket.
    policy["Statement"] = [s for s in policy["Statement"] if s["Effect"] != "Deny"]
    s3.put_bucket_policy(Bucket=CENTRAL_BUCKET, Policy=json.dumps(policy))


def _bucket(s3, bucket: str, region: str) -> None:
    location = (
        {}
        if region == "us-east-1"
        else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    )
    s3.create_bucket(Bucket=bucket, **location)


def _legacy_trail(
    org: SeededOrg,
    account: str,
    region: str,
    name: str,
    bucket: str,
    prefix: str = "",
    multi_region: bool = False,
    lifecycle: bool = False,
    owned: bool = True,
) -> None:
    member = org.member(account, region)
    s3 = member.client("s3")
    if owned:
        _bucket(s3, bucket, region)
    if lifecycle:
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket,
            LifecycleConfiguration={
                "Rules": [
                    {
                        "ID": "expire-after-a-year",
                        "Status": "Enabled",
                        "Filter": {"Prefix": ""},
                        "Expiration": {"Days": 365},
                    }
                ]
            },
        )
    cloudtrail = member.client("cloudtrail")
    where = {"S3BucketName": bucket, **({"S3KeyPrefix": prefix} if prefix else {})}
    cloudtrail.create_trail(Name=name, IsMultiRegionTrail=multi_region, **where)
    cloudtrail.start_logging(Name=name)


def _guardrails(org: SeededOrg) -> None:
    """The stack's SCPs and RCP, attached (moto has no S3 policies: the tests expect none)."""
    organizations = org.admin.client("organizations")
    root = organizations.list_roots()["Roots"][0]["Id"]
    for kind in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"):
        organizations.enable_policy_type(RootId=root, PolicyType=kind)
    deploy = f"arn:aws:iam::{org.accounts['security']}:role/deploy"
    buckets = [CENTRAL_BUCKET]
    for name, kind, target, content in (
        ("org-trail-deny-leave-organization", "SERVICE_CONTROL_POLICY", root, deny_leave_organization_scp()),
        ("org-trail-protect-log-pipeline", "SERVICE_CONTROL_POLICY", org.accounts["security"],
         protect_pipeline_scp(org.organization, buckets, org.key_arn, [deploy])),
        ("org-trail-log-data-perimeter", "RESOURCE_CONTROL_POLICY", org.accounts["security"],
         log_data_perimeter_rcp(org.organization, buckets, org.key_arn)),
    ):  # fmt: skip
        policy = organizations.create_policy(
            Name=name, Type=kind, Content=json.dumps(content), Description=name
        )["Policy"]["PolicySummary"]["Id"]
        organizations.attach_policy(PolicyId=policy, TargetId=target)


def _alert_path(org: SeededOrg) -> None:
    """The management stack's alert path, with the project's own policy documents: the
    encrypted alarm topic and a confirmed subscription, the silent-trail alarm, and the
    Insights notifier subscribed to the trail's log group."""
    o = org.organization
    kms = org.admin.client("kms")
    key = kms.create_key(Policy=json.dumps(alarm_topic_key_policy(o)))["KeyMetadata"]["Arn"]
    org.alarm_key_arn = key
    sns = org.admin.client("sns")
    topic = sns.create_topic(
        Name=ALARM_TOPIC,
        Attributes={
            "KmsMasterKeyId": key,
            "Policy": json.dumps(alarm_topic_policy(o, ALARM_TOPIC)),
        },
    )["TopicArn"]
    sqs = org.admin.client("sqs")
    queue = sqs.create_queue(QueueName="on-call")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
    group = f"/aws/cloudtrail/{TRAIL_NAME}"
    org.admin.client("cloudwatch").put_metric_alarm(
        AlarmName="org-trail-silent-trail",
        Namespace="AWS/Logs",
        MetricName="IncomingLogEvents",
        Dimensions=[{"Name": "LogGroupName", "Value": group}],
        Statistic="Sum",
        Period=3600,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="LessThanThreshold",
        TreatMissingData="breaching",
        ActionsEnabled=True,
        AlarmActions=[topic],
        OKActions=[topic],
    )
    iam = org.admin.client("iam")
    role = iam.create_role(
        RoleName=NOTIFIER, AssumeRolePolicyDocument=json.dumps(notifier_trust_policy(o))
    )["Role"]["Arn"]
    iam.put_role_policy(
        RoleName=NOTIFIER,
        PolicyName="notifier",
        PolicyDocument=json.dumps(notifier_policy(o, ALARM_TOPIC, key)),
    )
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.write(NOTIFIER_HANDLER, "handler.py")
    lambda_ = org.admin.client("lambda")
    function = lambda_.create_function(
        FunctionName=NOTIFIER,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handle",
        Code={"ZipFile": code.getvalue()},
        Environment={"Variables": {"TOPIC_ARN": topic}},
    )["FunctionArn"]
    lambda_.add_permission(
        FunctionName=NOTIFIER,
        StatementId="logs",
        Action="lambda:InvokeFunction",
        Principal="logs.amazonaws.com",
        SourceArn=f"{log_group_arn(o, group)}:*",
        SourceAccount=MANAGEMENT,
    )
    lambda_.put_function_event_invoke_config(
        FunctionName=NOTIFIER,
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": topic}},
    )
    org.admin.client("logs").put_subscription_filter(
        logGroupName=group,
        filterName="org-trail-insights",
        filterPattern=INSIGHTS_PATTERN,
        destinationArn=function,
    )


def _organization_trail(org: SeededOrg) -> None:
    logs = org.admin.client("logs")
    logs.create_log_group(logGroupName=f"/aws/cloudtrail/{TRAIL_NAME}")
    group = logs.describe_log_groups()["logGroups"][0]["arn"]
    role = org.admin.client("iam").create_role(
        RoleName="org-trail-cloudwatch-delivery", AssumeRolePolicyDocument=ALLOW_ALL
    )["Role"]["Arn"]
    cloudtrail = org.admin.client("cloudtrail")
    cloudtrail.create_trail(
        CloudWatchLogsLogGroupArn=group if group.endswith(":*") else f"{group}:*",
        CloudWatchLogsRoleArn=role,
        Name=TRAIL_NAME,
        S3BucketName=CENTRAL_BUCKET,
        IsMultiRegionTrail=True,
        IsOrganizationTrail=True,
        IncludeGlobalServiceEvents=True,
        EnableLogFileValidation=True,
        KmsKeyId=org.key_arn,
    )
    cloudtrail.put_insight_selectors(
        TrailName=TRAIL_NAME,
        InsightSelectors=[
            {"InsightType": "ApiCallRateInsight"},
            {"InsightType": "ApiErrorRateInsight"},
        ],
    )
    cloudtrail.put_event_selectors(
        TrailName=TRAIL_NAME,
        AdvancedEventSelectors=[
            {
                "Name": "Management events",
                "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}],
            },
            {
                "Name": "S3 object data events",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                ],
            },
            {
                "Name": "Lambda data events",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::Lambda::Function"]},
                ],
            },
        ],
    )
    cloudtrail.start_logging(Name=TRAIL_NAME)

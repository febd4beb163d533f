"""The AWS calls code really makes, recorded on their way out of botocore, and the IAM
requests each one is authorised as (the Service Authorization Reference's action and
resource for the operation), so a policy can be evaluated against what was done."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from botocore.client import BaseClient

from orgtrail.contract.config import Organization
from orgtrail.policy_eval import Request

# S3 bucket operations and the IAM action each is authorised as (Service Authorization
# Reference, Amazon S3: the action's name differs from the operation's for several).
S3_BUCKET_ACTIONS = {
    "GetBucketLocation": "s3:GetBucketLocation",
    "GetBucketPolicy": "s3:GetBucketPolicy",
    "GetBucketVersioning": "s3:GetBucketVersioning",
    "GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
    "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "GetBucketLogging": "s3:GetBucketLogging",
    "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "HeadBucket": "s3:ListBucket",
}
# Operations authorised on no particular resource (Resource "*" in the reference).
ANY_RESOURCE = {
    ("cloudtrail", "DescribeTrails"): "cloudtrail:DescribeTrails",
    ("cloudtrail", "ListTrails"): "cloudtrail:ListTrails",
    ("ec2", "DescribeRegions"): "ec2:DescribeRegions",
    ("account", "ListRegions"): "account:ListRegions",
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("cloudwatch", "GetMetricStatistics"): "cloudwatch:GetMetricStatistics",
}
TRAIL_OPERATIONS = (
    "GetTrailStatus",
    "GetEventSelectors",
    "GetInsightSelectors",
    "StopLogging",
    "StartLogging",
)
SAME_NAME_SERVICES = ("organizations", "sns", "cloudwatch", "logs", "lambda", "iam")
KMS_KEY_OPERATIONS = ("DescribeKey", "GetKeyPolicy", "GetKeyRotationStatus", "Decrypt")


@dataclass(frozen=True)
class Call:
    service: str  # botocore's service name (s3, glue, ...)
    operation: str
    params: dict[str, Any] = field(default_factory=dict)
    region: str = ""
    access_key: str = ""


@contextmanager
def recorded_calls() -> Iterator[list[Call]]:
    """Every call any botocore client makes inside the block, in order."""
    calls: list[Call] = []
    original = BaseClient._make_api_call

    def recording(client, operation_name, api_params):
        calls.append(
            Call(
                client.meta.service_model.service_name,
                operation_name,
                dict(api_params),
                client.meta.region_name,
                client._request_signer._credentials.access_key,
            )
        )
        return original(client, operation_name, api_params)

    with mock.patch.object(BaseClient, "_make_api_call", recording):
        yield calls


def requests_of(
    calls: list[Call],
    organization: Organization,
    *,
    table: str | None = None,
    account: str | None = None,
) -> Iterator[Request]:
    """The IAM requests of the calls the project makes (Service Authorization Reference:
    ListObjectsV2 is authorised as s3:ListBucket with s3:prefix; a Glue table operation
    needs the action on the catalog, the database and the table). `table` stands another
    table in, to probe what a policy refuses; `account` is the account the calls were made
    in, for the ARN of a trail named by its name."""
    o = organization
    for call in calls:
        bucket = f"arn:{o.partition}:s3:::{call.params.get('Bucket', '')}"
        # In a member account the legacy buckets are its own (s3:ResourceAccount).
        owner = {"s3:ResourceAccount": account} if account else {}
        if (call.service, call.operation) == ("s3", "ListObjectsV2"):
            yield Request(
                "s3:ListBucket",
                bucket,
                context={"s3:prefix": call.params.get("Prefix", ""), **owner},
            )
        elif call.service == "s3" and call.operation in S3_BUCKET_ACTIONS:
            yield Request(S3_BUCKET_ACTIONS[call.operation], bucket, context=owner)
        elif call.service == "s3" and call.operation in ("GetObject", "HeadObject"):
            yield Request("s3:GetObject", f"{bucket}/{call.params['Key']}")
        elif call.service == "kms" and call.operation in KMS_KEY_OPERATIONS:
            key = call.params["KeyId"]
            if not key.startswith("arn:"):
                if account is None:
                    raise LookupError(f"{call.operation} names key {key!r}: give the account")
                key = f"arn:{o.partition}:kms:{call.region}:{account}:key/{key}"
            yield Request(f"kms:{call.operation}", key)
        elif (call.service, call.operation) in ANY_RESOURCE:
            yield Request(ANY_RESOURCE[call.service, call.operation], "*")
        elif call.service == "cloudtrail" and call.operation in TRAIL_OPERATIONS:
            name = call.params.get("Name") or call.params.get("TrailName", "")
            if not name.startswith("arn:"):
                name = f"arn:{o.partition}:cloudtrail:{call.region}:{account}:trail/{name}"
            yield Request(f"cloudtrail:{call.operation}", name)
        elif call.service == "glue" and call.operation in ("GetTable", "UpdateTable"):
            database = call.params["DatabaseName"]
            name = table or call.params.get("Name") or call.params["TableInput"]["Name"]
            glue = f"arn:{o.partition}:glue:{call.region}:{o.security_account_id}"
            for resource in (
                f"{glue}:catalog",
                f"{glue}:database/{database}",
                f"{glue}:table/{database}/{name}",
            ):
                yield Request(f"glue:{call.operation}", resource)
        elif (call.service, call.operation) == ("sts", "AssumeRole"):
            yield Request("sts:AssumeRole", call.params["RoleArn"])
        elif (call.service, call.operation) == ("sts", "GetCallerIdentity"):
            continue  # "No permissions are required to perform this operation" (STS reference)
        elif call.service in SAME_NAME_SERVICES:
            # These services authorise each operation as the action of the same name.
            yield Request(f"{call.service}:{call.operation}", "*")
        else:
            raise LookupError(f"no IAM mapping for {call.service}:{call.operation} yet")


def in_account(document: Any, account: str, partition: str = "aws") -> Any:
    """A CloudFormation document as one account's stack resolves it: each `Fn::Sub` with
    `${AWS::AccountId}` and `${AWS::Partition}` substituted."""
    if isinstance(document, dict):
        if set(document) == {"Fn::Sub"}:
            text = document["Fn::Sub"]
            return text.replace("${AWS::AccountId}", account).replace(
                "${AWS::Partition}", partition
            )
        return {key: in_account(value, account, partition) for key, value in document.items()}
    if isinstance(document, list):
        return [in_account(item, account, partition) for item in document]
    return document

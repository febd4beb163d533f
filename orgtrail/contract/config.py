"""The org-trail config contract: one typed model, and everything derived from it.

`StackConfig` is the contract. Validation (`load_settings`), the declarations
in Pulumi.yaml, the configuration reference's table (docs/configuration.md) and the editor schema for the stack
files (`orgtrail.contract.derived`) all come from it, so they cannot drift apart.

Values arrive the way the Pulumi engine hands them to a program (strings,
with objects and arrays as JSON), or as native YAML values when a stack file
is read directly. `load_settings` reports every problem in one `ConfigError`,
each naming its key and what is allowed, before anything is registered.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from functools import cache, partial
from typing import Annotated, Any, Literal

import botocore
import botocore.session
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)
from pydantic.alias_generators import to_camel

NAMESPACE = "org-trail"
STACK_KINDS = ("security", "management")
AWS_REGION_KEY = "aws:region"
DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"

LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")
ARCHIVE_STORAGE_CLASSES = ("GLACIER_IR", "GLACIER", "DEEP_ARCHIVE")
# Athena skips objects in these classes unless they are restored first (Athena user guide,
# "Querying restored Amazon S3 Glacier objects"); GLACIER_IR is read like STANDARD.
ATHENA_UNREADABLE_CLASSES = ("GLACIER", "DEEP_ARCHIVE")
# CloudWatch Logs accepts only these retention periods (0 = never expire).
LOG_RETENTION_DAYS = (
    0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
MAX_LOCK_DAYS = 36500  # S3 caps default retention at 100 years.
MAX_LIFECYCLE_RULES = 1000  # per bucket (S3 API reference, PutBucketLifecycleConfiguration)
SUBSCRIPTION_PROTOCOLS = (
    "email", "email-json", "https", "sqs", "lambda", "sms", "firehose", "application",
)  # fmt: skip

# Regions the Athena table projects when analysis.regions is empty: every region of the partition.
PARTITION_REGIONS = {
    "aws": (
        "af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
        "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
        "ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ca-central-1", "ca-west-1",
        "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1",
        "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1", "mx-central-1",
        "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    ),
    "aws-us-gov": ("us-gov-east-1", "us-gov-west-1"),
    "aws-cn": ("cn-north-1", "cn-northwest-1"),
    "aws-iso": ("us-iso-east-1", "us-iso-west-1"),
    "aws-iso-b": ("us-isob-east-1",),
    "aws-iso-e": ("eu-isoe-west-1",),
    "aws-iso-f": ("us-isof-east-1", "us-isof-south-1"),
}  # fmt: skip
COMMERCIAL_REGIONS = PARTITION_REGIONS["aws"]
# Region name prefixes of the partitions other than `aws` (AWS SDK endpoints.json, "partitions").
_PARTITION_PREFIXES = (
    ("us-gov-", "aws-us-gov"),
    ("cn-", "aws-cn"),
    ("us-isob-", "aws-iso-b"),
    ("us-isof-", "aws-iso-f"),
    ("us-iso-", "aws-iso"),
    ("eu-isoe-", "aws-iso-e"),
)

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")
_TRAIL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$")
_TRAIL_NAME_ADJACENT = re.compile(r"[._-]{2}")
_IP_ADDRESS = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_STACK_REFERENCE = re.compile(r"^([A-Za-z0-9_.-]+/){0,2}[A-Za-z0-9_.-]+$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
_ALIAS = re.compile(r"^alias/[A-Za-z0-9/_-]{1,250}$")
_S3_PREFIX = re.compile(r"^[A-Za-z0-9!_.*'()/-]{1,200}$")
_DATE = re.compile(r"^\d{4}/\d{2}/\d{2}$")
_NAMESPACE_NAME = re.compile(r"^[A-Za-z0-9._/#:-]{1,255}$")


def partition_of(region: str) -> str:
    """The ARN partition of a region, so GovCloud, China and ISO need no extra key."""
    for prefix, partition in _PARTITION_PREFIXES:
        if region.startswith(prefix):
            return partition
    return "aws"


def config_key(key: str) -> str:
    return f"{NAMESPACE}:{key}"


def to_engine_value(value: Any) -> str:
    """A YAML value in the form the Pulumi engine passes config to a program."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


class ConfigError(ValueError):
    """Every problem found in one configuration, each naming its key."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        lines = "\n".join(f"  - {key}: {message}" for key, message in problems)
        super().__init__(f"invalid {NAMESPACE} configuration ({len(problems)} problems):\n{lines}")


# --- value rules (each raises ValueError with what is allowed) ----------------


def bucket_name_problem(name: str) -> str | None:
    """Why `name` is not a valid general-purpose S3 bucket name, or None."""
    allowed = "3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit"
    if not _BUCKET_NAME.match(name) or ".." in name:
        return f"{name!r} is not a valid bucket name ({allowed})"
    if _IP_ADDRESS.match(name):
        return f"{name!r} looks like an IP address, which S3 does not allow"
    if name.startswith(_BUCKET_RESERVED_PREFIXES) or name.endswith(_BUCKET_RESERVED_SUFFIXES):
        return f"{name!r} uses a prefix or suffix S3 reserves"
    return None


def trail_name_problem(name: str) -> str | None:
    """Why `name` is not a valid CloudTrail trail name, or None."""
    if not _TRAIL_NAME.match(name) or _TRAIL_NAME_ADJACENT.search(name) or _IP_ADDRESS.match(name):
        return (
            f"{name!r} is not a valid trail name (3-128 letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit, no two of '._-' in a row, not an IP address)"
        )
    return None


# Validators are module functions bound with partial rather than closures: the model's types
# are built at import, and what runs per value is then code of its own (mutation testing,
# which changes only code called after import, can reach it).
def _checked(problem_of: Callable[[str], str | None], value: str) -> str:
    problem = problem_of(value)
    if problem:
        raise ValueError(problem)
    return value


def _rule(problem_of: Callable[[str], str | None]) -> AfterValidator:
    """An AfterValidator from a function returning the problem with a value, or None."""
    return AfterValidator(partial(_checked, problem_of))


def _mismatch(pattern: re.Pattern, what: str, value: str) -> str | None:
    return None if pattern.match(value) else f"{value!r} is not {what}"


def _pattern(pattern: re.Pattern, what: str) -> AfterValidator:
    return _rule(partial(_mismatch, pattern, what))


def _account_text(value: Any) -> Any:
    # YAML reads an unquoted 012345678901 as the number 12345678901.
    if isinstance(value, int) and not isinstance(value, bool) and len(str(value)) < 12:
        raise ValueError(f"{value} lost its leading zeros: quote account IDs in YAML")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _engine_bool(value: Any) -> Any:
    # The Pulumi CLI accepts exactly true/false (pkg/workspace ValidateConfigValue).
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    raise ValueError(f"{value!r} is not allowed: true or false")


def _engine_json(value: Any) -> Any:
    # Objects and arrays reach the program as JSON text.
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as err:
            raise ValueError(f"is not valid JSON ({err.msg})") from None
    return value


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


def _s3_prefix(value: str) -> str:
    prefix = value.strip("/")
    if prefix and not _S3_PREFIX.match(prefix):
        raise ValueError(f"{prefix!r} is not an S3 key prefix CloudTrail accepts")
    return prefix


AccountId = Annotated[
    str,
    BeforeValidator(_account_text),
    _pattern(_ACCOUNT_ID, "a 12-digit AWS account ID"),
    Field(json_schema_extra={"pattern": _ACCOUNT_ID.pattern}),
]


@cache
def known_regions() -> frozenset[str]:
    """Every region of every partition botocore knows (its endpoints data)."""
    session = botocore.session.get_session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("ec2", partition_name=partition)
    )


def region_problem(name: str) -> str | None:
    """A region AWS does not have, with the nearest it does. The AWS provider refuses a
    region it does not know too, unless told to skip the check (terraform-provider-aws,
    `skip_region_validation`, default false); a region newer than this botocore needs a
    newer botocore (`pip install -U boto3`)."""
    if not _REGION.match(name):
        return f"{name!r} is not an AWS region name (like us-east-1)"
    if name in known_regions():
        return None
    close = difflib.get_close_matches(name, sorted(known_regions()), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (
        f"{name!r} is not an AWS region{hint}; regions are those botocore "
        f"{botocore.__version__} lists"
    )


Region = Annotated[
    str,
    _rule(region_problem),
    Field(json_schema_extra={"pattern": _REGION.pattern}),
]
BucketName = Annotated[str, _rule(bucket_name_problem)]
TrailName = Annotated[str, _rule(trail_name_problem)]
Flag = Annotated[bool, BeforeValidator(_engine_bool)]
Days = Annotated[int, Field(ge=0, strict=False)]
RoleName = Annotated[
    str, _pattern(ROLE_NAME, "an IAM role name (1-64 of letters, digits, +=,.@_-)")
]
OptionalText = BeforeValidator(_blank_is_none)


# --- the model -------------------------------------------------------------


class Model(BaseModel):
    """camelCase in config, snake_case in code; unknown fields refused; immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class Organization(Model):
    """What both stacks must agree on to authorise, and then create, the same trail."""

    organization_id: str
    management_account_id: str
    security_account_id: str
    trail_name: str
    region: str

    @property
    def partition(self) -> str:
        return partition_of(self.region)

    @property
    def trail_arn(self) -> str:
        # Deterministic, so the security stack can authorise the trail before it exists.
        return (
            f"arn:{self.partition}:cloudtrail:{self.region}:"
            f"{self.management_account_id}:trail/{self.trail_name}"
        )


class ObjectLock(Model):
    """Default retention of every log object."""

    mode: Literal["GOVERNANCE", "COMPLIANCE"] = "GOVERNANCE"
    days: Annotated[int, Field(ge=1, le=MAX_LOCK_DAYS)] = 365


class Archive(Model):
    """Move logs to a colder class after some days; expire only if asked."""

    archive_after_days: Days = 90
    storage_class: Literal["GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"] = "GLACIER_IR"
    expire_after_days: Annotated[int | None, Field(ge=1)] = None


class LegacyArchive(Archive):
    """Legacy buckets are not queried by Athena: the cheapest long-term class by default."""

    archive_after_days: Days = 30
    storage_class: Literal["GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"] = "GLACIER"


class LegacyTrail(Model):
    """A per-account trail to stop after cutover, and the bucket it writes to.

    The bucket may belong to another account (a central bucket several trails
    share) and live in another region than the trail's home region.
    """

    account_id: AccountId
    region: Region
    trail_name: TrailName
    bucket: BucketName
    # Invited accounts have no OrganizationAccountAccessRole unless someone created it.
    role_name: RoleName = DEFAULT_ROLE_NAME
    bucket_account_id: Annotated[AccountId | None, OptionalText] = None
    bucket_region: Annotated[Region | None, OptionalText] = None
    prefix: Annotated[str, AfterValidator(_s3_prefix)] = ""

    @property
    def bucket_owner(self) -> str:
        return self.bucket_account_id or self.account_id

    @property
    def bucket_home(self) -> str:
        return self.bucket_region or self.region

    @property
    def log_prefix(self) -> str:
        """Where this trail writes in its bucket: [<prefix>/]AWSLogs/."""
        return f"{self.prefix}/AWSLogs/" if self.prefix else "AWSLogs/"


# The services whose VPC endpoint calls a trail can record as network activity events
# (CloudTrail user guide, "Logging network activity events": "Valid values include").
NETWORK_ACTIVITY_SOURCES = (
    "cloudtrail.amazonaws.com",
    "ec2.amazonaws.com",
    "kms.amazonaws.com",
    "secretsmanager.amazonaws.com",
)


class DataEvents(Model):
    s3: Flag = True
    lambda_functions: Annotated[Flag, Field(alias="lambda")] = True
    s3_include_trail_bucket: Flag = False
    # Off by default: network activity events are charged like data events.
    network_activity: list[Literal[NETWORK_ACTIVITY_SOURCES]] = Field(  # type: ignore[valid-type]
        default_factory=list
    )


class Analysis(Model):
    account_ids: list[AccountId] = Field(default_factory=list)
    regions: list[Region] = Field(default_factory=list)
    start_date: Annotated[str, _pattern(_DATE, "a date in the form YYYY/MM/DD")] = "2024/01/01"
    results_bucket_name: Annotated[BucketName | None, OptionalText] = None
    result_expiration_days: Annotated[int, Field(ge=2)] = 30
    # How far back queries must reach without restoring anything from an archive class.
    window_days: Annotated[int, Field(ge=1)] = 365


_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
# Organizations IDs a policy attaches to (API reference, AttachPolicy TargetId).
_TARGET_ID = re.compile(r"^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|\d{12})$")


class Guardrails(Model):
    """AWS Organizations policies that keep the pipeline whole from inside the organisation."""

    # S3 policy: all four Block Public Access settings in every account of the targets.
    block_public_access: Flag = True
    # SCP on the security account: nobody but exemptRoleArns may take the log buckets or key apart.
    protect_log_pipeline: Flag = True
    # SCP on the targets: no member account leaves the organisation (and the trail).
    deny_leave_organization: Flag = True
    # RCP on the security account: the log buckets and key answer only the organisation
    # and AWS services.
    data_perimeter: Flag = True
    exempt_role_arns: list[
        Annotated[str, _pattern(_ROLE_ARN, "an IAM role ARN (arn:aws:iam::<account>:role/<name>)")]
    ] = Field(default_factory=list)
    # Where the organisation-wide guardrails attach; empty: the organisation's root.
    targets: list[
        Annotated[str, _pattern(_TARGET_ID, "a root (r-...), OU (ou-...-...) or account ID")]
    ] = Field(default_factory=list)

    @property
    def any_on(self) -> bool:
        return any(
            (
                self.block_public_access,
                self.protect_log_pipeline,
                self.deny_leave_organization,
                self.data_perimeter,
            )
        )


RoleArn = Annotated[
    str, _pattern(_ROLE_ARN, "an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
]


class MemberRoles(Model):
    """Roles in every member account, current and future (a service-managed StackSet with
    automatic deployment), trusted by the named roles of the management account only."""

    # May assume org-trail-member: `orgtrail inventory` and `cutover` (it may StopLogging the
    # account's own trails), `cost --glacier`. Empty: no operator role.
    operator_principal_arns: list[RoleArn] = Field(default_factory=list)
    # May assume memberPreviewRoleName (read-only), for the pull-request previews.
    preview_principal_arns: list[RoleArn] = Field(default_factory=list)

    @property
    def any_on(self) -> bool:
        return bool(self.operator_principal_arns or self.preview_principal_arns)


class Subscription(Model):
    protocol: Literal[SUBSCRIPTION_PROTOCOLS]  # type: ignore[valid-type]
    endpoint: Annotated[str, Field(min_length=1)]


class Alarms(Model):
    subscriptions: list[Subscription] = Field(default_factory=list)
    namespace: Annotated[
        str,
        _rule(
            lambda v: (
                None
                if _NAMESPACE_NAME.match(v) and not v.startswith("AWS/")
                else f"{v!r} is not a custom CloudWatch namespace"
            )
        ),
    ] = "OrgTrail/CIS"
    # Each Insights event as a message on the alarm topic (with insights on).
    insights_notifications: Flag = True
    # The organization trail's log group receiving fewer events than this over the period
    # (or none at all: missing data breaches) pages: the trail has gone silent. CloudWatch
    # takes a Period of 10, 30 or a multiple of 60 seconds, and Period x EvaluationPeriods of
    # at most a day (CloudWatch API reference, PutMetricAlarm): whole minutes, one period.
    silent_trail_minutes: Annotated[int, Field(ge=5, le=1440)] = 60
    silent_trail_minimum_events: Annotated[int, Field(ge=1)] = 1


def _read_by(*stacks: str, required: bool = False) -> dict:
    """Which stacks read a key; `required`: those stacks must set it (it has no useful default)."""
    return {"stacks": list(stacks), "requiredIn": list(stacks) if required else []}


def key(description: str, read_by: dict) -> Any:
    """A top-level key's description (its Pulumi.yaml and docs/configuration.md text) and its stacks."""
    return Field(description=description, json_schema_extra=read_by)


SHARED = _read_by(*STACK_KINDS)
SECURITY = _read_by("security")
MANAGEMENT = _read_by("management")


class StackConfig(Model):
    """Every `org-trail:` key (and `aws:region`), with its type, default and stacks.

    A field's description is the text of its Pulumi.yaml declaration and its
    reference row; `json_schema_extra["stacks"]` says which stacks read it.
    """

    region: Annotated[
        Region,
        Field(
            alias=AWS_REGION_KEY,
            description="Home region of the stack (the trail's home region).",
            json_schema_extra=SHARED,
        ),
    ]
    stack_kind: Annotated[
        Literal["", "security", "management"],
        key("Which stack this is: security or management. Empty: the stack name.", SHARED),
    ] = ""
    organization_id: Annotated[
        str,
        _pattern(
            _ORGANIZATION_ID,
            "an organization ID (o- followed by 10-32 lowercase letters or digits)",
        ),
        key("AWS Organizations ID, o- followed by 10-32 lowercase letters or digits.", SHARED),
    ]
    management_account_id: Annotated[
        AccountId,
        key("12-digit ID of the organization management account.", SHARED),
    ]
    security_account_id: Annotated[
        AccountId,
        key("12-digit ID of the security account that owns the log bucket.", SHARED),
    ]
    trail_name: Annotated[
        TrailName,
        key("Name of the organization trail.", SHARED),
    ] = "org-trail"
    log_bucket_name: Annotated[
        BucketName | None,
        OptionalText,
        key("Central log bucket. Empty: org-trail-logs-<securityAccountId>-<region>.", SECURITY),
    ] = None
    access_log_bucket_name: Annotated[
        BucketName | None,
        OptionalText,
        key(
            "Bucket receiving the log bucket's server access logs (no Object Lock: "
            "S3 does not deliver access logs to locked buckets). "
            "Empty: org-trail-server-access-logs-<securityAccountId>-<region>.",
            SECURITY,
        ),
    ] = None
    log_reader_principal_arns: Annotated[
        list[
            Annotated[
                str, _pattern(_ROLE_ARN, "an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
            ]
        ],
        BeforeValidator(_engine_json),
        key(
            "Roles of the management account that may assume org-trail-log-reader, the "
            "security account's read-only role through which verify, cutover and cost read "
            "the log bucket, its key and the Athena table (--log-bucket-role-arn). Empty: "
            "no such role.",
            SECURITY,
        ),
    ] = []
    kms_key_alias: Annotated[
        str,
        _rule(
            lambda v: (
                None
                if _ALIAS.match(v) and not v.startswith("alias/aws/")
                else f"{v!r} is not a KMS alias (alias/ followed by letters, digits, / _ -; alias/aws/ is reserved)"
            )
        ),
        key("Alias of the CloudTrail KMS key.", SECURITY),
    ] = "alias/org-trail"
    object_lock: Annotated[
        ObjectLock,
        BeforeValidator(_engine_json),
        key(
            "Default retention of every log object: {mode: GOVERNANCE|COMPLIANCE, days: 1-36500}.",
            SECURITY,
        ),
    ] = ObjectLock()
    lifecycle: Annotated[
        Archive,
        BeforeValidator(_engine_json),
        key(
            "Log bucket archival: {archiveAfterDays, storageClass GLACIER_IR|GLACIER|DEEP_ARCHIVE, "
            "expireAfterDays (optional, never shorter than the lock)}.",
            SECURITY,
        ),
    ] = Archive()
    analysis: Annotated[
        Analysis,
        BeforeValidator(_engine_json),
        key(
            "Athena over the logs: {accountIds (seeds the account projection; a function adds "
            "every account that delivers, hourly), regions (partition projection; empty: every "
            "region of the partition), startDate YYYY/MM/DD, resultsBucketName, resultExpirationDays, "
            "windowDays (how far back queries reach without restores)}.",
            SECURITY,
        ),
    ] = Analysis()
    security_stack: Annotated[
        str,
        _rule(
            lambda v: (
                None
                if v == "" or _STACK_REFERENCE.match(v)
                else f"{v!r} is not a stack reference (stack, project/stack or org/project/stack)"
            )
        ),
        key(
            "Stack reference of the security stack, e.g. acme/org-trail/security.",
            _read_by("management", required=True),
        ),
    ] = ""
    legacy_trails: Annotated[
        list[LegacyTrail],
        BeforeValidator(_engine_json),
        key(
            "Per-account trails to stop after cutover and whose buckets to archive: "
            "[{accountId, region, trailName, bucket, bucketAccountId?, bucketRegion?, prefix?, roleName?}].",
            MANAGEMENT,
        ),
    ] = []
    legacy_archive: Annotated[
        LegacyArchive,
        BeforeValidator(_engine_json),
        key(
            "Legacy bucket archival: {archiveAfterDays, storageClass, expireAfterDays (optional)}.",
            MANAGEMENT,
        ),
    ] = LegacyArchive()
    member_preview_role_name: Annotated[
        RoleName | None,
        OptionalText,
        key(
            "Read-only role assumed in member accounts during `pulumi preview` "
            "(empty: each legacy trail's roleName, as `pulumi up` uses).",
            MANAGEMENT,
        ),
    ] = None
    member_roles: Annotated[
        MemberRoles,
        BeforeValidator(_engine_json),
        key(
            "Roles in every member account, present and future (a service-managed StackSet): "
            "{operatorPrincipalArns (the management account's roles that may assume "
            "org-trail-member, for inventory, cutover and cost --glacier), previewPrincipalArns "
            "(those that may assume memberPreviewRoleName, read-only, for previews)}. Empty: none.",
            MANAGEMENT,
        ),
    ] = MemberRoles()
    data_events: Annotated[
        DataEvents,
        BeforeValidator(_engine_json),
        key(
            "Data events: {s3, lambda, s3IncludeTrailBucket (strict CIS 3.8/3.9; costly), "
            "networkActivity (event sources whose VPC endpoint calls are recorded: "
            "cloudtrail, ec2, kms, secretsmanager .amazonaws.com; $0.10 per 100,000 events, "
            "like data events; empty: none)}.",
            MANAGEMENT,
        ),
    ] = DataEvents()
    insights: Annotated[
        Flag,
        key("CloudTrail Insights (ApiCallRate, ApiErrorRate).", MANAGEMENT),
    ] = True
    log_retention_days: Annotated[
        int,
        _rule(
            lambda v: (
                None
                if v in LOG_RETENTION_DAYS
                else f"{v} is not a CloudWatch Logs retention (one of {', '.join(map(str, LOG_RETENTION_DAYS))})"
            )
        ),
        key(
            "Retention of the CloudWatch Logs group, in days (a value CloudWatch Logs accepts).",
            MANAGEMENT,
        ),
    ] = 365
    log_group_kms_key_arn: Annotated[
        str | None,
        OptionalText,
        _rule(
            lambda v: None if v is None or _KMS_KEY_ARN.match(v) else f"{v!r} is not a KMS key ARN"
        ),
        key(
            "KMS key ARN encrypting the CloudWatch Logs group. Empty: the stack creates one.",
            MANAGEMENT,
        ),
    ] = None
    guardrails: Annotated[
        Guardrails,
        BeforeValidator(_engine_json),
        key(
            "Organizations guardrails, each on unless switched off: {blockPublicAccess, "
            "protectLogPipeline, denyLeaveOrganization, dataPerimeter, exemptRoleArns (the role "
            "that deploys the security stack and a break-glass role: required while "
            "protectLogPipeline is on), targets (root/OU/account IDs; empty: the root)}.",
            MANAGEMENT,
        ),
    ] = Guardrails()
    alarms: Annotated[
        Alarms,
        BeforeValidator(_engine_json),
        key(
            "Alarms and notifications to the alarm topic: {subscriptions: [{protocol, "
            "endpoint}], namespace, insightsNotifications (each Insights event as a message, "
            "default true), silentTrailMinutes (default 60) and silentTrailMinimumEvents "
            "(default 1): the trail's log group receiving fewer events over that period pages}.",
            MANAGEMENT,
        ),
    ] = Alarms()

    @property
    def organization(self) -> Organization:
        return Organization(
            organization_id=self.organization_id,
            management_account_id=self.management_account_id,
            security_account_id=self.security_account_id,
            trail_name=self.trail_name,
            region=self.region,
        )


# --- settings handed to each stack ------------------------------------------


class SecuritySettings(Model):
    organization: Organization
    log_bucket_name: str
    access_log_bucket_name: str
    kms_key_alias: str
    log_reader_principal_arns: tuple[str, ...]
    object_lock: ObjectLock
    lifecycle: Archive
    analysis: Analysis


class ManagementSettings(Model):
    organization: Organization
    security_stack: str
    legacy_trails: tuple[LegacyTrail, ...]
    legacy_archive: Archive
    member_preview_role_name: str | None
    member_roles: MemberRoles
    data_events: DataEvents
    insights: bool
    log_retention_days: int
    log_group_kms_key_arn: str | None
    alarms: Alarms
    guardrails: Guardrails


Settings = SecuritySettings | ManagementSettings


def load_settings(values: Mapping[str, Any], stack_name: str) -> Settings:
    """Validate a whole stack config (keys `org-trail:<key>` and `aws:region`).

    Raises ConfigError naming every bad key and what is allowed.
    """
    fields = _fields_of(values)
    kind = fields.get("stackKind") or stack_name
    if kind not in STACK_KINDS:
        raise ConfigError(
            [
                (
                    config_key("stackKind"),
                    f"stack {stack_name!r} must say which stack it is: set stackKind to one of "
                    f"{', '.join(STACK_KINDS)} (or name the stack so)",
                )
            ]
        )
    problems = _other_stack_keys(fields, kind)
    try:
        config = StackConfig.model_validate(fields)
    except ValidationError as error:
        raise ConfigError(problems + _problems(error)) from None
    problems += _cross_checks(config, kind)
    if problems:
        raise ConfigError(problems)
    return _settings(config, kind)


def _fields_of(values: Mapping[str, Any]) -> dict[str, Any]:
    """The model's input: `org-trail:` keys without their namespace, plus aws:region."""
    prefix = f"{NAMESPACE}:"
    fields = {key[len(prefix) :]: value for key, value in values.items() if key.startswith(prefix)}
    if values.get(AWS_REGION_KEY) not in (None, ""):
        fields[AWS_REGION_KEY] = values[AWS_REGION_KEY]
    return {key: value for key, value in fields.items() if value is not None}


def declared_default(field: Any) -> Any:
    """A key's default as Pulumi.yaml declares it and the engine passes it ("" for none)."""
    default = field.get_default(call_default_factory=True)
    if isinstance(default, BaseModel):
        return default.model_dump(by_alias=True, exclude_none=True)
    if isinstance(default, list):
        return [item.model_dump(by_alias=True, exclude_none=True) for item in default]
    return "" if default is None else default


def _is_default(field: Any, value: Any) -> bool:
    """Whether `value` is the key's default: as declared, or read into the same settings (a
    default written out by an earlier release, without a field added since)."""
    if value == declared_default(field):
        return True
    default = field.get_default(call_default_factory=True)
    if not isinstance(default, BaseModel):
        return False
    try:
        return type(default).model_validate(value) == default
    except ValidationError:
        return False


def _other_stack_keys(fields: dict[str, Any], kind: str) -> list[tuple[str, str]]:
    """A key of the other stack set on purpose is a mistake; project defaults reach both."""
    problems = []
    for name, field in StackConfig.model_fields.items():
        stacks = field.json_schema_extra["stacks"]
        alias = field.alias or name
        if kind in stacks or alias not in fields:
            continue
        value = fields[alias]
        try:
            decoded = _engine_json(value) if isinstance(value, str) else value
        except ValueError:
            decoded = value
        if decoded in ("", None) or _is_default(field, decoded):
            continue
        # Two kinds of stack: a key not of this one belongs to the other alone.
        (other,) = stacks
        problems.append((config_key(alias), f"belongs to the {other} stack, not {kind}"))
    return problems


def _location(loc: tuple) -> str:
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        elif key:
            key += f".{part}"
        else:
            key = part if part == AWS_REGION_KEY else config_key(part)
    return key


def _allowed_fields(loc: tuple) -> list[str]:
    """The field names a model accepts at `loc` (the parent of an unknown field)."""
    model: type[BaseModel] = StackConfig
    for part in loc:
        if isinstance(part, int):
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return []
        inner = field.annotation
        for candidate in (inner, *getattr(inner, "__args__", ())):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                model = candidate
                break
    return [f.alias or n for n, f in model.model_fields.items()]


def _unknown_field(loc: tuple, value: Any, ctx: dict) -> str:
    allowed = _allowed_fields(loc[:-1])
    if len(loc) == 1:
        close = difflib.get_close_matches(loc[0], allowed, n=1)
        hint = f"; did you mean {config_key(close[0])}?" if close else ""
        return f"is not an {NAMESPACE} key{hint}"
    return f"is not a field of {_location(loc[:-1])} (allowed: {', '.join(allowed)})"


def _missing(loc: tuple, value: Any, ctx: dict) -> str:
    if loc == (AWS_REGION_KEY,):
        return "is required (the home region, e.g. us-east-1)"
    field = StackConfig.model_fields.get(_field_name(loc[0])) if len(loc) == 1 else None
    return f"is required ({field.description})" if field and field.description else "is required"


def _not_a_whole_number(loc: tuple, value: Any, ctx: dict) -> str:
    bounds = " and ".join(
        f"{sign} {ctx[name]}" for name, sign in (("ge", ">="), ("le", "<=")) if name in ctx
    )
    return f"{value!r} is not allowed: a whole number{' ' + bounds if bounds else ''}"


def _not_one_of(loc: tuple, value: Any, ctx: dict) -> str:
    allowed = ctx["expected"].replace(" or ", ", ").replace("'", "")
    return f"{value!r} is not allowed: one of {allowed}"


# Pydantic's error types, in this project's words: what is wrong and what is allowed.
_MESSAGES = {
    "extra_forbidden": _unknown_field,
    "missing": _missing,
    "value_error": lambda loc, value, ctx: str(ctx["error"]),
    "literal_error": _not_one_of,
    **dict.fromkeys(
        ("greater_than_equal", "less_than_equal", "int_parsing", "int_type", "int_from_float"),
        _not_a_whole_number,
    ),
    **dict.fromkeys(
        ("model_type", "model_attributes_type", "dict_type"),
        lambda loc, value, ctx: (
            f"must be an object with {', '.join(_allowed_fields(loc))}, got {value!r}"
        ),
    ),
    "list_type": lambda loc, value, ctx: f"must be a list, got {value!r}",
    **dict.fromkeys(
        ("string_type", "string_too_short"),
        lambda loc, value, ctx: f"must be a non-empty string, got {value!r}",
    ),
}


def _problems(error: ValidationError) -> list[tuple[str, str]]:
    """Every pydantic error as (key, message), the key as users write it."""
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        describe = _MESSAGES.get(item["type"])
        message = (
            describe(loc, item.get("input"), item.get("ctx") or {}) if describe else item["msg"]
        )
        problems.append((_location(loc), message))
    return problems


def _field_name(alias: str) -> str:
    return next((n for n, f in StackConfig.model_fields.items() if (f.alias or n) == alias), alias)


# --- rules across keys --------------------------------------------------------


def _cross_checks(config: StackConfig, kind: str) -> list[tuple[str, str]]:
    problems = [
        (config_key(field.alias or name), f"is required in the {kind} stack ({field.description})")
        for name, field in StackConfig.model_fields.items()
        if kind in field.json_schema_extra["requiredIn"] and not getattr(config, name)
    ]
    if config.management_account_id == config.security_account_id:
        problems.append(
            (
                config_key("securityAccountId"),
                "must be a separate account from managementAccountId: "
                "the logs must survive a compromised management account",
            )
        )
    if kind == "security":
        problems += _security_checks(config)
    else:
        problems += _management_checks(config)
    return problems


def _archive_problems(key: str, archive: Archive, lock_days: int | None) -> list[tuple[str, str]]:
    expire = archive.expire_after_days
    if expire is None:
        return []
    if expire <= archive.archive_after_days:
        # S3 rejects a rule whose expiration is not later than its transition (InvalidArgument;
        # S3 user guide, "Setting lifecycle configuration", transition and expiration in one rule).
        return [
            (
                f"{key}.expireAfterDays",
                f"{expire} must be later than archiveAfterDays ({archive.archive_after_days})",
            )
        ]
    if lock_days is not None and expire < lock_days:
        return [
            (
                f"{key}.expireAfterDays",
                f"{expire} is shorter than the Object Lock retention ({lock_days} days); "
                "logs may never expire before their lock ends",
            )
        ]
    return []


def _named_management_roles(config: StackConfig, at: str, arns: list[str]) -> list[tuple[str, str]]:
    """Named principals only: each a role of the management account, by its exact name."""
    return [
        (
            f"{at}[{index}]",
            f"{arn!r} must name one role of the management account "
            f"{config.management_account_id}, without wildcards",
        )
        for index, arn in enumerate(arns)
        if arn.split(":")[4] != config.management_account_id or "*" in arn
    ]


def _security_checks(config: StackConfig) -> list[tuple[str, str]]:
    names = _bucket_names(config)
    problems = _archive_problems(config_key("lifecycle"), config.lifecycle, config.object_lock.days)
    problems += _named_management_roles(
        config, config_key("logReaderPrincipalArns"), config.log_reader_principal_arns
    )
    if names["log"] == names["access-log"]:
        problems.append(
            (
                config_key("accessLogBucketName"),
                "must differ from logBucketName: a bucket cannot receive its own access logs",
            )
        )
    if names["results"] in (names["log"], names["access-log"]):
        problems.append(
            (
                f"{config_key('analysis')}.resultsBucketName",
                "must differ from the log and access-log buckets",
            )
        )
    lifecycle, window = config.lifecycle, config.analysis.window_days
    if (
        lifecycle.storage_class in ATHENA_UNREADABLE_CLASSES
        and lifecycle.archive_after_days < window
    ):
        problems.append(
            (
                f"{config_key('lifecycle')}.storageClass",
                f"{lifecycle.storage_class} after {lifecycle.archive_after_days} days hides logs "
                f"from Athena inside analysis.windowDays ({window}): Athena skips "
                f"{' and '.join(ATHENA_UNREADABLE_CLASSES)} objects unless restored. Use GLACIER_IR "
                "(read like STANDARD), or archiveAfterDays >= windowDays",
            )
        )
    return problems


def _management_checks(config: StackConfig) -> list[tuple[str, str]]:
    problems = _archive_problems(config_key("legacyArchive"), config.legacy_archive, None)
    problems += _legacy_trail_problems(config)
    guardrails = config.guardrails
    in_security = [
        arn
        for arn in guardrails.exempt_role_arns
        if arn.split(":")[4] == config.security_account_id
    ]
    if guardrails.protect_log_pipeline and not in_security:
        problems.append(
            (
                f"{config_key('guardrails')}.exemptRoleArns",
                "protectLogPipeline would lock out the role that deploys the security stack: "
                f"name it (arn:aws:iam::{config.security_account_id}:role/<name>), and a "
                "break-glass role, or switch protectLogPipeline off",
            )
        )
    roles = config.member_roles
    for field, arns in (
        ("operatorPrincipalArns", roles.operator_principal_arns),
        ("previewPrincipalArns", roles.preview_principal_arns),
    ):
        problems += _named_management_roles(config, f"{config_key('memberRoles')}.{field}", arns)
    if roles.preview_principal_arns and not config.member_preview_role_name:
        problems.append(
            (
                f"{config_key('memberRoles')}.previewPrincipalArns",
                "needs memberPreviewRoleName, the name of the read-only role to create",
            )
        )
    for index, subscription in enumerate(config.alarms.subscriptions):
        at = f"{config_key('alarms')}.subscriptions[{index}].endpoint"
        if subscription.protocol == "email" and "@" not in subscription.endpoint:
            problems.append((at, f"{subscription.endpoint!r} is not an email address"))
        elif subscription.protocol == "https" and not subscription.endpoint.startswith("https://"):
            problems.append((at, f"{subscription.endpoint!r} must be an https:// URL"))
    return problems


def _legacy_trail_problems(config: StackConfig) -> list[tuple[str, str]]:
    key = config_key("legacyTrails")
    problems = []
    seen: dict[tuple[str, str, str], int] = {}
    buckets: dict[str, tuple[str, str, int]] = {}
    org = config.organization
    prefixes: dict[str, set[str]] = {}
    roles: dict[str, tuple[str, int]] = {}
    for index, trail in enumerate(config.legacy_trails):
        at = f"{key}[{index}]"
        identity = (trail.account_id, trail.region, trail.trail_name)
        if identity in seen:
            problems.append(
                (at, f"repeats {key}[{seen[identity]}] (same account, region and trail)")
            )
            continue
        seen[identity] = index
        if (trail.account_id, trail.trail_name, trail.region) == (
            org.management_account_id,
            org.trail_name,
            org.region,
        ):
            problems.append((at, "is the organization trail itself, not a legacy trail"))
            continue
        prefixes.setdefault(trail.bucket, set()).add(trail.log_prefix)
        if len(prefixes[trail.bucket]) == MAX_LIFECYCLE_RULES + 1:
            # One archive rule per prefix; S3 holds at most 1,000 rules per bucket
            # (PutBucketLifecycleConfiguration).
            problems.append(
                (
                    f"{at}.prefix",
                    f"{trail.bucket!r} would need more than {MAX_LIFECYCLE_RULES} lifecycle rules "
                    "(one per trail prefix), more than S3 holds for a bucket",
                )
            )
        role = roles.setdefault(trail.bucket_owner, (trail.role_name, index))
        if role[0] != trail.role_name:
            problems.append(
                (
                    f"{at}.roleName",
                    f"{trail.role_name!r} differs from {role[0]!r} in {key}[{role[1]}] for the same "
                    f"bucket-owning account {trail.bucket_owner}: one role is assumed per account",
                )
            )
        owner, region, first = buckets.setdefault(
            trail.bucket, (trail.bucket_owner, trail.bucket_home, index)
        )
        if owner != trail.bucket_owner:
            problems.append(
                (
                    f"{at}.bucketAccountId",
                    f"{trail.bucket!r} is owned by account {owner} in {key}[{first}]; a bucket has "
                    "one owner: set bucketAccountId to it on every trail that writes there",
                )
            )
        elif region != trail.bucket_home:
            problems.append(
                (
                    f"{at}.bucketRegion",
                    f"{trail.bucket!r} is in {region} in {key}[{first}]; a bucket lives in one "
                    "region: set bucketRegion to it on every trail that writes there",
                )
            )
    return problems


# --- derived values ---------------------------------------------------------


def _bucket_names(config: StackConfig) -> dict[str, str]:
    suffix = f"{config.security_account_id}-{config.region}"
    return {
        "log": config.log_bucket_name or f"org-trail-logs-{suffix}",
        "access-log": config.access_log_bucket_name or f"org-trail-server-access-logs-{suffix}",
        "results": config.analysis.results_bucket_name or f"org-trail-athena-results-{suffix}",
    }


def _settings(config: StackConfig, kind: str) -> Settings:
    org = config.organization
    if kind == "management":
        return ManagementSettings(
            organization=org,
            security_stack=config.security_stack,
            legacy_trails=tuple(config.legacy_trails),
            legacy_archive=config.legacy_archive,
            member_preview_role_name=config.member_preview_role_name,
            member_roles=config.member_roles,
            data_events=config.data_events,
            insights=config.insights,
            log_retention_days=config.log_retention_days,
            log_group_kms_key_arn=config.log_group_kms_key_arn,
            alarms=config.alarms,
            guardrails=config.guardrails,
        )
    names = _bucket_names(config)
    analysis = config.analysis
    # Without a list, the two accounts this project knows; new accounts are added there.
    accounts = analysis.account_ids or [org.management_account_id, org.security_account_id]
    analysis = analysis.model_copy(
        update={
            "account_ids": list(dict.fromkeys(accounts)),
            "regions": analysis.regions or list(PARTITION_REGIONS.get(org.partition, ())),
            "results_bucket_name": names["results"],
        }
    )
    return SecuritySettings(
        organization=org,
        log_bucket_name=names["log"],
        access_log_bucket_name=names["access-log"],
        kms_key_alias=config.kms_key_alias,
        log_reader_principal_arns=tuple(config.log_reader_principal_arns),
        object_lock=config.object_lock,
        lifecycle=config.lifecycle,
        analysis=analysis,
    )

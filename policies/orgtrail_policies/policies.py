"""The CrossGuard policies of the pack, built from the rules with exemption handling.

Mandatory: every bucket is created with Object Lock, nothing makes a bucket
public, every bucket has a public access block. Advisory: default retention,
SSE-KMS, versioning, TLS only, and the organization-trail essentials.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from orgtrail_policies import buckets, stack
from orgtrail_policies.about import about
from orgtrail_policies.exemptions import LEDGER, SCHEMA, Exemption, Exemptions, describe

ResourceRule = Callable[[str, Mapping[str, Any], str], list[str]]


def crashed(what: str, error: Exception) -> str:
    """The verdict on what a rule could not read (a resource, the stack): not compliant, and why."""
    return (
        f"{what} could not be judged ({type(error).__name__}: {error}), so it cannot be shown "
        "to comply. This is a fault in the pack or a shape it does not know: report it, with "
        "the resource's properties."
    )


SKIPPED_PREFIXES = ("pulumi:providers:", "pulumi:pulumi:")
MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY


# The validations are module functions bound with partial, not closures: what runs for each
# resource is then code of its own (mutation testing can only change code called at run time,
# and the policies are built at import).
def validate_resource(
    name: str, rule: ResourceRule, args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    if args.resource_type.startswith(SKIPPED_PREFIXES):
        return
    try:
        problems = rule(args.resource_type, args.props, args.name)
    except UnknownValueError:
        raise  # the SDK's own note: this can't be known during preview
    except Exception as error:  # one resource's verdict, never the whole pack's
        problems = [crashed(f"'{args.name}'", error)]
    if not problems:
        return
    exemptions = Exemptions(args.get_config())
    exemption = exemptions.find(args.name, args.urn)
    if exemption is not None:
        LEDGER.record(name, args.urn, exemption)
        args.not_applicable(describe(name, exemption))
    note = exemptions.note_for(args.name, args.urn)
    for problem in problems:
        report_violation(problem + note, args.urn)


def resource_policy(
    name: str, description: str, rule: ResourceRule, level: EnforcementLevel
) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=partial(validate_resource, name, rule),
        enforcement_level=level,
        config_schema=SCHEMA,
        **about(name),
    )


def validate_buckets(
    name: str,
    check: stack.BucketCheck,
    excuse: stack.Excuse | None,
    mandatory: bool,
    args: StackValidationArgs,
    report_violation: ReportViolation,
) -> None:
    exemptions = Exemptions(args.get_config())
    try:
        findings, excused = stack.bucket_findings(args.resources, check, excuse, mandatory)
    except Exception as error:  # the stack's verdict for this rule, not every rule's
        report_violation(crashed("The stack", error), None)
        return
    for bucket, reason in excused:
        LEDGER.record(name, bucket.resource.urn, Exemption("(rule)", reason))
    for bucket, problem in findings:
        resource = bucket.resource
        exemption = exemptions.find(resource.name, resource.urn)
        if exemption is not None:
            LEDGER.record(name, resource.urn, exemption)
        else:
            report_violation(
                problem + exemptions.note_for(resource.name, resource.urn), resource.urn
            )


def bucket_stack_policy(
    name: str,
    description: str,
    check: stack.BucketCheck,
    level: EnforcementLevel,
    excuse: stack.Excuse | None = None,
) -> StackValidationPolicy:
    """A check over every bucket; `excuse` names buckets the rule itself lets through, and why
    (reported by `exemptions-applied` like a configured exemption). A mandatory check reports
    what a preview cannot decide; an advisory one leaves it out."""
    return StackValidationPolicy(
        name=name,
        description=description,
        validate=partial(validate_buckets, name, check, excuse, level == MANDATORY),
        enforcement_level=level,
        config_schema=SCHEMA,
        **about(name),
    )


def report_exemptions(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    for applied in LEDGER.drain():
        report_violation(describe(applied.policy, applied.exemption), applied.urn)


def policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    """The pack's policies, in the order the SDK runs them. Built when asked (the pack asks
    once, at start), so what builds them is code that runs under test too."""
    return [
        # A stack policy: whether a bucket is a server-access-log target, the one kind S3 forbids
        # to lock, is only known from the logging configurations of other resources.
        bucket_stack_policy(
            "s3-bucket-object-lock-enabled",
            "Every S3 bucket is created with Object Lock enabled, so what it stores can be made "
            "tamper-proof (server access log targets excepted: S3 cannot deliver to them).",
            stack.missing_object_lock,
            MANDATORY,
            excuse=stack.unlocked_access_log_target,
        ),
        resource_policy(
            "s3-no-public-bucket",
            "No S3 bucket, object or access point is public: no public ACL or grant, no policy open to "
            "everyone unless limited to fixed values of the keys S3 recognises, every public access "
            "block complete.",
            buckets.public_access_problems,
            MANDATORY,
        ),
        bucket_stack_policy(
            "s3-bucket-public-access-block",
            "Every S3 bucket has a public access block of its own (or an account-level one).",
            stack.missing_public_access_block,
            MANDATORY,
        ),
        resource_policy(
            "s3-bucket-acls-disabled",
            "S3 buckets keep ACLs disabled (object ownership BucketOwnerEnforced).",
            buckets.acl_problems,
            ADVISORY,
        ),
        bucket_stack_policy(
            "s3-bucket-default-retention",
            "S3 buckets lock objects by default (Object Lock default retention).",
            stack.missing_default_retention,
            ADVISORY,
        ),
        bucket_stack_policy(
            "s3-bucket-kms-encryption",
            "S3 buckets encrypt with SSE-KMS by default.",
            stack.missing_kms_encryption,
            ADVISORY,
        ),
        bucket_stack_policy(
            "s3-bucket-versioning",
            "S3 buckets keep every version of every object.",
            stack.missing_versioning,
            ADVISORY,
        ),
        bucket_stack_policy(
            "s3-bucket-tls-only",
            "S3 bucket policies deny requests that do not use TLS.",
            stack.missing_tls_only,
            ADVISORY,
        ),
        resource_policy(
            "cloudtrail-trail-essentials",
            "CloudTrail trails log every region, validate log files and encrypt with a customer key.",
            buckets.trail_problems,
            ADVISORY,
        ),
        # Last: it reports the exemptions every policy above applied in this operation.
        StackValidationPolicy(
            name="exemptions-applied",
            description="Resources exempted from an org-trail policy, and why.",
            validate=report_exemptions,
            enforcement_level=ADVISORY,
            **about("exemptions-applied"),
        ),
    ]

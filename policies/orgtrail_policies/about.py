"""What Pulumi Cloud shows of each policy: its title, severity, the control it implements, tags,
how to fix a violation and the AWS page the rule follows.

pulumi-policy 1.18+ sends these in GetAnalyzerInfo (PolicyInfo displayName, severity,
framework, tags, remediation_steps, url); Pulumi Cloud displays and filters on them, as the
pulumi/compliance-policies packs declare them. `cis` names the CIS AWS Foundations
Benchmark (v3.0.0) recommendation a policy implements, where there is one; it becomes the
policy's `framework`.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import PolicyComplianceFramework, Severity

USER_GUIDE = "https://docs.aws.amazon.com/AmazonS3/latest/userguide"
CLOUDTRAIL_GUIDE = "https://docs.aws.amazon.com/awscloudtrail/latest/userguide"


def cis(reference: str) -> PolicyComplianceFramework:
    return PolicyComplianceFramework(
        name="cis-aws-foundations", version="3.0.0", reference=reference
    )


ABOUT: dict[str, dict[str, Any]] = {
    "s3-bucket-object-lock-enabled": dict(
        display_name="S3 buckets have Object Lock",
        severity=Severity.CRITICAL,
        tags=["s3", "object-lock", "tamper-proof"],
        remediation_steps=(
            "Set objectLockEnabled: true on a new bucket. For an existing bucket, add an "
            'aws.s3.BucketObjectLockConfiguration with objectLockEnabled: "Enabled" and a '
            "default retention. A server access log target is let through by the rule."
        ),
        url=f"{USER_GUIDE}/object-lock.html",
    ),
    "s3-no-public-bucket": dict(
        display_name="No public S3 bucket, object or access point",
        severity=Severity.CRITICAL,
        cis="2.1.4",
        tags=["s3", "public-access"],
        remediation_steps=(
            "Remove public ACLs and grants; name the principals of every Allow statement, or "
            "limit it with a fixed aws:PrincipalOrgID, aws:SourceArn or aws:SourceAccount; "
            "turn on all four public access block settings."
        ),
        url=f"{USER_GUIDE}/access-control-block-public-access.html",
    ),
    "s3-bucket-public-access-block": dict(
        display_name="S3 buckets have a public access block",
        severity=Severity.HIGH,
        cis="2.1.4",
        tags=["s3", "public-access"],
        remediation_steps=(
            "Add an aws.s3.BucketPublicAccessBlock for the bucket with blockPublicAcls, "
            "blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets true, or an "
            "aws.s3.AccountPublicAccessBlock through the same provider."
        ),
        url=f"{USER_GUIDE}/configuring-block-public-access-bucket.html",
    ),
    "s3-bucket-acls-disabled": dict(
        display_name="S3 bucket ACLs are disabled",
        severity=Severity.MEDIUM,
        tags=["s3", "acl"],
        remediation_steps="Set object ownership to BucketOwnerEnforced.",
        url=f"{USER_GUIDE}/about-object-ownership.html",
    ),
    "s3-bucket-default-retention": dict(
        display_name="S3 buckets lock objects by default",
        severity=Severity.MEDIUM,
        tags=["s3", "object-lock"],
        remediation_steps=(
            "Add an aws.s3.BucketObjectLockConfiguration with rule.defaultRetention (mode and "
            "days or years)."
        ),
        url=f"{USER_GUIDE}/object-lock.html",
    ),
    "s3-bucket-kms-encryption": dict(
        display_name="S3 buckets encrypt with SSE-KMS",
        severity=Severity.MEDIUM,
        tags=["s3", "encryption", "kms"],
        remediation_steps=(
            "Add an aws.s3.BucketServerSideEncryptionConfiguration with sseAlgorithm aws:kms, a "
            "customer managed key and bucketKeyEnabled."
        ),
        url=f"{USER_GUIDE}/UsingKMSEncryption.html",
    ),
    "s3-bucket-versioning": dict(
        display_name="S3 buckets keep every version",
        severity=Severity.MEDIUM,
        tags=["s3", "versioning"],
        remediation_steps="Add an aws.s3.BucketVersioning with status Enabled.",
        url=f"{USER_GUIDE}/Versioning.html",
    ),
    "s3-bucket-tls-only": dict(
        display_name="S3 bucket policies deny requests without TLS",
        severity=Severity.MEDIUM,
        cis="2.1.1",
        tags=["s3", "tls"],
        remediation_steps=(
            "Add a bucket policy statement that denies s3:* to Principal * when "
            "aws:SecureTransport is false."
        ),
        url=f"{USER_GUIDE}/security-best-practices.html",
    ),
    "cloudtrail-trail-essentials": dict(
        display_name="CloudTrail trails log every region, validated and encrypted",
        severity=Severity.HIGH,
        cis="3.1, 3.2, 3.5",
        tags=["cloudtrail", "logging"],
        remediation_steps=(
            "Set isMultiRegionTrail: true, enableLogFileValidation: true and kmsKeyId to a "
            "customer managed key."
        ),
        url=f"{CLOUDTRAIL_GUIDE}/best-practices-security.html",
    ),
    "exemptions-applied": dict(
        display_name="Exemptions applied",
        severity=Severity.LOW,
        tags=["exemptions", "audit"],
        remediation_steps=(
            "Nothing to fix: review the exemptions listed and remove those no longer needed "
            "from the pack's configuration."
        ),
        url="https://www.pulumi.com/docs/iac/crossguard/configuration/",
    ),
}


def about(name: str) -> dict[str, Any]:
    """The metadata of policy `name`, as keyword arguments of the SDK's policy classes (built
    when asked, like the policies)."""
    metadata = dict(ABOUT[name])
    if "cis" in metadata:
        metadata["framework"] = cis(metadata.pop("cis"))
    return metadata

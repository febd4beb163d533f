"""The org-trail CrossGuard pack. Only assembles: the rules live in orgtrail_policies/."""

from orgtrail_policies.policies import POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name="org-trail-guardrails",
    policies=POLICIES,
    enforcement_level=EnforcementLevel.ADVISORY,
    description="No public and no unlocked S3 bucket anywhere in the organisation.",
    provider="aws",
    tags=["s3", "cloudtrail", "object-lock"],
)

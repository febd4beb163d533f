"""org-trail: centralised CloudTrail for an AWS Organization.

The package holds what both the Pulumi program and the operator CLI need:
configuration validation, naming rules, the offline plan, and the commands.
"""

__version__ = "0.25.0"

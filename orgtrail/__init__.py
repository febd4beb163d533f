"""org-trail: centralised CloudTrail for an AWS Organization.

The package holds what both the Pulumi program and the operator CLI need, by part:
`contract` (the config model and what is derived from it, the output models), `offline`
(the offline plan), `ops` (the commands on a live organisation), `analysis` (the
detections and `orgtrail query`); the CLI itself is `__main__`, `cli` and `output`.
"""

__version__ = "0.26.0"

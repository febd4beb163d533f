"""The offline plan: the Pulumi program run under the SDK's mocks, the AWS API rules
checked on what it would create, and the policy pack asked as the Pulumi CLI asks it."""

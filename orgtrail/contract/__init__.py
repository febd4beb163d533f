"""The config contract: the typed model of a stack's config, what is derived from it
(Pulumi.yaml declarations, the configuration reference, the editor schema), and the
Pulumi CLI's rules for assembling a stack's config."""

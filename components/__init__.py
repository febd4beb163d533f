"""Pulumi components of org-trail: one ComponentResource per module."""

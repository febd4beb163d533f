"""Validators of the org-trail CrossGuard pack, importable without starting the pack.

`policies/__main__.py` only assembles the PolicyPack from `policies.policies()`;
building a PolicyPack starts a gRPC server and blocks, so nothing here does.
"""

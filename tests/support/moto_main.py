"""moto_server, with one correction to its signature check, started as `python -m` this module.

With IAM enforced, moto recomputes each request's SigV4 signature over
`data=self._body or self._data` (moto/iam/access_control.py, IAMRequestBase
._create_aws_request); for a GET without a body `_data` is the parsed query string, or the
request headers when there is none (moto/core/responses.py, setup_class), so the payload it
hashes is not the empty payload every SDK signs for a GET or a DELETE without a body (AWS General Reference, "Create a
canonical request": the hash of an empty string for a request without a body). Every signed
Lambda GET (GetFunction, GetPolicy, GetFunctionEventInvokeConfig, ...) is then refused with
SignatureDoesNotMatch, which AWS never answers to a correctly signed request; a DELETE
without a body (RemovePermission) likewise. Here those are checked over their empty
payload; everything else is moto's own.
"""

from __future__ import annotations

import sys

from moto.iam import access_control
from moto.server import main

_create_aws_request = access_control.IAMRequestBase._create_aws_request


def _signed_as_sent(self):
    request = _create_aws_request(self)
    if self._method in ("GET", "DELETE") and not self._body:
        request.data = b""
    return request


access_control.IAMRequestBase._create_aws_request = _signed_as_sent

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

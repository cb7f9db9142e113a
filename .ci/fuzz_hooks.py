"""schemathesis hooks for .ci/fuzz.

Bodies that are not UTF-8 are left out: locally `cargo lambda watch` stands in for API Gateway,
and its router answers such a request with its own 500 (text/plain) before any function runs.
API Gateway instead hands the function the bytes base64-encoded, and the function answers 400;
tests/api/openapi.rs sends exactly that event. Fuzzing them here would test the emulator, not the API.

Header values that are not ASCII (an `Idempotency-Key` of any unicode, say) are left out for the
same reason: the local router refuses them before any function runs, while API Gateway passes them
on and the function answers 422 (tests/api/idempotency.rs sends such keys).
"""

import schemathesis


def _is_utf8(body):
    try:
        if isinstance(body, bytes):
            body.decode("utf-8")
        elif isinstance(body, str):
            body.encode("utf-8")
        return True
    except UnicodeError:
        return False


def _ascii_headers(headers):
    return all(str(value).isascii() for value in (headers or {}).values())


@schemathesis.hook
def filter_case(context, case):
    return _is_utf8(case.body) and _ascii_headers(case.headers)

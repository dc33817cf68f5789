from datetime import timedelta

import pytest

from minyi.channels import signatures as auth
from minyi.core import clock
from minyi.core.errors import Unauthorized

SECRET = "s3cret"
BODY = '{"a": "路灯"}'.encode()


def test_signed_headers_verify():
    now = clock.now()
    auth.verify(SECRET, auth.signed_headers(SECRET, BODY, now), BODY, now)


def test_header_names_are_case_insensitive():
    now = clock.now()
    headers = {k.lower(): v for k, v in auth.signed_headers(SECRET, BODY, now).items()}
    auth.verify(SECRET, headers, BODY, now)


@pytest.mark.parametrize("change", ["body", "secret", "timestamp", "scheme", "missing", "not_digits", "no_secret"])
def test_anything_off_is_unauthorized(change):
    now = clock.now()
    headers = auth.signed_headers(SECRET, BODY, now)
    body, secret = BODY, SECRET
    if change == "body":
        body = BODY + b" "
    elif change == "secret":
        secret = "other"
    elif change == "timestamp":
        headers["X-Minyi-Timestamp"] = str(int(headers["X-Minyi-Timestamp"]) + 1)
    elif change == "scheme":
        headers["X-Minyi-Signature"] = headers["X-Minyi-Signature"].replace("sha256=", "md5=")
    elif change == "missing":
        del headers["X-Minyi-Signature"]
    elif change == "not_digits":
        headers["X-Minyi-Timestamp"] = "yesterday"
    elif change == "no_secret":
        secret = None
    with pytest.raises(Unauthorized):
        auth.verify(secret, headers, body, now)


@pytest.mark.parametrize("skew", [301, -301, 3600])
def test_stale_or_future_timestamps_are_replays(skew):
    now = clock.now()
    headers = auth.signed_headers(SECRET, BODY, now - timedelta(seconds=skew))
    with pytest.raises(Unauthorized, match="outside"):
        auth.verify(SECRET, headers, BODY, now)


def test_the_edge_of_the_window_is_accepted():
    now = clock.now()
    auth.verify(SECRET, auth.signed_headers(SECRET, BODY, now - timedelta(seconds=300)), BODY, now)

"""A bearer token that cannot travel in a header is refused by name, without quoting it.

http.client's own complaint about such a header quotes it, token included; before the
check that complaint became the vendor's published reason.  That the token is written
nowhere in a run is in tests/e2e/test_token_secrets_e2e.py.
"""

from __future__ import annotations

import pytest

from runner.transports import TransportError
from runner.transports.client import Endpoint, check_token


@pytest.mark.parametrize("token", ["tok-abcdefgh\r\n", "tok-abcd\nefgh", "tok-abc\x00defgh", " tok-abcdefgh",
                                   "tok-abcdefgh\t", "tok-abc\x7fdefgh", "tok-abcdéfgh"])
def test_a_bad_token_is_refused_without_quoting_it(token: str) -> None:
    with pytest.raises(TransportError) as caught:
        check_token(token, "environment variable X")
    assert token.strip() not in str(caught.value) and "environment variable X" in str(caught.value)
    with pytest.raises(TransportError):
        Endpoint(base_url="https://localhost:1", token=token)

"""L2 HMAC signatures against the reference test vectors, and the headers the auth class sets."""

from __future__ import annotations

import pytest
import requests

from clob_pipeline.hooks.clob_auth import L2_HEADERS, ClobL2Auth, build_hmac_signature

ZERO_SECRET = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


@pytest.mark.parametrize(
    ("timestamp", "method", "path", "body", "expected"),
    [
        (1000000, "test-sign", "/orders", '{"hash": "0x123"}', "ZwAdJKvoYRlEKDkNMwd5BuwNNtg93kNaR_oU2HrfVvc="),
        (1000000, "test-sign", "/orders", '{"hash":"0x123"}', "4gJVbox-R6XlDK4nlaicig0_ANVL1qdcahiL8CXfXLM="),
        (1, "GET", "/", None, "eHaylCwqRSOa2LFD77Nt_SaTpbsxzN8eTEI3LryhEj4="),
        (1700000000, "GET", "/data/trades", None, "CIGpTVR5ovccebW2PUFMN3yN5r9LWvgUDqf989uscbs="),
    ],
)
def test_reference_vectors(timestamp, method, path, body, expected):
    assert build_hmac_signature(ZERO_SECRET, timestamp, method, path, body) == expected


def test_auth_signs_the_path_without_query_and_sets_all_five_headers():
    auth = ClobL2Auth("0xabc", ZERO_SECRET, "key-1", "pass-1", clock=lambda: 1700000000)
    prepared = requests.Request("GET", "https://clob.example/data/trades", params={"next_cursor": "MA=="}).prepare()
    auth(prepared)
    assert set(L2_HEADERS) <= set(prepared.headers)
    assert prepared.headers["POLY_SIGNATURE"] == "CIGpTVR5ovccebW2PUFMN3yN5r9LWvgUDqf989uscbs="
    assert prepared.headers["POLY_TIMESTAMP"] == "1700000000"
    assert "Authorization" not in prepared.headers


def test_missing_credentials_are_named():
    with pytest.raises(ValueError, match=r"extra\.api_key.*extra\.api_passphrase"):
        ClobL2Auth("0xabc", ZERO_SECRET, "", "")

"""Property-based fuzzing of the HTTP API from its own OpenAPI schema (schemathesis, in process).

Schemathesis generates valid and invalid requests for every operation (bodies in each declared
content type, query and path parameters) and checks that no answer is a 5xx. The number of
examples per operation is bounded so the whole run stays well under a minute.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from helpers import font_characters, font_digits, png, render

from inkread.serving import ServeConfig, create_app

EXAMPLES_PER_OPERATION = 40


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    app = create_app(ServeConfig(models=[str(font_digits(root / "digits")), str(font_characters(root / "characters"))],
                                 data_dir=root / "data", max_body_bytes=256 * 1024, allowed_hosts=["testserver"]))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_server_error(case):
    response = case.call()
    not_a_server_error_message = f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    assert response.status_code < 500, not_a_server_error_message
    case.validate_response(response, checks=[not_a_server_error])


@pytest.fixture(scope="module")
def client(api_schema, tmp_path_factory):
    from fastapi.testclient import TestClient

    with TestClient(api_schema.app) as client:
        yield client


IMAGES = {label: png(render(label, size=(120, 120), font_size=90)) for label in "17A"}
OPTION = st.one_of(st.none(), st.text(max_size=12), st.integers(-5, 50).map(str), st.sampled_from(
    ["digits", "letters", "upper", "lower", "ACGT", "true", "false", "characters"]))


@given(model=OPTION, top_k=OPTION, only=OPTION, include=OPTION, endpoint=st.sampled_from(["predict", "read"]),
       label=st.sampled_from(sorted(IMAGES)))
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_any_options_with_a_real_image_get_200_or_422(client, model, top_k, only, include, endpoint, label):
    """Schemathesis rarely makes a decodable image; here the image is real and the options are fuzzed."""
    fields = {key: value for key, value in
              (("model", model), ("top_k", top_k), ("only", only), ("include_preprocessed", include)) if value is not None}
    response = client.post(f"/api/v1/{endpoint}", files={"file": ("x.png", IMAGES[label], "image/png")}, data=fields)
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert response.json()["detail"]
    else:
        assert response.json()["model"] in ("digits", "characters")

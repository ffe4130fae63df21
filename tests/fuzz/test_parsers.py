"""Property tests (hypothesis) on every parser of outside input: each one answers or refuses with
its own documented error, never with an unexpected exception, and what it writes it reads back.

Parsers: Magento REST search answers and error bodies, XMP packets, C2PA manifest store summaries,
checkpoint notes (C2SP signed note / tlog-checkpoint), the log's proof parameters and the ingest API
payloads.
"""

from __future__ import annotations

import json
import string

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from magento_bridge.rest_client import MagentoRestError, render_message, search_result
from provenance.standards.content_credentials import ManifestReport, _report, manifest_findings
from provenance.standards.media_marks import MarkFinding, _parse_xmp
from provenance.standards.notes import (
    Checkpoint,
    CheckpointError,
    InvalidNoteError,
    UnverifiedNoteError,
    generate_signer,
    open_note,
    sign_note,
)
from provenance.standards.xmp import XmpError, xml_forbidden_character, xmp_packet

FAST = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def _json_like(keys: list[str]):
    """Dicts that use the parser's own keys (so the interesting branches run) with any values."""
    return st.dictionaries(st.sampled_from(keys) | st.text(max_size=8), json_values, max_size=len(keys) + 2)


# -- Magento REST ---------------------------------------------------------------------------------


@FAST
@given(body=json_values | _json_like(["items", "total_count", "search_criteria"]))
def test_a_search_answer_gives_items_and_a_count_or_a_rest_error(body):
    try:
        items, total = search_result(body, "/V1/products")
    except MagentoRestError:
        return
    assert isinstance(items, list) and isinstance(total, int)


@FAST
@given(body=json_values | _json_like(["message", "parameters", "trace"]))
def test_a_magento_error_body_renders_as_text(body):
    assert isinstance(render_message(body), str)


# -- XMP -------------------------------------------------------------------------------------------

xml_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=60)


@FAST
@given(packet=st.binary(max_size=300) | xml_text.map(str.encode))
def test_any_xmp_bytes_parse_or_are_named_unreadable(packet):
    result = _parse_xmp(packet)
    assert isinstance(result, MarkFinding) or hasattr(result, "tag")


@FAST
@given(
    title=xml_text,
    tool=xml_text,
    source=st.sampled_from(["trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia"]),
)
def test_an_xmp_packet_we_write_parses_back_or_names_the_forbidden_character(title, tool, source):
    uri = f"http://cv.iptc.org/newscodes/digitalsourcetype/{source}"
    try:
        packet = xmp_packet(digital_source_type=uri, creator_tool=tool, title=title)
    except XmpError:
        assert xml_forbidden_character(title) or xml_forbidden_character(tool)
        return
    parsed = _parse_xmp(packet)
    assert not isinstance(parsed, MarkFinding), parsed
    assert uri.encode() in packet


@FAST
@given(
    body=st.text(alphabet=string.printable, max_size=40),
    injected=st.sampled_from(
        [
            '<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
            '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
            "<x:xmpmeta xmlns:x='adobe:ns:meta/'>",
        ]
    ),
)
def test_entity_declarations_in_xmp_are_refused_not_expanded(body, injected):
    result = _parse_xmp((injected + body).encode())
    if isinstance(result, MarkFinding):
        assert "refused" in result.detail or "not well-formed" in result.detail
    else:
        assert "passwd" not in "".join(result.itertext())


# -- C2PA manifest store summaries --------------------------------------------------------------

assertion = _json_like(["label", "data"]) | st.fixed_dictionaries(
    {
        "label": st.sampled_from(["c2pa.actions", "c2pa.actions.v2", "other"]),
        "data": json_values
        | st.fixed_dictionaries({"actions": st.lists(json_values, max_size=3) | json_values}),
    }
)
manifest = _json_like(
    ["assertions", "signature_info", "claim_generator_info", "claim_generator", "title"]
) | (
    st.fixed_dictionaries(
        {
            "assertions": st.lists(assertion, max_size=3) | json_values,
            "signature_info": json_values | _json_like(["common_name", "issuer", "alg", "time"]),
            "claim_generator_info": st.lists(json_values, max_size=2) | json_values,
        }
    )
)
store = _json_like(["manifests", "active_manifest"]) | st.fixed_dictionaries(
    {
        "active_manifest": st.just("m1") | json_values,
        "manifests": st.dictionaries(st.just("m1"), manifest) | json_values,
    }
)
results = _json_like(["activeManifest"]) | st.fixed_dictionaries(
    {"activeManifest": json_values | _json_like(["failure", "success"])}
)


@FAST
@given(
    store=store,
    state=st.sampled_from(["Valid", "Trusted", "Invalid", ""]) | st.text(max_size=10),
    results=results,
)
def test_any_manifest_store_summarises_without_raising(store, state, results):
    report = _report(store, state, results)
    assert isinstance(report, ManifestReport)
    assert isinstance(manifest_findings(report), list)


# -- Checkpoint notes -----------------------------------------------------------------------------

SIGNER, _ = generate_signer("fuzz.test/log")


@FAST
@given(text=st.text(max_size=200))
def test_any_checkpoint_body_parses_or_is_a_checkpoint_error(text):
    try:
        checkpoint = Checkpoint.parse(text)
    except CheckpointError:
        return
    assert checkpoint.body() == text  # strict: only the canonical form parses
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


@FAST
@given(note=st.text(max_size=300))
def test_any_note_opens_or_is_refused_with_a_note_error(note):
    try:
        open_note(note, [SIGNER.verifier()])
    except (InvalidNoteError, UnverifiedNoteError):
        pass


@FAST
@given(
    lines=st.lists(
        st.text(alphabet=st.characters(min_codepoint=0x20, exclude_categories=["Cs"]), max_size=30),
        min_size=1,
        max_size=5,
    )
)
def test_a_note_we_sign_opens_with_its_text_and_fails_once_tampered(lines):
    text = "".join(f"{line}\n" for line in lines)
    try:
        signed = sign_note(text, [SIGNER])
    except InvalidNoteError:
        return
    assert open_note(signed, [SIGNER.verifier()]).text == text
    tampered = "x" + signed
    with pytest.raises((InvalidNoteError, UnverifiedNoteError)):
        open_note(tampered, [SIGNER.verifier()])


# -- Proof parameters and ingest payloads (over HTTP) ------------------------------------------

param = st.text(max_size=25) | st.integers(min_value=-(2**70), max_value=2**70).map(str)


@pytest.mark.django_db
@SLOW
@given(
    path=st.sampled_from(["/log/proof/inclusion", "/log/proof/consistency", "/log/entries"]),
    a=param,
    b=param,
)
def test_proof_parameters_are_answered_or_refused_in_the_error_shape(path, a, b):
    names = {"/log/proof/inclusion": ("index", "size"), "/log/proof/consistency": ("old", "new")}
    first, second = names.get(path, ("start", "end"))
    response = Client().get(path, {first: a, second: b})
    assert response.status_code in (200, 400), (path, a, b, response.content[:200])
    if response.status_code == 400:
        error = response.json()["error"]
        assert error["code"] == "invalid" and error["fields"]


record_fields = [
    "generator",
    "generator_version",
    "prompt_sha256",
    "prompt_text",
    "inputs",
    "parameters",
    "output_sha256",
    "output_text",
    "output_media_type",
    "generated_at",
    "pipeline_run_id",
    "external_id",
]


@pytest.fixture
def ingest_token(db):
    from provenance.auth import api_client_create
    from provenance.models import Generator

    Generator.objects.get_or_create(name="writer")
    return api_client_create(name="fuzz-ingest", scopes=["records:write"], actor="test").token


@SLOW
@given(
    payload=_json_like(record_fields)
    | st.fixed_dictionaries(
        {
            "generator": st.just("writer") | json_values,
            "generator_version": st.text(max_size=10) | json_values,
            "output_sha256": st.just("a" * 64) | st.text(max_size=70),
            "generated_at": st.just("2026-01-31T09:30:00Z") | st.text(max_size=30) | json_values,
            "external_id": st.text(max_size=30),
        },
        optional={"parameters": json_values, "inputs": json_values, "output_text": json_values},
    )
    | json_values
)
def test_any_ingest_payload_is_stored_or_refused_in_the_error_shape(ingest_token, payload):
    response = Client().post(
        "/api/v1/provenance/records",
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {ingest_token}",
    )
    assert response.status_code in (200, 201, 400, 409, 413), (payload, response.content[:300])
    if response.status_code >= 400:
        error = response.json()["error"]
        assert isinstance(error["code"], str) and isinstance(error["fields"], dict)

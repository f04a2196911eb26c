"""Typed facts survive the state directory unchanged, or are not kept there at all (a raw name)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors._remote import quote_path
from scanner import facts
from scanner.facts import ColumnVerdict, ObjectPosture, SmbFileAccess, SmbReader, decode_fact, encode_fact

OBSERVATIONS = sorted((cls for cls in facts._RECORDS if issubclass(cls, facts.Observation)
                       and cls is not facts.Observation), key=lambda c: c.__name__)


@pytest.mark.parametrize("fact_type", OBSERVATIONS, ids=lambda c: c.__name__)
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_fact_type_round_trips_through_json_or_is_not_kept(fact_type: type, data: st.DataObject) -> None:
    fact = data.draw(st.builds(fact_type, resource_uri=st.just("db://x/t")))
    encoded = encode_fact(fact)
    if encoded is None:
        return
    assert repr(decode_fact("db://x/t", json.loads(json.dumps(encoded)))) == repr(fact)


READER = SmbReader(sid="S-1-5-21-3623811015-3361044348-30300820-1013", name="FIN\\analysts", broad=None,
                   via="S-1-1-0", how="allow", source="inherited", ace="(A;;FR;;;WD)", share_allows=True)
CASES = [
    # (fact, kept)
    (ColumnVerdict(resource_uri="u", column="phone", logical_name="phone", data_type="text",
                   entities={"CN_MOBILE_NUMBER": 3}, holds=("CN_MOBILE_NUMBER",), shares={"CN_MOBILE_NUMBER": 1.0}),
     True),
    (ColumnVerdict(resource_uri="u", column="c_110101199003070011", logical_name="c", data_type="text"), False),
    (ObjectPosture(resource_uri="u", bucket="kyc", key="scans/2026/a.pdf", acl_public=("AllUsers",)), True),
    (ObjectPosture(resource_uri="u", bucket="kyc", key="scans/13812345678.pdf"), False),
    # the object's URI names it: the name is not kept, and comes back from the URI
    (ObjectPosture(resource_uri="s3://kyc/scans/13812345678.pdf", bucket="kyc", key="scans/13812345678.pdf"), True),
    (SmbFileAccess(resource_uri="u", host="127.0.0.1", share="fin", path="a.csv", owner=None, owner_name=None,
                   readers=(READER,)), True),
]


@pytest.mark.parametrize(("fact", "kept"), CASES)
def test_facts_with_a_raw_personal_name_are_not_kept(fact: object, kept: bool) -> None:
    encoded = encode_fact(fact)
    assert (encoded is not None) == kept
    if kept:
        assert decode_fact(fact.resource_uri, json.loads(json.dumps(encoded))) == fact
        assert "13812345678" not in json.dumps(encoded)


@settings(max_examples=200, deadline=None)
@given(key=st.text(min_size=1, max_size=40).filter(lambda k: not any(0xD800 <= ord(c) <= 0xDFFF for c in k)))
def test_an_object_posture_keeps_no_key_and_gets_it_back_from_the_uri(key: str) -> None:
    uri = f"s3://kyc/{quote_path(key)}"
    fact = ObjectPosture(resource_uri=uri, bucket="kyc", key=key, encryption="SSE-S3")
    encoded = encode_fact(fact)
    assert encoded is not None and "key" not in encoded[1] and "bucket" not in encoded[1]
    assert decode_fact(uri, json.loads(json.dumps(encoded))) == fact

import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from cloudevents.core.bindings import kafka as binding
from cloudevents.core.formats.json import JSONFormat

from shared.errors import PoisonMessage
from shared.events.envelope import Envelope, derived_id
from shared.events.wire import Message, decode, encode


def test_an_envelope_survives_the_wire_in_cloudevents_binary_mode():
    event = Envelope(type="CaseReported", source="/griddesk/intake", subject="GD-1", data={"text": "楼道灯坏了"},
                     time=datetime(2026, 11, 28, 8, 0, tzinfo=timezone.utc))
    message = encode(event)
    headers = dict(message.headers)
    assert message.key == "GD-1"
    assert headers["ce_type"] == b"griddesk.CaseReported"
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_subject"] == b"GD-1"
    assert headers["content-type"] == b"application/json"
    assert headers["ce_correlationid"] == event.id.encode()
    assert headers["ce_schemaversion"] == b"1"
    assert message.value.decode() == '{"text":"楼道灯坏了"}'
    assert decode(message) == event


def test_a_caused_event_has_an_id_derived_from_its_cause_and_keeps_the_correlation():
    cause = Envelope(type="CaseReported", source="/s", subject="GD-1", data={})
    first = cause.caused("CaseAssigned", "/r", {"a": 1})
    again = cause.caused("CaseAssigned", "/r", {"a": 1})
    assert first.id == again.id == derived_id(cause.id, "CaseAssigned/")
    assert first.correlation_id == cause.correlation_id and first.causation_id == cause.id
    assert cause.caused("CaseAssigned", "/r", {}, purpose="other").id != first.id


@pytest.mark.parametrize("message", [
    Message(key="k", headers=(), value=b"{}"),
    Message(key="k", headers=(("ce_specversion", b"1.0"), ("ce_id", b"1"), ("ce_type", b"other.Thing"),
                              ("ce_source", b"/x"), ("content-type", b"application/json")), value=b"{}"),
    Message(key="k", headers=encode(Envelope(type="X", source="/s", subject="GD", data={})).headers,
            value=b"not json"),
])
def test_records_that_are_not_our_events_are_poison(message):
    with pytest.raises(PoisonMessage):
        decode(message)


@pytest.mark.parametrize("time", [datetime(2026, 11, 28, 8, 0, 0, 123456, tzinfo=timezone.utc),
                                  datetime(2026, 11, 28, 16, 0, tzinfo=timezone(timedelta(hours=8)))])
def test_the_decoder_reads_a_record_as_the_cloudevents_sdk_does(time):
    event = Envelope(type="CaseAssigned", source="/griddesk/router", subject="GD-2", time=time,
                     data={"level": "grid", "org": {"grid": "QJ01-G01"}, "note": "楼道灯坏了 🙂"},
                     correlation_id="c-1", causation_id="e-0", schema_version=2)
    message = encode(event)
    sdk = binding.from_binary(binding.KafkaMessage(headers=dict(message.headers), key=message.key,
                                                   value=message.value), JSONFormat())
    ours = decode(message)
    attributes = sdk.get_attributes()
    assert ours.type == attributes["type"].removeprefix("griddesk.")
    assert (ours.id, ours.source, ours.subject) == (attributes["id"], attributes["source"], attributes["subject"])
    assert ours.time == attributes["time"] == time
    assert (ours.correlation_id, ours.causation_id, ours.schema_version) == (
        attributes["correlationid"], attributes["causationid"], int(attributes["schemaversion"]))
    assert ours.data == sdk.get_data()
    assert ours == event


@pytest.mark.parametrize("change", [
    {"ce_specversion": b"0.3"}, {"ce_id": b""}, {"ce_time": b"yesterday"}, {"content-type": b"text/plain"}])
def test_a_record_with_broken_cloudevents_headers_is_poison(change):
    message = encode(Envelope(type="CaseReported", source="/s", subject="GD", data={}))
    headers = tuple((name, change.get(name, value)) for name, value in message.headers)
    with pytest.raises(PoisonMessage):
        decode(Message(key=message.key, headers=headers, value=message.value))


@pytest.mark.parametrize("time", [datetime(2026, 11, 28, 8, 0, tzinfo=timezone.utc),
                                  datetime(2026, 11, 28, 8, 0, 1, 4567, tzinfo=timezone.utc),
                                  datetime(2026, 11, 28, 16, 0, tzinfo=timezone(timedelta(hours=8)))])
def test_the_encoder_writes_the_record_the_cloudevents_sdk_writes(time):
    from cloudevents.core.v1.event import CloudEvent
    event = Envelope(type="CaseAssigned", source="/griddesk/router", subject="GD-2", time=time,
                     data={"level": "grid", "note": "楼道灯坏了 🙂", "ratio": 0.5, "none": None},
                     correlation_id="c-1", causation_id="e-0", schema_version=2)
    sdk = binding.to_binary(CloudEvent(attributes={
        "id": event.id, "type": "griddesk." + event.type, "source": event.source, "subject": event.subject,
        "time": event.time, "datacontenttype": "application/json", "correlationid": event.correlation_id,
        "causationid": event.causation_id, "schemaversion": str(event.schema_version)}, data=event.data),
        JSONFormat(), key_mapper=lambda e: e.get_subject())
    ours = encode(event)
    assert list(ours.headers) == list(sdk.headers.items())
    assert ours.key == sdk.key
    assert json.loads(ours.value) == json.loads(sdk.value)  # the SDK spaces its JSON; same value


def test_an_event_without_a_timezone_or_a_subject_is_refused_at_the_producer():
    with pytest.raises(ValueError):
        encode(Envelope(type="CaseReported", source="/s", subject="GD", data={}, time=datetime(2026, 1, 1)))
    with pytest.raises(ValueError):
        encode(Envelope(type="CaseReported", source="/s", subject="", data={}))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.text(max_size=20))
def test_a_derived_id_is_the_uuid5_of_its_cause_and_purpose(cause_id, purpose):
    import uuid
    from shared.events.envelope import _DERIVED_NAMESPACE
    assert derived_id(cause_id, purpose) == str(uuid.uuid5(_DERIVED_NAMESPACE, f"{cause_id}/{purpose}"))


def test_a_time_without_a_timezone_is_poison_and_lowercase_rfc3339_is_read():
    message = encode(Envelope(type="CaseReported", source="/s", subject="GD", data={},
                              time=datetime(2026, 11, 28, 8, 0, tzinfo=timezone.utc)))
    def with_time(value: bytes) -> Message:
        return Message(key=message.key, value=message.value,
                       headers=tuple((n, value if n == "ce_time" else v) for n, v in message.headers))
    for naive in (b"2026-11-28T08:00:00", b"2026-11-28"):
        with pytest.raises(PoisonMessage):
            decode(with_time(naive))
    assert decode(with_time(b"2026-11-28t08:00:00z")).time == datetime(2026, 11, 28, 8, 0, tzinfo=timezone.utc)

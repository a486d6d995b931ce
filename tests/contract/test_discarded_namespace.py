"""A namespace on shared servers (a test's, a benchmark's) can be given back: its topics and its database
go, another namespace's stay."""
from __future__ import annotations

import pytest
from kafka import KafkaAdminClient
from pymongo import MongoClient

from shared.backends import build_event_log, build_store, discard_namespace
from shared.config import BackendSettings
from tests.conftest import unique_namespace


def deployment(real_backends) -> BackendSettings:
    kafka, mongo = real_backends
    settings = BackendSettings(backend="kafka", kafka_bootstrap=kafka, mongodb_uri=mongo,
                               namespace=unique_namespace(), kafka_partitions=1)
    log = build_event_log(settings)
    log.ensure_topics(["a.events", "b.events"])
    log.close()
    build_store(settings).insert("things", {"_id": "x"})
    return settings


def test_discarding_a_namespace_deletes_its_topics_and_database_only(real_backends):
    doomed, kept = deployment(real_backends), deployment(real_backends)
    discard_namespace(doomed)
    admin = KafkaAdminClient(bootstrap_servers=doomed.kafka_bootstrap)
    mongo = MongoClient(doomed.mongodb_uri)
    try:
        topics = set(admin.list_topics())
        databases = set(mongo.list_database_names())
        assert not {t for t in topics if t.startswith(doomed.namespace)}
        assert {f"{kept.namespace}a.events", f"{kept.namespace}b.events"} <= topics
        assert doomed.namespace + doomed.mongodb_database not in databases
        assert kept.namespace + kept.mongodb_database in databases
    finally:
        discard_namespace(kept)
        admin.close()
        mongo.close()


def test_a_deployment_without_a_namespace_is_never_discarded(real_backends):
    kafka, mongo = real_backends
    with pytest.raises(ValueError):
        discard_namespace(BackendSettings(backend="kafka", kafka_bootstrap=kafka, mongodb_uri=mongo, namespace=""))

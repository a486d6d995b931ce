"""Builds the shared adapters from BackendSettings. Each service's ``bootstrap`` calls these; nothing
else in the code base constructs an adapter."""
from __future__ import annotations

import os
from typing import Mapping

from shared.config import BackendSettings
from shared.ports import DocumentStore, EventLog, FileStore
from shared.unit_of_work import BatchingStore


def build_event_log(settings: BackendSettings, *, client_id: str = "griddesk") -> EventLog:
    if settings.backend == "kafka":
        from shared.adapters.kafka_event_log import KafkaEventLog
        log: EventLog = KafkaEventLog(settings.kafka_bootstrap, partitions=settings.kafka_partitions,
                                      replication=settings.kafka_replication, client_id=client_id)
    else:
        from shared.adapters.sqlite_event_log import SqliteEventLog
        log = SqliteEventLog(os.path.join(settings.data_dir, "events.sqlite"),
                             synchronous=settings.sqlite_synchronous)
    if settings.namespace:
        from shared.adapters.namespaced_event_log import NamespacedEventLog
        log = NamespacedEventLog(log, settings.namespace)
    return log


def build_store(settings: BackendSettings, *, remembered: Mapping[str, int] | None = None) -> BatchingStore:
    """The document store, wrapped so that a consume loop can make each batch one unit of work
    (``shared.unit_of_work``); outside a batch every call goes straight to the adapter. ``remembered``:
    {collection: documents} the batches keep as they stored them (``shared.remembered_documents``)."""
    if settings.backend == "kafka":
        from shared.adapters.mongo_store import MongoStore
        adapter: DocumentStore = MongoStore(settings.mongodb_uri, settings.namespace + settings.mongodb_database)
    else:
        from shared.adapters.sqlite_store import SqliteStore
        adapter = SqliteStore(os.path.join(settings.data_dir, "store.sqlite"), synchronous=settings.sqlite_synchronous)
    return BatchingStore(adapter, remembered=remembered)


def build_file_store(settings: BackendSettings) -> FileStore:
    if settings.backend == "kafka":
        from shared.adapters.gridfs_file_store import GridFsFileStore
        return GridFsFileStore(settings.mongodb_uri, settings.namespace + settings.mongodb_database)
    from shared.adapters.disk_file_store import DiskFileStore
    return DiskFileStore(os.path.join(settings.data_dir, "files"))


def discard_namespace(settings: BackendSettings) -> None:
    """Give up a namespace on shared servers: delete its topics and drop its database. For test runs and
    benchmarks, which each take a fresh namespace; a broker that keeps thousands of dead partitions
    slows down every later client. Refuses settings without a namespace (that is a real deployment)."""
    if settings.backend != "kafka":
        return
    if not settings.namespace:
        raise ValueError("only a namespaced deployment can be discarded")
    from shared.adapters.kafka_event_log import KafkaEventLog
    from shared.adapters.mongo_store import MongoStore
    log = KafkaEventLog(settings.kafka_bootstrap)
    log.delete_topics(settings.namespace)
    log.close()
    store = MongoStore(settings.mongodb_uri, settings.namespace + settings.mongodb_database)
    store.drop()
    store.close()

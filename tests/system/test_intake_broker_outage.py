"""With the Kafka broker stopped, intake still answers 202; once the broker is back, the outbox relay
publishes those reports and the router dispatches them. A broker of this test's own is stopped and
started again (deploy/local/backends.sh), so the suite's shared broker is never disturbed."""
from __future__ import annotations

import os
import subprocess
import time

import pytest

from shared import auth
from shared.adapters.kafka_event_log import KafkaEventLog
from shared.adapters.namespaced_event_log import NamespacedEventLog
from shared.config import BackendSettings
from shared.events.contracts import ROUTER_EVENTS
from shared.events.wire import decode
from shared.org.demo import demo_registry
from shared.org.registry import import_registry
from tests.conftest import ROOT, unique_namespace

pytestmark = [pytest.mark.system, pytest.mark.real_backend]

PORT = int(os.environ.get("GRIDDESK_TEST_PORT_BASE", "18100")) + 46  # kafka, +1 controller, +2 its FerretDB


def backends(command, var_dir):
    env = {**os.environ, "GRIDDESK_VAR": str(var_dir), "KAFKA_PORT": str(PORT), "FERRETDB_PORT": str(PORT + 2)}
    result = subprocess.run(["bash", str(ROOT / "deploy" / "local" / "backends.sh"), command], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture
def own_broker(tmp_path):
    var_dir = tmp_path / "backends"
    backends("start", var_dir)
    yield var_dir
    backends("stop", var_dir)


def test_reports_taken_while_the_broker_is_down_are_dispatched_when_it_is_back(own_broker, real_backends):
    from services.intake import bootstrap, handlers
    from services.intake.settings import IntakeSettings
    from services.router import bootstrap as router_bootstrap
    from services.router.settings import RouterSettings

    _, mongo = real_backends  # the store stays up: only the broker goes away
    settings = BackendSettings(backend="kafka", kafka_bootstrap=f"127.0.0.1:{PORT}", mongodb_uri=mongo,
                               namespace=unique_namespace(), kafka_partitions=1)
    quick_to_give_up = KafkaEventLog(settings.kafka_bootstrap, partitions=1, timeout_s=3)
    intake = bootstrap.build(IntakeSettings(backend=settings, relay_grace_s=0),
                             log=NamespacedEventLog(quick_to_give_up, settings.namespace))
    bootstrap.prepare(intake)
    import_registry(intake.store, demo_registry())
    client = bootstrap.create_app(intake).test_client()
    key = {"X-API-Key": auth.issue_api_key(intake.store, "hotline")}

    def report(text):
        response = client.post("/api/v1/reports", headers=key, json={
            "channel": "hotline", "text": text, "location": {"unit_code": "QJ01-G01-01-1"}})
        assert response.status_code == 202
        return response.get_json()["case_id"]

    before = report("楼道灯一直不亮")  # intake has been publishing normally
    intake.published_marks.flush()  # and marks what it published, off the request's path
    assert handlers.unpublished_count(intake.store) == 0
    backends("stop", own_broker)
    case_ids = [report("3号楼楼道灯坏了"), report("小区门口垃圾没人清理")]
    assert handlers.unpublished_count(intake.store) == 2

    backends("start", own_broker)  # a fresh broker: the workers create their topics again as they start
    bootstrap.prepare(intake)
    router = router_bootstrap.build(RouterSettings(backend=settings))
    router_bootstrap.prepare(router)
    deadline = time.monotonic() + 120
    while handlers.unpublished_count(intake.store) and time.monotonic() < deadline:
        try:
            handlers.relay_unpublished(store=intake.store, publisher=intake.publisher, clock=intake.clock,
                                       grace_s=0)
        except Exception:  # the broker may still be electing its controller: the relay retries
            time.sleep(1)
    assert handlers.unpublished_count(intake.store) == 0
    subscription = router.log.subscribe("outage-reader", [ROUTER_EVENTS])
    assigned = set()
    while set(case_ids) - assigned and time.monotonic() < deadline:
        router.consume_loop().run(max_idle_polls=4)
        assigned |= {decode(r.message).subject for r in subscription.poll(0.5, 100)
                     if decode(r.message).type == "CaseAssigned"}
        print("pumped", time.monotonic(), assigned)
    subscription.close()
    assert assigned == set(case_ids)
    for service in (intake, router):
        service.log.close()
        service.store.close()

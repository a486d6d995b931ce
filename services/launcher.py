"""What the command line needs to know about each service: how to build it, prepare its backends,
serve its HTTP API and run its worker. The one module that knows all four services; it is an entry
point, so it may (services never import each other)."""
from __future__ import annotations

import importlib
import logging
import time
from dataclasses import dataclass

from shared.errors import BackendUnavailable
from shared.config import log_level
from shared.observability.logs import configure_logging
from shared.process import StopFlag, settle_after_start

log = logging.getLogger(__name__)

SERVICES = ("intake", "router", "tracker", "notifier")


@dataclass(frozen=True)
class ServiceModules:
    name: str

    def module(self, part: str):
        return importlib.import_module(f"services.{self.name}.{part}")

    def settings(self):
        settings_module = self.module("settings")
        cls = next(getattr(settings_module, n) for n in dir(settings_module) if n.endswith("Settings")
                   and n not in ("BackendSettings", "HttpSettings"))
        return cls.from_env()


def prepare_backends(name: str, *, wait_s: float = 120.0) -> None:
    """Create the service's topics and indexes, waiting for the backends to come up if they are not yet."""
    bootstrap = ServiceModules(name).module("bootstrap")
    deadline = time.monotonic() + wait_s
    pause = 0.5
    while True:
        service = bootstrap.build()
        try:
            bootstrap.prepare(service)
            return
        except BackendUnavailable as error:
            if time.monotonic() > deadline:
                raise
            log.warning("backends not ready for %s (%s); retrying in %.1fs", name, error, pause)
            time.sleep(pause)
            pause = min(pause * 2, 5.0)
        finally:
            service.log.close()
            service.store.close()


def serve(name: str) -> None:
    from shared.http_server import serve_http

    configure_logging(name, log_level())
    modules = ServiceModules(name)
    settings = modules.settings()
    prepare_backends(name)
    bootstrap = modules.module("bootstrap")
    serve_http(bootstrap.create_app, host=settings.http.host, port=settings.http.port,
               workers=settings.http.workers, threads=settings.http.threads, service=name)


def run_worker(name: str) -> None:
    configure_logging(name, log_level())
    modules = ServiceModules(name)
    prepare_backends(name)
    service = modules.module("bootstrap").build()
    settle_after_start()
    stop = StopFlag().install()
    log.info("%s worker started", name)
    try:
        modules.module("worker").run(service, stop)
    finally:
        service.log.close()
        service.store.close()
        log.info("%s worker stopped", name)

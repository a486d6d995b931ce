"""gunicorn started from code: one Flask app built per worker, after the fork, so that no process
shares a backend connection with another; dead workers' metric files are marked for cleanup."""
from __future__ import annotations

from typing import Callable

from gunicorn.app.base import BaseApplication

from shared.observability import metrics
from shared.process import settle_after_start


class _Gunicorn(BaseApplication):
    def __init__(self, app_factory: Callable, options: dict):
        self._app_factory = app_factory
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        return self._app_factory()  # runs in each worker, after the fork


def _child_exit(server, worker) -> None:
    metrics.mark_process_dead(worker.pid)


def _post_worker_init(worker) -> None:
    settle_after_start()  # the worker has built its app: what it keeps from now on


def serve_http(app_factory: Callable, *, host: str, port: int, workers: int, service: str, threads: int = 4) -> None:
    """Serve a Flask app factory under gunicorn (threaded workers; one app built per worker)."""
    _Gunicorn(app_factory, {
        "bind": f"{host}:{port}",
        "workers": max(1, workers),
        "worker_class": "gthread",
        "threads": max(1, threads),
        "timeout": 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        "reuse_port": True,  # a restarted server binds while a killed one's orphaned workers drain
        "proc_name": f"griddesk-{service}",
        "child_exit": _child_exit,
        "post_worker_init": _post_worker_init,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
    }).run()

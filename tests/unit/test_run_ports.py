"""``griddesk run`` refuses to start on a port another server holds, even one bound with SO_REUSEPORT
(as griddesk's own HTTP servers are), instead of silently sharing its connections."""
from __future__ import annotations

import socket

from click.testing import CliRunner

from services.cli import main


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_run_stops_with_a_clear_error_when_a_service_port_is_taken(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = CliRunner().invoke(main, ["run", "--var-dir", str(tmp_path)],
                                    env={"GRIDDESK_TRACKER_PORT": str(port), "GRIDDESK_DATA_DIR": str(tmp_path / "d"),
                                         **{f"GRIDDESK_{s}_PORT": str(free_port()) for s in ("INTAKE", "ROUTER", "NOTIFIER")}})
    assert result.exit_code == 1
    assert f"tracker's port 127.0.0.1:{port} is taken" in result.output
    assert "GRIDDESK_TRACKER_PORT" in result.output
    assert not (tmp_path / "run").exists()  # nothing was started

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="docker-compose (Debian package) is not installed",
)
def test_compose_file_validates_with_docker_compose():
    result = subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )

    assert result.returncode == 0, result.stderr


def test_compose_stack_has_every_production_part_with_health_gated_start():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]

    assert {"db", "redis", "web", "worker", "beat"} <= set(services)
    assert services["db"]["image"].startswith("postgres:1")
    assert int(services["db"]["image"].split(":")[1]) >= 15
    assert services["redis"]["image"] == "redis:7"
    for name in ("db", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["web"]["command"][:3] == ["granian", "--interface", "wsgi"]
    assert {"db-data", "media"} <= set(compose["volumes"])

"""What an operator deploys (issue 10): the README's two commands, the Dockerfile, the
systemd unit and the compose file start `serve` as documented, with the settings the
service itself has."""

from __future__ import annotations

import re
import shlex
import tomllib

import yaml

from scheduler.settings import Settings, load_settings
from tests.conftest import ROOT


def _readme_commands() -> list[str]:
    part = ROOT.joinpath("README.md").read_text(encoding="utf-8").split("## Käyttö / Usage")[0]
    return [block.strip() for block in re.findall(r"```sh\n(.+?)\n *```", part, re.DOTALL)]


def test_the_first_readme_command_starts_the_service_and_ci_runs_the_second() -> None:
    first, second = _readme_commands()[:2]
    assert shlex.split(first)[-2:] == [".venv/bin/yhdyspinta", "serve"]
    ci = ROOT.joinpath(".ci", "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert ci == second


def test_the_image_serves_by_default_and_probes_its_health() -> None:
    docker = ROOT.joinpath("Dockerfile").read_text(encoding="utf-8")
    assert 'CMD ["serve"]' in docker and "/healthz" in docker and "EXPOSE 8480" in docker


def test_the_systemd_unit_gives_the_drain_its_time_and_does_not_restart_a_bad_config() -> None:
    unit = ROOT.joinpath("deploy", "yhdyspinta.service").read_text(encoding="utf-8")
    values = dict(line.split("=", 1) for line in unit.splitlines()
                  if "=" in line and not line.startswith("#"))
    assert values["ExecStart"].endswith("yhdyspinta serve")
    assert int(values["TimeoutStopSec"]) >= Settings().service.drain_seconds + 5
    assert values["RestartPreventExitStatus"] == "2" and values["KillSignal"] == "SIGTERM"


def test_the_compose_file_runs_a_leader_and_a_standby_on_postgresql() -> None:
    compose = yaml.safe_load(ROOT.joinpath("deploy", "compose.yaml").read_text(encoding="utf-8"))
    service = compose["services"]["yhdyspinta"]
    assert service["command"] == ["serve"] and service["deploy"]["replicas"] == 2
    assert service["environment"]["YHDYSPINTA_DATABASE_URL"].startswith("postgresql")
    assert "PASSWORD" not in str(service["environment"])  # secrets are files
    assert service["stop_grace_period"] == "35s"


def test_the_shipped_configuration_states_the_service_defaults() -> None:
    shipped = load_settings(ROOT / "config" / "yhdyspinta.toml", {})
    assert shipped.service == Settings().service
    assert shipped.retention == Settings().retention
    raw = tomllib.loads(ROOT.joinpath("config", "yhdyspinta.toml").read_text(encoding="utf-8"))
    assert set(raw["service"]) == set(Settings().service.model_dump())

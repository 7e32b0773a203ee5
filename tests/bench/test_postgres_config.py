"""deploy/postgresql.conf, production's PostgreSQL settings: sized from memory as documented,
and the file both docker-compose.yml and `make bench` start PostgreSQL with."""

from __future__ import annotations

import re

import pytest
import yaml

from bench import postgres
from bench.postgres import CONFIG
from bench.postgres import parse_memory
from bench.postgres import setting_names
from bench.postgres import sized_config
from tests.processes import ROOT

GiB = 2**30


def values(text: str) -> dict[str, str]:
    return dict(re.findall(r"^(\w+) = (\S+)", text, re.M))


def test_the_file_holds_the_values_for_the_8_gib_host_it_says() -> None:
    text = CONFIG.read_text()
    assert "for 8 GiB of memory" in text
    assert sized_config(text, 8 * GiB) == text


@pytest.mark.parametrize(
    ("memory", "expected"),
    [
        (
            24 * GiB,
            {
                "shared_buffers": "6144MB",
                "effective_cache_size": "18432MB",
                "work_mem": "61MB",
                "maintenance_work_mem": "1228MB",
            },
        ),
        # 5 % of 64 GiB is 3276 MB: maintenance_work_mem stops at its cap.
        (
            64 * GiB,
            {
                "shared_buffers": "16384MB",
                "effective_cache_size": "49152MB",
                "work_mem": "163MB",
                "maintenance_work_mem": "2048MB",
            },
        ),
    ],
)
def test_the_sized_settings_follow_memory(memory: int, expected: dict[str, str]) -> None:
    sized = values(sized_config(CONFIG.read_text(), memory))
    assert {name: sized[name] for name in expected} == expected
    # Whatever the memory, the rest of the file is the same.
    fixed = {k: v for k, v in values(CONFIG.read_text()).items() if k not in expected}
    assert {k: v for k, v in sized.items() if k not in expected} == fixed


def test_the_sized_file_names_its_memory_and_can_be_sized_again() -> None:
    once = sized_config(CONFIG.read_text(), 32 * GiB)
    assert "for 32 GiB of memory" in once
    assert sized_config(once, 8 * GiB) == CONFIG.read_text()


def test_memory_sizes() -> None:
    assert parse_memory("8GiB") == 8 * GiB
    assert parse_memory("1.5 TiB") == 1536 * GiB
    assert parse_memory("512MiB") == GiB // 2
    with pytest.raises(ValueError, match="not a size"):
        parse_memory("8G")


def test_production_settings_are_the_ones_benchmarked() -> None:
    names = setting_names(CONFIG.read_text())
    assert {"shared_buffers", "effective_cache_size", "random_page_cost", "jit"} <= set(names)
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    postgres = compose["services"]["postgres"]
    mount = "${POSTGRES_CONFIG:-./deploy/postgresql.conf}:/etc/postgresql/postgresql.conf:ro"
    assert mount in postgres["volumes"]
    assert postgres["command"] == ["postgres", "-c", "config_file=/etc/postgresql/postgresql.conf"]


def test_without_postgresql_the_bench_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres, "server_binaries", lambda: None)
    with pytest.raises(SystemExit, match="no PostgreSQL server here"), postgres.own_cluster(1):
        pass

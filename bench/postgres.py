"""The PostgreSQL `make bench` runs on: a cluster of its own, started with production's settings
(deploy/postgresql.conf, sized for this machine's memory), unless BENCH_DATABASE_URL names a
server. The machine's shared server keeps the default 128 MB of shared buffers, which the 50k
database outgrows five times over; a benchmark of the weekly run on it measured the server's
configuration, not the pipeline (docs/benchmarks.md, issue 20).

`python -m bench.postgres [--memory 32GiB]` prints deploy/postgresql.conf sized for a host of
that memory (this machine's by default).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from tests.processes import ROOT

CONFIG = ROOT / "deploy" / "postgresql.conf"

# `name = value   # sized: 25% of memory` or `... # sized: 5% of memory, at most 2048MB`
SIZED = re.compile(
    r"^(?P<name>\w+)(?P<eq>\s*=\s*)(?P<value>\S+)(?P<pad>\s*)"
    r"(?P<tag>#\s*sized:\s*(?P<percent>[\d.]+)% of memory(?:, at most (?P<cap>\d+)MB)?)\s*$"
)
HOST = re.compile(r"for [\d.]+ GiB of memory")
SETTING = re.compile(r"^(?P<name>\w+)\s*=\s*(?P<value>'[^']*'|\S+)")
MEMORY = re.compile(r"^(?P<number>[\d.]+)\s*(?P<unit>MiB|GiB|TiB)$")
UNITS = {"MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


def sized_config(text: str, memory: int) -> str:
    """deploy/postgresql.conf with every `# sized:` line's value computed for ``memory`` bytes
    (the percentage, rounded down to a MB, and no more than the cap when there is one), and the
    memory its header names."""
    lines = []
    for line in text.splitlines():
        line = HOST.sub(f"for {memory / 2**30:.3g} GiB of memory", line)
        match = SIZED.match(line)
        if match:
            mb = int(memory * float(match["percent"]) / 100 // 2**20)
            if match["cap"]:
                mb = min(mb, int(match["cap"]))
            value = f"{mb}MB"
            pad = " " * max(1, len(match["value"]) + len(match["pad"]) - len(value))
            line = f"{match['name']}{match['eq']}{value}{pad}{match['tag']}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def setting_names(text: str) -> list[str]:
    """The settings a configuration file sets, in its order."""
    return [m["name"] for line in text.splitlines() if (m := SETTING.match(line))]


def parse_memory(text: str) -> int:
    """Bytes of `512MiB`, `8GiB`, `1.5TiB`."""
    match = MEMORY.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a size like 8GiB")
    return int(float(match["number"]) * UNITS[match["unit"]])


def machine_memory() -> int:
    """This machine's memory in bytes (MemTotal)."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    raise SystemExit("bench: /proc/meminfo has no MemTotal")


def server_binaries() -> Path | None:
    """The directory of initdb, pg_ctl and postgres: Debian's newest
    /usr/lib/postgresql/<major>/bin, else wherever PATH finds initdb (Homebrew, other
    distributions); None without them."""

    def major(path: Path) -> int:
        return int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0

    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=major)
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class Cluster:
    """A PostgreSQL cluster in a directory of its own under the temporary directory, one per
    checkout, kept between runs (so that `--reuse` finds its database) and started and stopped
    around each run. As root it runs as the `postgres` user: initdb and postgres refuse root."""

    def __init__(self, bindir: Path, memory: int) -> None:
        self.bindir = bindir
        self.memory = memory
        self.version = bindir.parent.name if bindir.parent.name.isdigit() else "local"
        checkout = hashlib.sha256(str(ROOT).encode()).hexdigest()[:8]
        self.home = Path(tempfile.gettempdir()) / f"duet-bench-postgres-{checkout}"
        self.data = self.home / self.version
        self.log_path = self.home / f"{self.version}.log"
        self.as_postgres = os.geteuid() == 0

    def command(self, program: str, *argv: str) -> list[str]:
        command = [str(self.bindir / program), *argv]
        return ["runuser", "-u", "postgres", "--", *command] if self.as_postgres else command

    def run(self, program: str, *argv: str, check: bool = True) -> int:
        done = subprocess.run(self.command(program, *argv), capture_output=True, text=True)
        if check and done.returncode:
            raise SystemExit(f"bench: {program} failed:\n{done.stdout}{done.stderr}")
        return done.returncode

    def own(self, path: Path) -> None:
        if self.as_postgres:
            shutil.chown(path, "postgres", "postgres")

    def init(self) -> None:
        """initdb once; the sized settings written on every start, so that a change of
        deploy/postgresql.conf (or of the machine) reaches the next run."""
        self.home.mkdir(mode=0o700, exist_ok=True)
        self.own(self.home)
        if not (self.data / "PG_VERSION").exists():
            self.run(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            )
        (self.data / "duet.conf").write_text(self.config())
        self.own(self.data / "duet.conf")
        main = self.data / "postgresql.conf"
        if "include 'duet.conf'" not in main.read_text():
            with main.open("a") as conf:
                conf.write("\n# Duet's production settings (bench/postgres.py)\n")
                conf.write("include 'duet.conf'\n")

    def config(self) -> str:
        return "# bench/postgres.py: rewritten on every start\n" + sized_config(
            CONFIG.read_text(), self.memory
        )

    def start(self, port: int) -> None:
        if self.run("pg_ctl", "-D", str(self.data), "status", check=False) == 0:
            self.stop()  # left running by a run killed outright
        options = f"-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
        self.run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log_path),
            "-o",
            options,
            "-w",
            "-t",
            "120",
            "start",
        )
        self.port = port

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])


@contextmanager
def own_cluster(port: int, memory: int | None = None) -> Iterator[Cluster]:
    """The bench's cluster, started on ``port`` with deploy/postgresql.conf sized for
    ``memory`` (this machine's by default), and stopped at the end: on failure, Ctrl-C and
    SIGTERM too."""
    bindir = server_binaries()
    if bindir is None:
        raise SystemExit(
            "bench: no PostgreSQL server here (initdb and postgres, Debian's postgresql package), "
            "so the benchmarks, which all need a database, cannot run. Install it, or set "
            "BENCH_DATABASE_URL to a server configured as deploy/postgresql.conf."
        )
    cluster = Cluster(bindir, memory or machine_memory())
    cluster.init()

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        cluster.start(port)
        yield cluster
    finally:
        cluster.stop()
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory", type=parse_memory, help="the host's memory, e.g. 32GiB")
    args = parser.parse_args(argv)
    print(sized_config(CONFIG.read_text(), args.memory or machine_memory()), end="")


if __name__ == "__main__":
    main()

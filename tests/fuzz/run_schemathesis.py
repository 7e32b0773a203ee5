"""`make fuzz`: Schemathesis against the live schema, as a partner, an outsider and a therapist.

Fresh database (PostgreSQL `duet_fuzz` when DATABASE_URL names PostgreSQL, else a temporary
SQLite file), migrations, demo data, gunicorn on a free loopback port, then one `st run` per
identity over every operation of /api/v1/schema/ with the checks below and the hooks of
tests/fuzz/hooks.py. Exits non-zero on any failure or error, or if an operation of the schema was
never called in a pass, and prints the figures docs/testing.md records (how and why, there).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.parse import urlunparse

from tests.processes import BIN
from tests.processes import ROOT
from tests.processes import answers
from tests.processes import free_port
from tests.processes import manage_or_exit
from tests.processes import poll
from tests.processes import running

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "ignored_auth",
    # Ours (tests/fuzz/hooks.py): objects out of reach answer 404; deep JSON is refused.
    "foreign_objects_answer_404",
    "deep_json_is_refused",
)
HOOKS = "tests.fuzz.hooks"
DEMO_PASSWORD = "duet-demo-password"  # engagement/management/commands/seed_demo.py
# The partners go first: the therapist may remove members or end couples, which would leave a
# partner's pass with little to see; what a partner can do touches only their own couple. The
# outsider is a partner of a couple of their own, outside the demo (`make_outsider`): every demo
# object is out of their reach, and their couple's objects out of the others'.
OUTSIDER_EMAIL = "outsider@fuzz.duet.local"
IDENTITIES = (
    ("partner", "ana@demo.duet.local"),
    ("outsider", OUTSIDER_EMAIL),
    ("therapist", "therapist@demo.duet.local"),
)
# The lists whose ids the fuzzer aims at (and checks for 404 when out of reach).
OBJECT_LISTS = ("/couples/", "/sessions/", "/commitments/", "/invitations/", "/reports/")
# A pass must end before its access token does (15 minutes), with a margin.
MAX_PASS_SECONDS = 800
# How often a parameter that names an object takes a known id rather than a generated one.
KNOWN_ID_PROBABILITY = 0.5
# High enough that the fuzzer never meets a throttle: 429s would hide the answers under test.
UNTHROTTLED = "1000000/min"


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def log(message: str) -> None:
    sys.stderr.write(f"[fuzz {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


@dataclass
class Pass:
    """One `st run` as one identity, and what its JSON report says."""

    identity: str
    report: dict[str, Any]
    still_signed_in: bool
    calls: dict[str, int]  # requests sent per operation ("GET /api/v1/couples/")
    operations_of_schema: list[str]
    foreign_ids: int = 0
    # A run narrowed with `st run` options (`-- --include-path-regex ...`) calls only what it
    # selects; a full run (CI's) must call every operation of the schema.
    narrowed: bool = False

    @property
    def unexercised(self) -> list[str]:
        return [op for op in self.operations_of_schema if not self.calls.get(op)]

    @property
    def operations(self) -> int:
        return int((self.report.get("operations") or {}).get("tested", 0))

    @property
    def cases(self) -> int:
        return int(self.report["test_cases"]["generated"])

    @property
    def failures(self) -> int:
        return sum(int(group["count"]) for group in self.report["failures"])

    @property
    def errors(self) -> int:
        return sum(int(group["count"]) for group in self.report["errors"])

    @property
    def ok(self) -> bool:
        return (
            self.report["exit_code"] == 0
            and self.failures == 0
            and self.errors == 0
            and self.still_signed_in
            and (self.narrowed or not self.unexercised)
        )


class FuzzRun:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.database_name = ""
        self.database_url = self._database_url(os.environ.get("DATABASE_URL", ""))
        self.env = {
            key: value
            for key, value in os.environ.items()
            # Nothing shared with other runs: no Redis (tests/fuzz/settings.py), our own database.
            if key not in {"REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
        } | {
            "DJANGO_SETTINGS_MODULE": "tests.fuzz.settings",
            "DATABASE_URL": self.database_url,
            "THROTTLE_USER_RATE": UNTHROTTLED,
            "THROTTLE_ANON_RATE": UNTHROTTLED,
            "THROTTLE_AUTH_IP_RATE": UNTHROTTLED,
            "THROTTLE_AUTH_EMAIL_RATE": UNTHROTTLED,
            "THROTTLE_SIGNIN_EMAIL_IP_RATE": UNTHROTTLED,
            "THROTTLE_SIGNIN_IP_RATE": UNTHROTTLED,
            "THROTTLE_SIGNIN_EMAIL_RATE": UNTHROTTLED,
            "THROTTLE_INVITE_USER_RATE": UNTHROTTLED,
            "THROTTLE_INVITE_EMAIL_RATE": UNTHROTTLED,
            "THROTTLE_EXPORT_RATE": UNTHROTTLED,
            "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1",
        }
        self.operations: list[str] = []
        self.server_log = workdir / "server.log"

    def _database_url(self, given: str) -> str:
        if given.startswith(("postgres://", "postgresql://", "pgsql://")):
            # Same server, our own database: recreated every run, never the one given.
            # Named after the given one (`duet_ci` gives `duet_ci_fuzz`), so two checkouts
            # fuzzing on one server with databases of their own never drop each other's.
            url = urlparse(given)
            name = f"{url.path.strip('/') or 'duet'}_fuzz"
            self.database_name = name
            return urlunparse(url._replace(path=f"/{name}"))
        return f"sqlite:///{self.workdir / 'fuzz.sqlite3'}"

    @property
    def on_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://", "pgsql://"))

    # --- set-up -------------------------------------------------------------------------------

    def recreate_database(self) -> None:
        if not self.on_postgres:
            log(f"database: SQLite at {self.database_url.removeprefix('sqlite:///')}")
            return
        import psycopg

        admin_url = urlunparse(urlparse(self.database_url)._replace(path="/postgres"))
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.database_name}"')
        log(f"database: PostgreSQL {self.database_name}, recreated")

    def manage(self, *argv: str) -> str:
        return manage_or_exit(*argv, env=self.env)

    @contextmanager
    def server(self, port: int) -> Iterator[str]:
        argv = [
            str(BIN / "gunicorn"),
            "config.wsgi",
            "--config",
            "config/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(self.args.web_workers if self.on_postgres else 1),
            "--threads",
            "1",
            # Not the shared ~/.gunicorn/gunicorn.ctl, which other gunicorns on this host use.
            "--no-control-socket",
        ]
        with running(argv, log_path=self.server_log, env=self.env) as process:
            base = f"http://127.0.0.1:{port}"
            self.wait_until_up(f"{base}/healthz", process)
            yield base

    def wait_until_up(self, url: str, process: subprocess.Popen[bytes]) -> None:
        def up() -> bool:
            if process.poll() is not None:
                raise SystemExit(f"gunicorn exited:\n{self.server_log.read_text()[-4000:]}")
            return answers(url)

        if not poll(up, 60):
            raise SystemExit(f"{url} did not answer within 60 s")

    # --- identities -------------------------------------------------------------------------------

    def make_password_secret(self, base: str, email: str) -> str:
        """Give a demo account a password only this run knows, through the API; return it.

        The fuzzer may POST to DELETE /me/, /auth/password/change/ or /me/email/, which take
        the current password; with a password nobody else knows, they can only ever answer
        400, so the account and its tokens last the whole run.
        """
        first = self.sign_in(base, email, DEMO_PASSWORD)
        password = secrets.token_urlsafe(24)
        self.call(
            base,
            "POST",
            "/auth/password/change/",
            {"old_password": DEMO_PASSWORD, "new_password": password},
            token=first,
        )
        return password

    def sign_in(self, base: str, email: str, password: str) -> str:
        """An access token from POST /auth/token/, as the apps get one."""
        pair = self.call(base, "POST", "/auth/token/", {"email": email, "password": password})
        return str(pair["access"])

    def call(
        self, base: str, method: str, path: str, body: Any = None, token: str | None = None
    ) -> Any:
        request = urllib.request.Request(  # noqa: S310 - loopback only
            f"{base}/api/v1{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"}
            | ({"Authorization": f"Bearer {token}"} if token else {}),
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise SystemExit(f"{method} {path}: {exc.code} {exc.read()[:500]!r}") from None
        return json.loads(raw) if raw else None

    def signed_in(self, base: str, token: str) -> bool:
        try:
            self.call(base, "GET", "/me/", token=token)
        except SystemExit:
            return False
        return True

    # --- what the fuzzer can aim at ---------------------------------------------------------------

    def pages(self, base: str, path: str, token: str) -> Iterator[dict[str, Any]]:
        """Every item of a list, following its cursor."""
        url: str | None = f"{base}/api/v1{path}?page_size=100"
        while url:
            page = self.call(base, "GET", url.removeprefix(f"{base}/api/v1"), token=token)
            yield from page["results"]
            url = page["next"]

    def visible(self, base: str, token: str) -> dict[str, set[str]]:
        """Ids of what one identity reads through the API: couples, their members, objects."""
        seen: dict[str, set[str]] = {"couples": set(), "people": set(), "objects": set()}
        for couple in self.pages(base, "/couples/", token):
            seen["couples"].add(couple["id"])
            for member in couple["partners"] + couple["therapists"]:
                seen["people"].add(member["id"])
        for path in OBJECT_LISTS:
            seen["objects"].update(item["id"] for item in self.pages(base, path, token))
        return seen

    def known_objects(
        self, base: str, tokens: dict[str, str]
    ) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """Ids of the demo data and the outsider's couple, read through the API as each identity
        sees them; and, per identity, the ids of objects out of its reach (every id some
        identity reads that this one does not read).

        Random UUIDs only ever find 404s; with these, about half of the generated paths, filters
        and body references name real couples, people, sessions, commitments and invitations
        (some of them out of the caller's reach, which must answer 404), so the fuzzer gets past
        the lookups.
        """
        seen = {identity: self.visible(base, token) for identity, token in tokens.items()}
        found: dict[str, set[str]] = {"couples": set(), "people": set(), "objects": set()}
        for per_identity in seen.values():
            for name, ids in per_identity.items():
                found[name] |= ids
        found["objects"] |= found["couples"]
        foreign = {
            identity: sorted(found["objects"] - per_identity["objects"] - per_identity["couples"])
            for identity, per_identity in seen.items()
        }
        today = datetime.now(UTC).date()
        dates = [(today + timedelta(days=offset)).isoformat() for offset in range(-15, 2)]
        known = {name: sorted(values) for name, values in found.items()} | {"dates": dates}
        return known, foreign

    def make_outsider(self, base: str) -> str:
        """A partner outside the demo, with a couple of their own holding a commitment and an
        invitation (objects out of the demo identities' reach); returns the password."""
        password = secrets.token_urlsafe(24)
        self.manage(
            "shell",
            "-c",
            "from django.utils import timezone; from accounts.models import User; "
            f"User.objects.create_user({OUTSIDER_EMAIL!r}, {password!r}, "
            "display_name='Olive Outsider', email_verified_at=timezone.now())",
        )
        token = self.sign_in(base, OUTSIDER_EMAIL, password)
        couple = self.call(base, "POST", "/couples/", {"name": "O & friend"}, token=token)
        me = self.call(base, "GET", "/me/", token=token)
        self.call(
            base,
            "POST",
            "/commitments/",
            {
                "couple": couple["id"],
                "owner": me["id"],
                "title": "Call the friend",
                "due_on": datetime.now(UTC).date().isoformat(),
                "visibility": "couple",
            },
            token=token,
        )
        self.call(
            base,
            "POST",
            "/invitations/",
            {"couple": couple["id"], "email": "friend@fuzz.duet.local", "role": "partner"},
            token=token,
        )
        return password

    def schema_operations(self, base: str) -> list[str]:
        schema = self.call(base, "GET", "/schema/?format=json")
        return sorted(
            f"{method.upper()} {path}"
            for path, item in schema["paths"].items()
            for method in item
            if method in {"get", "post", "put", "patch", "delete"}
        )

    def config_file(self, known: dict[str, list[str]]) -> Path:
        """schemathesis.toml: the ids above as dictionaries, bound to the parameters naming them."""
        bindings = {
            "path.id": "objects",
            "path.date": "dates",
            "query.couple": "couples",
            "query.owner": "people",
            "query.author": "people",
            "body.couple": "couples",
            "body.owner": "people",
            "body.focus_partner": "people",
            "body.user": "people",
            "body.attendance[*].partner": "people",
        }
        lines = ["[parameters]"]
        lines += [
            f'"{key}" = {{ dictionary = "{name}", probability = {KNOWN_ID_PROBABILITY} }}'
            for key, name in bindings.items()
        ]
        for name, values in known.items():
            lines += ["", f"[dictionaries.{name}]", f"values = {json.dumps(values)}"]
        path = self.workdir / "schemathesis.toml"
        path.write_text("\n".join(lines) + "\n")
        return path

    # --- the passes -------------------------------------------------------------------------------

    def schemathesis(
        self, base: str, identity: str, token: str, config: Path, foreign: list[str]
    ) -> Pass:
        report = self.workdir / f"{identity}.json"
        calls = self.workdir / f"{identity}-calls.json"
        foreign_file = self.workdir / f"{identity}-foreign.json"
        foreign_file.write_text(json.dumps(foreign))
        argv = [
            sys.executable,
            "-m",
            "tests.fuzz.schemathesis_cli",
            "--config-file",
            str(config),
            "run",
            f"{base}/api/v1/schema/",
            "--checks",
            ",".join(CHECKS),
            "--max-time",
            str(self.args.max_time),
            "--workers",
            str(self.args.workers if self.on_postgres else 1),
            "--header",
            f"Authorization: Bearer {token}",
            "--request-timeout",
            "30",
            "--report",
            "json",
            "--report-json-path",
            str(report),
            "--no-color",
            *(["--seed", str(self.args.seed)] if self.args.seed is not None else []),
            *self.args.st_args,
        ]
        log(f"st run as the {identity} ({self.args.max_time} s)")
        # In the work directory: whatever Schemathesis keeps on disk stays out of the tree.
        env = self.env | {
            "PYTHONPATH": str(ROOT),
            "SCHEMATHESIS_HOOKS": HOOKS,
            "DUET_FUZZ_FOREIGN": str(foreign_file),
            "DUET_FUZZ_CALLS": str(calls),
        }
        completed = subprocess.run(argv, cwd=self.workdir, env=env, check=False)
        if not report.exists():
            raise SystemExit(f"st run as the {identity} wrote no report ({completed.returncode})")
        return Pass(
            identity=identity,
            report=json.loads(report.read_text()),
            still_signed_in=self.signed_in(base, token),
            calls=json.loads(calls.read_text()) if calls.exists() else {},
            operations_of_schema=self.operations,
            foreign_ids=len(foreign),
            narrowed=bool(self.args.st_args),
        )

    def run(self) -> list[Pass]:
        self.recreate_database()
        log("migrate and seed_demo")
        self.manage("migrate", "--no-input")
        self.manage("seed_demo")
        passes: list[Pass] = []
        with self.server(free_port()) as base:
            self.operations = self.schema_operations(base)
            passwords = {OUTSIDER_EMAIL: self.make_outsider(base)}
            for _, email in IDENTITIES:
                if email != OUTSIDER_EMAIL:
                    passwords[email] = self.make_password_secret(base, email)
            tokens = {
                identity: self.sign_in(base, email, passwords[email])
                for identity, email in IDENTITIES
            }
            known, foreign = self.known_objects(base, tokens)
            config = self.config_file(known)
            for identity, email in IDENTITIES:
                # A fresh token for each pass: access tokens live 15 minutes.
                token = self.sign_in(base, email, passwords[email])
                passes.append(self.schemathesis(base, identity, token, config, foreign[identity]))
        return passes


def summary(passes: list[Pass], seconds: float) -> str:
    lines = ["", "Schemathesis against /api/v1/schema/ (checks: " + ", ".join(CHECKS) + ")"]
    operations = passes[0].operations_of_schema if passes else []
    lines.append(f"  requests per operation ({len(operations)} in the schema):")
    lines.append("    " + " ".join(f"{p.identity:>9}" for p in passes) + "  operation")
    for op in operations:
        counts = " ".join(f"{p.calls.get(op, 0):>9}" for p in passes)
        lines.append(
            f"    {counts}  {op}"
            + ("  <- never called" if any(not p.calls.get(op) for p in passes) else "")
        )
    for p in passes:
        exercised = len(p.operations_of_schema) - len(p.unexercised)
        lines.append(
            f"  {p.identity:<9} operations {exercised:>3} of {len(p.operations_of_schema)}  "
            f"test cases {p.cases:>6}  time {p.report['running_time']:>6.1f} s  "
            f"ids out of reach {p.foreign_ids:>3}  failures {p.failures}  errors {p.errors}  "
            f"seed {p.report['seed']}"
            + ("" if p.still_signed_in else "  (lost its sign-in: the run is void)")
            + (f"  (never called: {', '.join(p.unexercised)})" if p.unexercised else "")
        )
        for group in p.report["failures"] + p.report["errors"]:
            where = ", ".join(group.get("operations", []))
            lines.append(f"    - {group['title']} x{group['count']}: {where or '-'}")
    total_cases = sum(p.cases for p in passes)
    total_failures = sum(p.failures + p.errors for p in passes)
    verdict = "OK" if all(p.ok for p in passes) else "FAILED"
    lines.append(
        f"  total: {total_cases} test cases, {total_failures} failures, {seconds:.0f} s: {verdict}"
    )
    return "\n".join(lines)


def _pass_seconds(text: str) -> int:
    seconds = int(text)
    if not 1 <= seconds <= MAX_PASS_SECONDS:
        # Each pass signs in once; its access token lives 15 minutes.
        raise argparse.ArgumentTypeError(f"from 1 to {MAX_PASS_SECONDS} seconds")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--max-time",
        type=_pass_seconds,
        default=100,
        metavar="SECONDS",
        help=f"seconds per identity, 1 to {MAX_PASS_SECONDS} (default 100)",
    )
    parser.add_argument("--workers", type=int, default=4, help="Schemathesis workers (PostgreSQL)")
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn workers (PostgreSQL)")
    parser.add_argument("--seed", type=int, default=None, help="Schemathesis seed, to reproduce")
    parser.add_argument("--keep", action="store_true", help="keep the work directory and log")
    parser.add_argument(
        "st_args", nargs="*", help="more `st run` options, after `--` (e.g. --phases=fuzzing)"
    )
    args = parser.parse_args(argv)
    # A CI timeout sends SIGTERM: unwind, so that gunicorn is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    workdir = Path(tempfile.mkdtemp(prefix="duet-fuzz-"))
    started = time.monotonic()
    run = FuzzRun(args, workdir)
    passes = run.run()
    say(summary(passes, time.monotonic() - started))
    if all(p.ok for p in passes):
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        return 0
    # The server's own errors (tracebacks come as JSON lines), without gunicorn's worker chatter.
    errors = [
        line
        for line in run.server_log.read_text(errors="replace").splitlines()
        if line.strip() and "[INFO]" not in line
    ]
    if errors:
        say("\nServer log, errors and warnings (last 50 lines):\n" + "\n".join(errors[-50:]))
    say(f"\nReports and server log: {workdir}")
    return 1


if __name__ == "__main__":
    sys.exit(main())

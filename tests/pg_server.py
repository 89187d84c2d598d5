"""Run a command against a throwaway PostgreSQL server.

    python tests/pg_server.py -- python -m pytest -q

Starts a real PostgreSQL server (initdb + pg_ctl, binaries from /usr/lib/postgresql/*/bin
or PATH) in a temporary directory on a free 127.0.0.1 port, creates a database, exports
``TEST_DATABASE_URL=postgresql+psycopg://…`` for the command, then stops the server, removes
the directory and exits with the command's exit code. PostgreSQL refuses to run as root, so
as root the server runs as the ``postgres`` user (created if missing) via ``runuser``.
With ``CI=true`` as root and no binaries, it tries ``apt-get install -y postgresql`` first.
Durability is switched off (fsync, full_page_writes): this server lives for one test run.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DB_NAME = "radar_test"
DB_USER = "radar"


def _log(msg: str) -> None:
    sys.stderr.write(f"pg_server: {msg}\n")


def find_bin_dir() -> Path | None:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
    )
    for cand in reversed(candidates):
        if (Path(cand) / "initdb").exists():
            return Path(cand)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def ensure_binaries() -> Path:
    bin_dir = find_bin_dir()
    if bin_dir is None and os.environ.get("CI") == "true" and os.geteuid() == 0:
        _log("no PostgreSQL binaries; trying apt-get install -y postgresql")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "postgresql"], check=False, env=env)
        bin_dir = find_bin_dir()
    if bin_dir is None:
        raise SystemExit("pg_server: PostgreSQL binaries (initdb, pg_ctl) not found")
    return bin_dir


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_user() -> str | None:
    """The unprivileged user to run the server as (None: the current user)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/bin/false", "postgres"],
            check=True,
        )
    return "postgres"


def _as_user(user: str | None, argv: list[str]) -> list[str]:
    return ["runuser", "-u", user, "--", *argv] if user else argv


def _chown_tree(path: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)


def _locale_args() -> list[str]:
    """C collation (byte order: LIKE 'prefix%' uses plain indexes) with a UTF-8 ctype when
    the system has one, so pg_trgm sees Chinese characters as letters (storage.search);
    otherwise ``--no-locale`` (the keyword searches then scan, with the same results)."""
    try:
        names = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout.split()
    except OSError:
        names = []
    utf8 = next((n for n in names if n.lower() in ("c.utf8", "c.utf-8")), None)
    return ["--locale=C", f"--lc-ctype={utf8}"] if utf8 else ["--no-locale"]


def start(bin_dir: Path, base: Path, user: str | None) -> tuple[int, Path]:
    data = base / "data"
    sock = base / "sock"
    sock.mkdir()
    if user:
        _chown_tree(base, user)
    subprocess.run(
        _as_user(
            user,
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                DB_USER,
                "--auth=trust",
                "-E",
                "UTF8",
                *_locale_args(),
            ],
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    port = free_port()
    opts = (
        f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
    )
    subprocess.run(
        _as_user(
            user,
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                opts,
                "-l",
                str(base / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return port, data


def create_database(port: int) -> str:
    import psycopg

    deadline = time.monotonic() + 30
    while True:
        try:
            with psycopg.connect(
                host="127.0.0.1", port=port, user=DB_USER, dbname="postgres", autocommit=True
            ) as conn:
                conn.execute(f'CREATE DATABASE "{DB_NAME}"')
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    return f"postgresql+psycopg://{DB_USER}@127.0.0.1:{port}/{DB_NAME}"


def stop(bin_dir: Path, data: Path, user: str | None) -> None:
    subprocess.run(
        _as_user(user, [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
        check=False,
        stdout=subprocess.DEVNULL,
    )


def main(argv: list[str]) -> int:
    if "--" not in argv:
        sys.stderr.write("usage: python tests/pg_server.py -- COMMAND [ARGS...]\n")
        return 2
    command = argv[argv.index("--") + 1 :]
    if not command:
        sys.stderr.write("pg_server: no command after --\n")
        return 2
    bin_dir = ensure_binaries()
    user = server_user()
    base = Path(tempfile.mkdtemp(prefix="radar-pg-"))
    data: Path | None = None
    try:
        port, data = start(bin_dir, base, user)
        url = create_database(port)
        _log(f"PostgreSQL {bin_dir.parent.name} on 127.0.0.1:{port}; TEST_DATABASE_URL={url}")
        env = {**os.environ, "TEST_DATABASE_URL": url}
        return subprocess.call(command, env=env)
    finally:
        if data is not None:
            stop(bin_dir, data, user)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

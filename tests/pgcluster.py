"""Throwaway PostgreSQL servers for the test suite.

Two classes share one small interface (``url(dbname)``, ``create_database``,
``drop_database``, ``stop``):

``PostgresServer``
    Administers databases on a server that already runs somewhere (used when
    ``FOLIODB_TEST_DATABASE_URL`` points the tests at one). ``stop()`` only closes
    the admin connection; it never touches the server itself.

``PostgresCluster``
    Starts a private, disposable server for one test run:

    * finds the server binaries: ``$FOLIODB_PG_BINDIR``, else ``initdb`` on ``PATH``,
      else ``pg_config --bindir``, else the newest ``/usr/lib/postgresql/*/bin``;
    * ``initdb`` into a fresh temp dir (``-E UTF8 --locale=C``, trust auth, no sync);
    * tunes it for speed, not durability (``fsync=off``, small ``shared_buffers``, ...);
    * listens on a free TCP port on 127.0.0.1 only; its unix socket lives in the temp dir;
    * ``stop()`` runs ``pg_ctl stop -m immediate`` and deletes the temp dir.

    initdb and postgres refuse to run as root, so when we are root every server
    command runs as the ``postgres`` OS user (through ``runuser``, or ``su``) and the
    temp dir is chown'ed to that user. When we are not root they run directly.

    Cleanup backstops, in case the fixture finalizer never runs: ``stop()`` is
    registered with ``atexit``, and a SIGTERM (CI timeout, ``kill``) stops the server
    before the process dies. A process killed with SIGKILL (or a segfault) runs
    neither, so ``start()`` also reaps clusters left behind by dead test processes.

Admin work (CREATE/DROP DATABASE) goes through one psycopg autocommit connection
to the ``postgres`` maintenance database, kept open for the whole run, so a fresh
database costs one ``CREATE DATABASE`` (a few tens of milliseconds) and no new
connection.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any, ClassVar

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

__all__ = ["PostgresCluster", "PostgresError", "PostgresServer"]

_TMP_PREFIX = "foliodb-pg-"
_OWNER_FILE = "owner.pid"  # pid of the test process that owns a cluster dir


class PostgresError(RuntimeError):
    """PostgreSQL could not be found, initialised, started or reached."""


class PostgresServer:
    """Creates and drops databases on an already running PostgreSQL server.

    ``url`` is any SQLAlchemy PostgreSQL URL of that server (its database part is
    ignored): the admin connection goes to its ``postgres`` maintenance database, and
    ``url(name)`` hands out the same server/credentials with the ``psycopg`` driver.
    """

    #: ``STRATEGY`` for CREATE DATABASE (PostgreSQL 15+); None = server default.
    create_strategy: str | None = None

    def __init__(self, url: str | URL) -> None:
        try:
            self._base_url = make_url(url).set(drivername="postgresql+psycopg")
        except ArgumentError as exc:
            raise PostgresError(f"not a database URL: {exc}") from None
        self._admin: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()

    # -- public interface ------------------------------------------------------------------

    def url(self, dbname: str) -> str:
        """SQLAlchemy URL (``postgresql+psycopg://...``) of database ``dbname``."""
        return self._base_url.set(database=dbname).render_as_string(hide_password=False)

    def create_database(self, name: str | None = None, template: str | None = None) -> str:
        """Create an empty database (from ``template0``, UTF8, C collation), or a copy of
        database ``template`` (which must have no open connection); return its name.

        Without ``name`` a unique ``foliodb_test_<hex>`` name is chosen.
        """
        name = name or f"foliodb_test_{uuid.uuid4().hex[:16]}"
        opts: list[sql.Composable] = [
            sql.SQL("TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
            if template is None
            else sql.SQL("TEMPLATE {}").format(sql.Identifier(template))
        ]
        with self._lock:
            admin = self._admin_conn()
            if self.create_strategy and admin.info.server_version >= 150000:
                opts.append(sql.SQL("STRATEGY {}").format(sql.SQL(self.create_strategy)))
            admin.execute(
                sql.SQL("CREATE DATABASE {} {}").format(
                    sql.Identifier(name), sql.SQL(" ").join(opts)
                )
            )
        return name

    def drop_database(self, name: str) -> None:
        """Drop ``name`` if it exists, disconnecting its sessions (``WITH (FORCE)``, PG 13+)."""
        stmt = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        with self._lock:
            self._admin_conn().execute(stmt)

    def check(self) -> None:
        """Connect now; raise PostgresError with the reason if the server can't be reached."""
        with self._lock:
            self._admin_conn()

    def stop(self) -> None:
        """Close the admin connection (the server itself is not ours to stop)."""
        self._close_admin()

    # -- helpers ---------------------------------------------------------------------------

    def _admin_conn(self) -> psycopg.Connection[Any]:
        if self._admin is None or self._admin.closed:
            u = self._base_url
            params: dict[str, Any] = {
                k: v
                for k, v in {
                    "host": u.host,
                    "port": u.port,
                    "user": u.username,
                    "password": u.password,
                    "dbname": "postgres",
                }.items()
                if v is not None
            }
            params.update({k: v for k, v in u.query.items() if isinstance(v, str)})
            params.setdefault("connect_timeout", 10)
            try:
                self._admin = psycopg.connect(autocommit=True, **params)
            except psycopg.Error as exc:
                raise PostgresError(
                    f"cannot connect to {u.set(database='postgres')!r}: {exc}"
                ) from exc
        return self._admin

    def _close_admin(self) -> None:
        if self._admin is not None:
            with contextlib.suppress(Exception):
                self._admin.close()
            self._admin = None


class PostgresCluster(PostgresServer):
    """A private PostgreSQL server in a temp dir, started by ``start()`` (or ``with``).

    >>> cluster = PostgresCluster().start()
    >>> name = cluster.create_database()
    >>> cluster.url(name)            # 'postgresql+psycopg://postgres@127.0.0.1:PORT/<name>'
    >>> cluster.drop_database(name)
    >>> cluster.stop()

    Every database is created with ``STRATEGY FILE_COPY``: with ``fsync=off`` it is about
    three times faster than PostgreSQL 15's default WAL_LOG for an empty database.
    """

    create_strategy = "FILE_COPY"

    #: Appended to postgresql.conf: speed over durability, nothing but loopback TCP.
    SETTINGS: ClassVar[dict[str, str]] = {
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "wal_level": "minimal",
        "max_wal_senders": "0",
        "shared_buffers": "16MB",
        "max_connections": "100",
        "dynamic_shared_memory_type": "mmap",  # no dependence on the size of /dev/shm
        "logging_collector": "off",
        "timezone": "UTC",
    }

    def __init__(self, bindir: str | os.PathLike[str] | None = None, user: str = "postgres"):
        self.bindir = Path(bindir) if bindir else find_bindir()
        self.tmpdir: Path | None = None
        self.port: int | None = None
        self._as_root = os.geteuid() == 0
        self._user = user if self._as_root else pwd.getpwuid(os.geteuid()).pw_name
        self._prev_sigterm: Any = None
        super().__init__(f"postgresql+psycopg://{self._user}@127.0.0.1:1/postgres")

    def url(self, dbname: str) -> str:
        if self.port is None:
            raise PostgresError("the cluster is not running (call start() first)")
        return super().url(dbname)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, attempts: int = 3) -> PostgresCluster:
        """initdb + start the server; return self. Raises PostgresError with the reason."""
        if self.port is not None:
            return self
        reap_stale_clusters(self.bindir)
        atexit.register(self.stop)
        self._install_sigterm_handler()
        try:
            self._initdb()
            for attempt in range(attempts):
                # The free port may be taken again before postgres binds it: retry.
                port = free_port()
                if self._pg_ctl_start(port, last_attempt=attempt == attempts - 1):
                    break
            self._base_url = self._base_url.set(port=self.port)
            self.check()  # fail early, with the reason, if it is not reachable
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server (immediate mode) and delete its temp dir. Safe to call twice."""
        self._close_admin()
        tmpdir, self.tmpdir, self.port = self.tmpdir, None, None
        if tmpdir is not None:
            data = tmpdir / "data"
            if (data / "postmaster.pid").exists():
                with contextlib.suppress(Exception):
                    self._run(["pg_ctl", "stop", "-D", str(data), "-m", "immediate", "-w"])
            shutil.rmtree(tmpdir, ignore_errors=True)
        self._restore_sigterm_handler()
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- steps -----------------------------------------------------------------------------

    def _initdb(self) -> None:
        self.tmpdir = Path(tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=_tmp_base(self._as_root)))
        (self.tmpdir / _OWNER_FILE).write_text(str(os.getpid()))
        if self._as_root:
            try:
                pw = pwd.getpwnam(self._user)
            except KeyError:
                raise PostgresError(
                    f"running as root, but there is no {self._user!r} OS user to run "
                    "initdb/postgres as (they refuse to run as root)"
                ) from None
            os.chown(self.tmpdir, pw.pw_uid, pw.pw_gid)
        self._run(
            [
                "initdb",
                "-D",
                str(self.tmpdir / "data"),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        # The superuser is "postgres" whoever runs the server (initdb -U postgres).
        self._base_url = self._base_url.set(username="postgres")
        conf = self.tmpdir / "data" / "postgresql.conf"
        settings = {
            **self.SETTINGS,
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": _quote_conf(str(self.tmpdir)),
        }
        with conf.open("a") as f:  # appending keeps the file's owner
            f.write("\n# foliodb test cluster\n")
            f.writelines(f"{k} = {v}\n" for k, v in settings.items())

    def _pg_ctl_start(self, port: int, *, last_attempt: bool) -> bool:
        assert self.tmpdir is not None
        log = self.tmpdir / "postgres.log"
        try:
            self._run(
                [
                    "pg_ctl",
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-D",
                    str(self.tmpdir / "data"),
                    "-l",
                    str(log),
                    "-o",
                    f"-p {port}",
                ]
            )
        except PostgresError as exc:
            log_text = _tail(log)
            port_taken = any(
                m in log_text
                for m in ("could not bind", "already in use", "could not create any TCP/IP")
            )
            if port_taken and not last_attempt:
                return False
            raise PostgresError(f"{exc}\n--- {log} ---\n{log_text}") from None
        self.port = port
        return True

    def _run(self, argv: list[str]) -> str:
        """Run a server binary from bindir (as the postgres user when we are root)."""
        exe = str(self.bindir / argv[0])
        cmd = [exe, *argv[1:]]
        if self._as_root:
            if shutil.which("runuser"):
                cmd = ["runuser", "-u", self._user, "--", *cmd]
            else:
                cmd = ["su", self._user, "-s", "/bin/sh", "-c", _shell_join(cmd)]
        # PG* variables (PGDATA, PGPORT, ...) of the caller must not leak into the cluster.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        try:
            proc = subprocess.run(
                cmd,
                cwd=self.tmpdir or "/",
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PostgresError(f"{argv[0]} failed: {exc}") from exc
        if proc.returncode != 0:
            raise PostgresError(
                f"{argv[0]} failed (exit {proc.returncode}): {' '.join(cmd)}\n"
                f"{proc.stdout}{proc.stderr}".rstrip()
            )
        return proc.stdout

    # -- SIGTERM backstop --------------------------------------------------------------------

    def _install_sigterm_handler(self) -> None:
        """On SIGTERM stop the server, then die of SIGTERM as we would have anyway.

        Only installed when SIGTERM has its default action and we are on the main thread,
        so an existing handler (or an ignored SIGTERM) is left alone.
        """
        if threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return

        def on_sigterm(signum: int, frame: object) -> None:
            self.stop()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

        signal.signal(signal.SIGTERM, on_sigterm)
        self._prev_sigterm = on_sigterm

    def _restore_sigterm_handler(self) -> None:
        if self._prev_sigterm is None:
            return
        if threading.current_thread() is threading.main_thread():
            with contextlib.suppress(ValueError):
                if signal.getsignal(signal.SIGTERM) is self._prev_sigterm:
                    signal.signal(signal.SIGTERM, signal.SIG_DFL)
        self._prev_sigterm = None


# -- module helpers ------------------------------------------------------------------------


def find_bindir() -> Path:
    """Directory holding initdb, pg_ctl and postgres. ``$FOLIODB_PG_BINDIR`` overrides."""
    need = ("initdb", "pg_ctl", "postgres")

    def ok(d: Path) -> bool:
        return all(os.access(d / n, os.X_OK) for n in need)

    env = os.environ.get("FOLIODB_PG_BINDIR")
    if env:
        if ok(Path(env)):
            return Path(env)
        raise PostgresError(f"FOLIODB_PG_BINDIR={env!r} lacks one of {', '.join(need)}")
    candidates: list[Path] = []
    if initdb := shutil.which("initdb"):
        candidates.append(Path(os.path.realpath(initdb)).parent)  # resolve symlinks
    if pg_config := shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            )
            candidates.append(Path(out.stdout.strip()))

    def version(d: str) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", Path(d).parent.name))

    candidates += [
        Path(d) for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    ]
    for d in candidates:
        if ok(d):
            return d
    raise PostgresError(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; install them "
        "(Debian: apt-get install postgresql) or set FOLIODB_PG_BINDIR"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def reap_stale_clusters(bindir: Path) -> None:
    """Stop and delete clusters whose owning test process is dead (SIGKILL, segfault)."""
    as_root = os.geteuid() == 0
    for d in glob.glob(os.path.join(_tmp_base(as_root), _TMP_PREFIX + "*")):
        path = Path(d)
        try:
            pid = int((path / _OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue  # not ours, or still being created
        if _pid_alive(pid):
            continue
        data = path / "data"
        if (data / "postmaster.pid").exists():
            cmd = [str(bindir / "pg_ctl"), "stop", "-D", str(data), "-m", "immediate"]
            if as_root:
                cmd = ["runuser", "-u", _path_owner(data), "--", *cmd]
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                subprocess.run(cmd, capture_output=True, timeout=30, check=False, cwd="/")
                time.sleep(0.1)
        shutil.rmtree(path, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _path_owner(path: Path) -> str:
    try:
        return pwd.getpwuid(path.stat().st_uid).pw_name
    except (OSError, KeyError):
        return "postgres"


def _tmp_base(as_root: bool) -> str:
    """Where cluster dirs go: the temp dir, or /tmp when root's temp dir is private.

    As root the postgres user must be able to reach the cluster dir, so every ancestor
    must be world-searchable; the unix socket path must also stay under ~100 bytes.
    """
    base = tempfile.gettempdir()
    if len(base) > 60:
        return "/tmp"  # noqa: S108
    if as_root:
        p = Path(base).resolve()
        for anc in [p, *p.parents]:
            if not anc.stat().st_mode & 0o001:
                return "/tmp"  # noqa: S108
    return base


def _quote_conf(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _shell_join(argv: list[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"

"""Real, throwaway servers for the test suite, started once per pytest session on loopback.

privaudit talks to real PostgreSQL, MariaDB, SFTP and S3 endpoints, and the interesting bugs
(auth methods, grants, host-key checking, pagination) only show up against the real thing,
so instead of mocks this plugin starts genuine servers from the Debian packages that
``.ci/install-system-deps.sh`` installs. Load it from ``tests/conftest.py`` with::

    pytest_plugins = ["tests.servers"]

Session-scoped fixtures (each one is only started if a test asks for it):

* ``postgres_server``  -> :class:`PostgresServer`
* ``mariadb_server``   -> :class:`MariaDBServer`
* ``sshd_server``      -> :class:`SSHServer`
* ``s3_server``        -> :class:`S3Server` (moto in server mode, in-process thread)

Design notes (the "why"):

* Everything binds to ``127.0.0.1`` on a free high port chosen at start-up, so parallel
  sessions (pytest-xdist workers, two checkouts) never collide and nothing is reachable
  from outside the machine. A start that loses the free-port race is retried.
* PostgreSQL and MariaDB refuse to run as root. When the suite runs as root (CI here),
  they run as a dedicated system account ``privaudit-test`` (created with ``useradd`` on
  first use); as a normal user they simply run as that user. The uid switch is done by
  :class:`subprocess.Popen` (``user=``/``group=``) rather than ``su``/``runuser`` so that no
  PAM or login shell is involved.
* Server state lives under ``/tmp/privaudit-servers-*`` (not pytest's ``tmp_path``, whose
  parent ``/tmp/pytest-of-root`` is mode 0700 and thus not traversable by the service
  account; unix socket paths also must stay short). The directory is removed at the end of
  the session unless ``PRIVAUDIT_KEEP_SERVER_DIRS=1``.
* Each server's stdout/stderr goes to a log file in its directory; if start-up fails, the
  tail of that log is part of the failure message.
* A missing binary is a hard failure (never a skip) that tells you to run
  ``.ci/install-system-deps.sh``: silently skipped integration tests are worse than red ones.
* Servers are started in their own session/process group and wrapped in
  ``setpriv --pdeathsig TERM`` when available, so they die even if pytest is SIGKILLed;
  normal teardown stops them gracefully, then kills the whole group.
* Durability is switched off (``fsync=off`` etc.) because the data is throwaway and speed
  matters more.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # heavy imports only when a fixture is actually used
    import paramiko
    import psycopg
    import pymysql

INSTALL_HINT = "run `bash .ci/install-system-deps.sh` (as root) to install the test servers"
SERVICE_USER = "privaudit-test"
LOOPBACK = "127.0.0.1"
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
PORT_ATTEMPTS = 3
LOG_TAIL_LINES = 40


class ServerStartError(RuntimeError):
    """A test server did not come up; the message carries the tail of its log."""


# --------------------------------------------------------------------------- helpers


def free_port() -> int:
    """Return a currently free TCP port on 127.0.0.1.

    There is an unavoidable race between closing this probe socket and the server binding
    the port, which is why the ``_start_with_port_retry`` loop exists.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """Last ``lines`` lines of a log file (or a note that it is missing), for error messages."""
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"<no log at {path}: {exc}>"
    tail = text.splitlines()[-lines:]
    return "\n".join(tail) if tail else "<log is empty>"


def _require_binary(path_or_name: str, what: str) -> str:
    """Resolve a binary or fail the requesting test with a clear install hint (never skip)."""
    found = path_or_name if os.path.isabs(path_or_name) else shutil.which(path_or_name)
    if not found or not os.access(found, os.X_OK):
        pytest.fail(f"{what}: required binary {path_or_name!r} not found; {INSTALL_HINT}", pytrace=False)
    return found


def _port_in_use(log: Path) -> bool:
    text = log_tail(log, 200).lower()
    return "address already in use" in text or "could not bind" in text or "port is in use" in text


@dataclass(frozen=True)
class RunAs:
    """The (non-root) account a database server runs as, and how to switch to it."""

    name: str
    uid: int
    gid: int

    @property
    def switches(self) -> bool:
        return self.uid != os.geteuid()

    def popen_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :class:`subprocess.Popen` to run a child as this account."""
        if not self.switches:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def chown(self, path: Path) -> None:
        if self.switches:
            os.chown(path, self.uid, self.gid)

    def env(self, home: Path) -> dict[str, str]:
        """A small, predictable environment: no PG*/MYSQL* variables from the caller leak in."""
        return {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "HOME": str(home),
            "USER": self.name,
            "LOGNAME": self.name,
            "LANG": "C",
            "LC_ALL": "C",
            "TZ": "UTC",
        }


def _service_account() -> RunAs:
    """Account for postgres/mariadb: the current user, or ``privaudit-test`` when we are root.

    Both servers refuse to run as root. The account is created on first use; if ``useradd``
    is unavailable (or loses a race with a parallel worker) we re-read the passwd database,
    and as a last resort fall back to ``nobody``.
    """
    if os.geteuid() != 0:
        pw = pwd.getpwuid(os.geteuid())
        return RunAs(pw.pw_name, pw.pw_uid, pw.pw_gid)
    try:
        pw = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        useradd = shutil.which("useradd")
        if useradd:
            subprocess.run(
                [
                    useradd,
                    "--system",
                    "--user-group",
                    "--no-create-home",
                    "--home-dir",
                    "/nonexistent",
                    "--shell",
                    "/usr/sbin/nologin",
                    "--comment",
                    "privaudit test servers",
                    SERVICE_USER,
                ],
                check=False,
                capture_output=True,
            )
        try:
            pw = pwd.getpwnam(SERVICE_USER)
        except KeyError:
            pw = pwd.getpwnam("nobody")
    return RunAs(pw.pw_name, pw.pw_uid, pw.pw_gid)


_LIVE: set[ManagedProcess] = set()


@atexit.register
def _stop_leftovers() -> None:
    """Safety net: if a fixture teardown never ran (e.g. KeyboardInterrupt), stop servers."""
    for proc in list(_LIVE):
        proc.stop()


class ManagedProcess:
    """A long-running server child with its output in a log file and a robust ``stop()``.

    The child gets its own session (so a terminal Ctrl-C does not hit it before our teardown
    runs, and so we can kill its whole process group - postgres backends, sshd per-connection
    children) and, when ``setpriv`` exists, a parent-death signal so it cannot outlive a
    SIGKILLed pytest.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        *,
        run_as: RunAs | None = None,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        stop_signal: int = signal.SIGTERM,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.run_as = run_as
        self.cwd = cwd
        self.env = env
        self.stop_signal = stop_signal
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = self.argv
        setpriv = shutil.which("setpriv")
        if setpriv:
            argv = [setpriv, "--pdeathsig", "TERM", "--", *argv]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                env=self.env,
                start_new_session=True,
                **(self.run_as.popen_kwargs() if self.run_as else {}),
            )
        _LIVE.add(self)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Graceful stop signal, wait, then SIGKILL the whole process group."""
        _LIVE.discard(self)
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(self.stop_signal)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=timeout)
        # Stragglers (backends, per-connection sshd children) and a stuck main process.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)

    @contextlib.contextmanager
    def stopped_on_error(self) -> Iterator[None]:
        """Stop the child if post-launch setup fails, so a half-started server never lingers."""
        try:
            yield
        except BaseException:
            self.stop()
            raise

    def startup_error(self, what: str) -> ServerStartError:
        status = "still running" if self.running() else f"exited with {self.proc and self.proc.returncode}"
        return ServerStartError(
            f"{self.name} {what} ({status}); log {self.log_path}:\n"
            f"----- last lines -----\n{log_tail(self.log_path)}\n----------------------"
        )

    def wait_until(self, check: Callable[[], bool], timeout: float = STARTUP_TIMEOUT) -> None:
        """Poll ``check`` until it returns True; fail fast (with log tail) if the child dies."""
        deadline = time.monotonic() + timeout
        last_exc: BaseException | None = None
        delay = 0.02
        while True:
            if not self.running():
                raise self.startup_error("exited during start-up")
            try:
                if check():
                    return
            except Exception as exc:  # connection refused etc. while starting
                last_exc = exc
            if time.monotonic() > deadline:
                raise self.startup_error(f"not ready after {timeout:.0f}s (last error: {last_exc!r})")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25)


def _run_checked(argv: Sequence[str], log_path: Path, what: str, **kwargs: Any) -> None:
    """Run a one-shot setup command (initdb, ssh-keygen...), appending output to a log."""
    with open(log_path, "ab") as log:
        log.write(f"$ {' '.join(map(str, argv))}\n".encode())
        log.flush()
        result = subprocess.run(
            list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, check=False, **kwargs
        )
    if result.returncode != 0:
        raise ServerStartError(
            f"{what} failed with exit code {result.returncode}; log {log_path}:\n{log_tail(log_path)}"
        )


def _start_with_port_retry(start: Callable[[int], Any], log_path: Path, what: str) -> Any:
    """Call ``start(port)`` with fresh free ports until it does not lose the bind race."""
    last: ServerStartError | None = None
    for _ in range(PORT_ATTEMPTS):
        try:
            return start(free_port())
        except ServerStartError as exc:
            last = exc
            if not _port_in_use(log_path):
                break
    assert last is not None
    raise last


def _unix_accepts(path: Path) -> bool:
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        s.connect(str(path))
        return True


def _tcp_accepts(port: int, banner_prefix: bytes | None = None) -> bool:
    with socket.create_connection((LOOPBACK, port), timeout=1.0) as s:
        if banner_prefix is None:
            return True
        return s.recv(len(banner_prefix)).startswith(banner_prefix)


BASE_PREFIX = "privaudit-servers-"
OWNER_FILE = "owner.pid"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_base_dirs(parent: Path) -> None:
    """Delete server dirs left by sessions that were killed before their teardown ran.

    Only dirs whose recorded owner pid is gone are removed, so concurrent sessions
    (xdist workers, other checkouts) are never touched.
    """
    for candidate in parent.glob(f"{BASE_PREFIX}*"):
        try:
            owner = int((candidate / OWNER_FILE).read_text().strip())
        except (OSError, ValueError):
            continue
        if not _pid_alive(owner):
            shutil.rmtree(candidate, ignore_errors=True)


@pytest.fixture(scope="session")
def server_base_dir() -> Iterator[Path]:
    """Session-wide parent dir for all server state (short path, traversable by the service user)."""
    parent = Path(
        os.environ.get("PRIVAUDIT_SERVER_TMPDIR") or ("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir())
    )
    _remove_stale_base_dirs(parent)
    base = Path(tempfile.mkdtemp(prefix=BASE_PREFIX, dir=parent))
    base.chmod(0o755)  # the service account must be able to traverse into its own subdir
    (base / OWNER_FILE).write_text(f"{os.getpid()}\n")
    try:
        yield base
    finally:
        if os.environ.get("PRIVAUDIT_KEEP_SERVER_DIRS") == "1":
            (base / OWNER_FILE).unlink(missing_ok=True)  # kept on purpose: not "stale" later
        else:
            shutil.rmtree(base, ignore_errors=True)


def _private_dir(base: Path, name: str, owner: RunAs | None) -> Path:
    path = base / name
    path.mkdir(mode=0o700)
    if owner is not None:
        owner.chown(path)
    return path


# --------------------------------------------------------------------------- PostgreSQL


def _postgres_bin_dir() -> Path:
    """Debian keeps initdb/postgres out of PATH (only the pg_wrapper clients are there)."""
    override = os.environ.get("PRIVAUDIT_PG_BINDIR")
    if override:
        return Path(override)
    candidates = glob.glob("/usr/lib/postgresql/*/bin/initdb")

    def version(p: str) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", Path(p).parent.parent.name))

    if candidates:
        return Path(max(candidates, key=version)).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    pytest.fail(f"postgres_server: PostgreSQL server binaries (initdb) not found; {INSTALL_HINT}", pytrace=False)


@dataclass
class PostgresServer:
    """A running PostgreSQL server on 127.0.0.1.

    ``user``/``password`` are the superuser's. TCP connections use scram-sha-256 (so tests
    exercise real password auth); the unix socket in ``socket_dir`` trusts local users but
    lives in a 0700 directory owned by the service account.
    """

    host: str
    port: int
    user: str
    password: str
    socket_dir: Path
    data_dir: Path
    log_path: Path
    bin_dir: Path
    process: ManagedProcess = field(repr=False)

    @property
    def superuser(self) -> str:
        return self.user

    def dsn(self, dbname: str = "postgres", user: str | None = None, password: str | None = None) -> str:
        """libpq URI ``postgresql://user@127.0.0.1:port/dbname``.

        The password is deliberately NOT embedded by default (not even the superuser's):
        pass it separately, e.g. ``psycopg.connect(dsn, password=srv.password)`` or via
        ``PGPASSWORD`` (see :meth:`libpq_env`). Only an explicitly passed ``password`` is
        embedded, for tests that need a credential-bearing URI (e.g. redaction tests).
        """
        q = urllib.parse.quote
        userinfo = q(user or self.user, safe="")
        if password is not None:
            userinfo += ":" + q(password, safe="")
        return f"postgresql://{userinfo}@{self.host}:{self.port}/{q(dbname, safe='')}"

    def libpq_env(self, user: str | None = None, password: str | None = None) -> dict[str, str]:
        """PG* environment variables for subprocesses (e.g. the privaudit CLI, psql)."""
        return {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": user or self.user,
            "PGPASSWORD": password if password is not None else self.password,
            "PGSSLMODE": "disable",
        }

    def admin_connect(self, dbname: str = "postgres") -> psycopg.Connection[Any]:
        """Autocommit psycopg 3 connection as superuser over TCP (password auth)."""
        import psycopg

        return psycopg.connect(self.dsn(dbname), password=self.password, autocommit=True, connect_timeout=10)


def _start_postgres(base: Path) -> PostgresServer:
    bin_dir = _postgres_bin_dir()
    initdb = _require_binary(str(bin_dir / "initdb"), "postgres_server")
    postgres = _require_binary(str(bin_dir / "postgres"), "postgres_server")
    run_as = _service_account()
    home = _private_dir(base, "postgres", run_as)
    data_dir = home / "data"
    log_path = home / "postgres.log"
    log_path.touch()
    run_as.chown(log_path)
    user, password = "postgres", secrets.token_hex(16)

    pwfile = home / "pwfile"
    pwfile.write_text(password + "\n")
    pwfile.chmod(0o600)
    run_as.chown(pwfile)
    try:
        _run_checked(
            [
                initdb,
                "-D",
                str(data_dir),
                "-U",
                user,
                f"--pwfile={pwfile}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
                "--no-instructions",
            ],
            log_path,
            "initdb",
            cwd=home,
            env=run_as.env(home),
            **run_as.popen_kwargs(),
        )
    finally:
        pwfile.unlink(missing_ok=True)

    # Written by us (as root) into a dir owned by the service account; postgres only needs read.
    (data_dir / "pg_hba.conf").write_text(
        "# privaudit test server: socket is private (0700 dir), TCP requires a password\n"
        "local all all trust\n"
        "host  all all 127.0.0.1/32 scram-sha-256\n"
    )
    with open(data_dir / "postgresql.conf", "a") as conf:
        conf.write(
            "\n# --- privaudit test server ---\n"
            f"listen_addresses = '{LOOPBACK}'\n"
            f"unix_socket_directories = '{home}'\n"
            "ssl = off\n"
            "password_encryption = scram-sha-256\n"
            "fsync = off\n"
            "synchronous_commit = off\n"
            "full_page_writes = off\n"
            "max_connections = 100\n"
            "shared_buffers = 32MB\n"
            "logging_collector = off\n"
            "log_min_messages = warning\n"
            "timezone = 'UTC'\n"
        )

    def start(port: int) -> PostgresServer:
        import psycopg

        proc = ManagedProcess(
            "postgres",
            [postgres, "-D", str(data_dir), "-p", str(port)],
            log_path,
            run_as=run_as,
            cwd=home,
            env=run_as.env(home),
            stop_signal=signal.SIGINT,  # "fast" shutdown: does not wait for leaked client connections
        )
        proc.start()
        server = PostgresServer(LOOPBACK, port, user, password, home, data_dir, log_path, bin_dir, proc)

        def ready() -> bool:
            with psycopg.connect(server.dsn(), password=password, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return True

        with proc.stopped_on_error():
            proc.wait_until(ready)
        return server

    return _start_with_port_retry(start, log_path, "postgres")


@pytest.fixture(scope="session")
def postgres_server(server_base_dir: Path) -> Iterator[PostgresServer]:
    """A real PostgreSQL (Debian's, e.g. 15) on 127.0.0.1:<free port> for the whole session."""
    try:
        server = _start_postgres(server_base_dir)
    except ServerStartError as exc:
        pytest.fail(f"postgres_server: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.process.stop()


# --------------------------------------------------------------------------- MariaDB


@dataclass
class MariaDBServer:
    """A running MariaDB server on 127.0.0.1 with a password-protected ``root``.

    ``root`` has the same password on ``localhost`` (unix socket ``socket``) and on
    ``127.0.0.1`` (TCP; the server runs with ``skip-name-resolve`` so TCP clients match the
    ``127.0.0.1`` host entry).
    """

    host: str
    port: int
    user: str
    password: str
    socket: Path
    data_dir: Path
    log_path: Path
    process: ManagedProcess = field(repr=False)

    def admin_connect(self, database: str | None = None) -> pymysql.connections.Connection[Any]:
        """Autocommit PyMySQL connection as ``root`` over TCP."""
        import pymysql

        return pymysql.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            database=database,
            autocommit=True,
            charset="utf8mb4",
            connect_timeout=10,
        )


def _secure_mariadb_root(sock: Path, password: str) -> None:
    """Give ``root`` a password for socket and TCP logins (install-db left it passwordless)."""
    import pymysql

    with (
        contextlib.closing(pymysql.connect(unix_socket=str(sock), user="root", password="", autocommit=True)) as conn,
        conn.cursor() as cur,
    ):
        cur.execute("SELECT user, host FROM mysql.user WHERE user = ''")
        for u, h in cur.fetchall():  # defensive: anonymous users shadow named ones
            cur.execute("DROP USER %s@%s", (u, h))
        cur.execute("ALTER USER 'root'@'localhost' IDENTIFIED BY %s", (password,))
        cur.execute("CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY %s", (password,))
        cur.execute("ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY %s", (password,))
        cur.execute("GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION")
        cur.execute("ALTER USER IF EXISTS 'root'@'::1' IDENTIFIED BY %s", (password,))
        cur.execute("FLUSH PRIVILEGES")


def _start_mariadb(base: Path) -> MariaDBServer:
    install_db = _require_binary("mariadb-install-db", "mariadb_server")
    mariadbd = _require_binary(
        "/usr/sbin/mariadbd" if os.path.exists("/usr/sbin/mariadbd") else "mariadbd", "mariadb_server"
    )
    run_as = _service_account()
    home = _private_dir(base, "mariadb", run_as)
    data_dir = home / "data"
    tmp_dir = home / "tmp"
    sock = home / "mariadb.sock"
    log_path = home / "mariadb.log"
    for d in (data_dir, tmp_dir):
        d.mkdir(mode=0o700)
        run_as.chown(d)
    log_path.touch()
    run_as.chown(log_path)
    password = secrets.token_hex(16)

    # Runs as the service account directly (no --user), so it never needs root.
    _run_checked(
        [
            install_db,
            "--no-defaults",
            f"--datadir={data_dir}",
            "--auth-root-authentication-method=normal",  # passwordless root, replaced below
            "--skip-test-db",  # also means: no anonymous ''@localhost users
            "--skip-name-resolve",
            f"--tmpdir={tmp_dir}",
            "--innodb-log-file-size=16M",
            "--innodb-buffer-pool-size=32M",
        ],
        log_path,
        "mariadb-install-db",
        cwd=home,
        env=run_as.env(home),
        **run_as.popen_kwargs(),
    )

    def start(port: int) -> MariaDBServer:
        import pymysql

        proc = ManagedProcess(
            "mariadbd",
            [
                mariadbd,
                "--no-defaults",
                f"--datadir={data_dir}",
                f"--socket={sock}",
                f"--port={port}",
                f"--bind-address={LOOPBACK}",
                f"--pid-file={home / 'mariadbd.pid'}",
                f"--tmpdir={tmp_dir}",
                "--skip-networking=0",
                "--skip-name-resolve",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci",
                "--innodb-buffer-pool-size=32M",
                "--innodb-log-file-size=16M",
                "--innodb-flush-log-at-trx-commit=0",
                "--innodb-doublewrite=0",
                "--skip-log-bin",
                "--max-connections=100",
            ],
            log_path,
            run_as=run_as,
            cwd=home,
            env=run_as.env(home),
        )
        proc.start()
        server = MariaDBServer(LOOPBACK, port, "root", password, sock, data_dir, log_path, proc)

        def socket_ready() -> bool:
            # Probe with a socket we close ourselves first: PyMySQL leaks its socket object
            # (ResourceWarning) when connect() fails while the server is still starting.
            if not _unix_accepts(sock):
                return False
            # Passwordless root over the socket only exists until _secure_mariadb_root runs.
            with contextlib.closing(pymysql.connect(unix_socket=str(sock), user="root", password="")) as c:
                c.ping()
            return True

        with proc.stopped_on_error():
            proc.wait_until(socket_ready)
            # TCP must be up too (the socket can come up first) before we hand it out.
            proc.wait_until(lambda: _tcp_accepts(port))
            _secure_mariadb_root(sock, password)
            server.admin_connect().close()  # proves TCP + password auth end to end
        return server

    return _start_with_port_retry(start, log_path, "mariadbd")


@pytest.fixture(scope="session")
def mariadb_server(server_base_dir: Path) -> Iterator[MariaDBServer]:
    """A real MariaDB (Debian's mariadbd) on 127.0.0.1:<free port> for the whole session."""
    try:
        server = _start_mariadb(server_base_dir)
    except ServerStartError as exc:
        pytest.fail(f"mariadb_server: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.process.stop()


# --------------------------------------------------------------------------- OpenSSH / SFTP


@dataclass
class SSHServer:
    """A running OpenSSH sshd on 127.0.0.1 with key-only auth and ``internal-sftp``.

    ``username`` is the user running pytest (root in CI): sshd can only log in as itself
    when not root, and files the tests put under ``root`` are then always readable with the
    permissions the test gave them. ``root`` is a plain absolute directory on this machine
    (no chroot), so SFTP paths are ``str(srv.root / "x.csv")``.
    """

    host: str
    port: int
    username: str
    private_key_path: Path
    public_key_path: Path
    host_public_key: str  # "ssh-ed25519 AAAA..." (no comment)
    known_hosts_path: Path  # contains "[127.0.0.1]:PORT ssh-ed25519 AAAA..."
    root: Path
    config_path: Path
    log_path: Path
    process: ManagedProcess = field(repr=False)

    @property
    def known_hosts_line(self) -> str:
        return f"[{self.host}]:{self.port} {self.host_public_key}"

    def connect(self) -> paramiko.SSHClient:
        """A connected paramiko client that verifies the host key (RejectPolicy)."""
        import paramiko

        client = paramiko.SSHClient()
        client.load_host_keys(str(self.known_hosts_path))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        client.connect(
            self.host,
            port=self.port,
            username=self.username,
            key_filename=str(self.private_key_path),
            look_for_keys=False,
            allow_agent=False,
            timeout=10,
        )
        return client


def _start_sshd(base: Path) -> SSHServer:
    sshd = _require_binary("/usr/sbin/sshd", "sshd_server")  # sshd insists on an absolute path
    keygen = _require_binary("ssh-keygen", "sshd_server")
    home = _private_dir(base, "sshd", None)  # stays root-only: holds private keys
    root = home / "root"
    root.mkdir(mode=0o755)
    log_path = home / "sshd.log"
    host_key = home / "ssh_host_ed25519_key"
    user_key = home / "id_ed25519"
    authorized_keys = home / "authorized_keys"
    known_hosts = home / "known_hosts"
    config = home / "sshd_config"
    username = pwd.getpwuid(os.geteuid()).pw_name

    for key, comment in ((host_key, "privaudit-test-host"), (user_key, "privaudit-test-user")):
        _run_checked([keygen, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(key)], log_path, "ssh-keygen")
    authorized_keys.write_text(user_key.with_suffix(".pub").read_text())
    host_pub = " ".join(host_key.with_suffix(".pub").read_text().split()[:2])

    if os.geteuid() == 0:
        # Privilege-separation dir; normally created by systemd's RuntimeDirectory=.
        Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)

    def start(port: int) -> SSHServer:
        config.write_text(
            "# privaudit test sshd: loopback only, key auth only\n"
            f"Port {port}\n"
            f"ListenAddress {LOOPBACK}\n"
            "AddressFamily inet\n"
            f"HostKey {host_key}\n"
            f"PidFile {home / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {authorized_keys}\n"
            "PubkeyAuthentication yes\n"
            "AuthenticationMethods publickey\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "PermitRootLogin prohibit-password\n"
            f"AllowUsers {username}\n"
            "StrictModes no\n"
            "UsePAM no\n"
            "UseDNS no\n"
            "PrintMotd no\n"
            "PrintLastLog no\n"
            "X11Forwarding no\n"
            "AllowTcpForwarding no\n"
            "AllowAgentForwarding no\n"
            "PermitTunnel no\n"
            "PermitUserEnvironment no\n"
            "LoginGraceTime 30\n"
            "MaxStartups 50:30:100\n"
            "Subsystem sftp internal-sftp\n"
            "LogLevel VERBOSE\n"
        )
        _run_checked([sshd, "-t", "-f", str(config)], log_path, "sshd -t (config check)")
        proc = ManagedProcess("sshd", [sshd, "-D", "-e", "-f", str(config)], log_path, cwd=home)
        proc.start()
        known_hosts.write_text(f"[{LOOPBACK}]:{port} {host_pub}\n")
        server = SSHServer(
            LOOPBACK,
            port,
            username,
            user_key,
            user_key.with_suffix(".pub"),
            host_pub,
            known_hosts,
            root,
            config,
            log_path,
            proc,
        )
        with proc.stopped_on_error():
            proc.wait_until(lambda: _tcp_accepts(port, b"SSH-"))
        return server

    return _start_with_port_retry(start, log_path, "sshd")


@pytest.fixture(scope="session")
def sshd_server(server_base_dir: Path) -> Iterator[SSHServer]:
    """A real OpenSSH sshd (+ internal-sftp) on 127.0.0.1:<free port> for the whole session."""
    try:
        server = _start_sshd(server_base_dir)
    except ServerStartError as exc:
        pytest.fail(f"sshd_server: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.process.stop()


# --------------------------------------------------------------------------- S3 (moto)


@dataclass
class S3Server:
    """moto's S3 (and other AWS APIs) served over real HTTP on 127.0.0.1.

    Nothing global is touched (no AWS_* env vars): use :meth:`client`, which passes dummy
    credentials and the endpoint explicitly. The server runs in a thread of this process,
    so ``moto.mock_aws`` used elsewhere in the same session shares (and may reset) its state.
    """

    host: str
    port: int
    endpoint_url: str
    region: str = "us-east-1"
    access_key_id: str = "testing"
    secret_access_key: str = "testing"
    _server: Any = field(default=None, repr=False)

    def client(self, service_name: str = "s3", **kwargs: Any) -> Any:
        """A boto3 client for ``service_name`` pointed at this server with dummy credentials."""
        import boto3
        from botocore.config import Config

        session = boto3.session.Session(
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            aws_session_token="testing",
            region_name=self.region,
        )
        kwargs.setdefault(
            "config",
            Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2, "mode": "standard"}),
        )
        return session.client(service_name, endpoint_url=self.endpoint_url, **kwargs)

    def reset(self) -> None:
        """Drop all buckets/objects (all moto state) via moto's reset API."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
        req = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", data=b"", method="POST")
        with opener.open(req, timeout=10) as resp:
            resp.read()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto ``ThreadedMotoServer`` on 127.0.0.1:<kernel-chosen port> for the whole session."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        pytest.fail(f"s3_server: moto[server] is not importable ({exc}); pip install -e '.[test]'", pytrace=False)
    # Port 0: the kernel picks the port at bind time, so there is no free-port race here
    # (which matters: ThreadedMotoServer.start() would hang forever if the bind failed).
    moto = ThreadedMotoServer(ip_address=LOOPBACK, port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    server = S3Server(host=host, port=port, endpoint_url=f"http://{host}:{port}", _server=moto)
    try:
        yield server
    finally:
        moto.stop()


# -- Dask: a scheduler and two `privaudit worker` processes (scans with --cluster) ------------------


def make_tls_files(directory: Path) -> dict[str, Path]:
    """A throwaway CA and certificates for the scheduler, the workers and the client (``openssl``),
    valid for 127.0.0.1: mutual TLS as an operator would set it up."""
    openssl = _require_binary("openssl", "openssl (TLS certificates for the Dask cluster tests)")
    log = directory / "openssl.log"
    files = {"ca": directory / "ca.pem"}
    _run_checked([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(directory / "ca.key"),
                  "-out", str(files["ca"]), "-days", "2", "-subj", "/CN=privaudit-test-ca"], log, "openssl CA")
    ext = directory / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("scheduler", "worker", "client"):
        key, csr, cert = (directory / f"{name}.{suffix}" for suffix in ("key", "csr", "pem"))
        _run_checked([openssl, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
                      "-subj", f"/CN={name}"], log, f"openssl {name} key")
        _run_checked([openssl, "x509", "-req", "-in", str(csr), "-CA", str(files["ca"]), "-CAkey",
                      str(directory / "ca.key"), "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile",
                      str(ext)], log, f"openssl {name} certificate")
        files[f"{name}_cert"], files[f"{name}_key"] = cert, key
    return files


@dataclass
class DaskCluster:
    """A real ``dask scheduler`` on loopback (port 0, scheduler file) and two ``privaudit worker``
    processes: plain TCP on 127.0.0.1 (hence ``--insecure``), or mutual TLS when ``tls`` holds files."""

    address: str
    base: Path
    scheduler: ManagedProcess
    tls: dict[str, Path] | None = None
    workers: list[ManagedProcess] = field(default_factory=list)

    def start_worker(self, name: str, env: dict[str, str] | None = None) -> ManagedProcess:
        """One more worker (e.g. with another fingerprint key); the caller stops it."""
        import sys

        security = (["--tls-ca", str(self.tls["ca"]), "--tls-cert", str(self.tls["worker_cert"]), "--tls-key",
                     str(self.tls["worker_key"])] if self.tls else ["--insecure"])
        worker = ManagedProcess(f"privaudit worker {name}", [
            sys.executable, "-m", "scanner", "worker", self.address, "--name", name, *security,
        ], self.base / f"worker-{name}.log", env={**os.environ, **(env or {})})
        worker.start()
        return worker

    def security(self) -> Any:
        from distributed.security import Security

        if not self.tls:
            return None
        return Security(tls_ca_file=str(self.tls["ca"]), tls_client_cert=str(self.tls["client_cert"]),
                        tls_client_key=str(self.tls["client_key"]), require_encryption=True)

    def wait_for_workers(self, count: int, timeout: float = STARTUP_TIMEOUT) -> None:
        """Until exactly ``count`` workers are registered with the scheduler."""
        from distributed import Client

        with Client(self.address, timeout=timeout, security=self.security()) as client:
            deadline = time.monotonic() + timeout
            while len(client.scheduler_info(n_workers=-1)["workers"]) != count:
                if time.monotonic() > deadline:
                    raise ServerStartError(f"dask: {count} workers not registered after {timeout:.0f}s")
                time.sleep(0.05)


def _start_dask(base: Path, tls: bool) -> DaskCluster:
    import json
    import sys

    files = make_tls_files(base) if tls else None
    scheduler_file = base / "scheduler.json"
    security = (["--protocol", "tls", "--tls-ca-file", str(files["ca"]), "--tls-cert", str(files["scheduler_cert"]),
                 "--tls-key", str(files["scheduler_key"])] if files else [])
    scheduler = ManagedProcess("dask scheduler", [
        sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
        "--no-dashboard", "--scheduler-file", str(scheduler_file), *security,
    ], base / "scheduler.log")
    scheduler.start()
    cluster = DaskCluster("", base, scheduler, files)
    try:
        scheduler.wait_until(scheduler_file.is_file)
        while not cluster.address:
            with contextlib.suppress(ValueError):  # the file is being written
                cluster.address = json.loads(scheduler_file.read_text())["address"]
        cluster.workers = [cluster.start_worker(f"w{i}") for i in (1, 2)]
        cluster.wait_for_workers(2)
    except BaseException:
        _stop_dask(cluster)
        raise
    return cluster


def _stop_dask(cluster: DaskCluster) -> None:
    for worker in cluster.workers:
        worker.stop()
    cluster.scheduler.stop()


@pytest.fixture(scope="session")
def dask_cluster(server_base_dir: Path) -> Iterator[DaskCluster]:
    """Plain TCP on loopback."""
    cluster = _start_dask(_private_dir(server_base_dir, "dask", None), tls=False)
    yield cluster
    _stop_dask(cluster)


@pytest.fixture(scope="session")
def dask_tls_cluster(server_base_dir: Path) -> Iterator[DaskCluster]:
    """Mutual TLS on loopback, certificates made with ``openssl``."""
    cluster = _start_dask(_private_dir(server_base_dir, "dask-tls", None), tls=True)
    yield cluster
    _stop_dask(cluster)


# --------------------------------------------------------------------------- Samba (SMB)


SMB_SHARE = "exports"
SMB_WORKGROUP = "PATEST"
SMB_AUDITOR = "pa-smb-auditor"  # the scanning account: "admin users" of the share (reads every file)
SMB_CLERK = "pa-smb-clerk"  # an ordinary user, member of SMB_GROUP (access-denied and locking cases)
SMB_GROUP = "pa-smb-analysts"


@dataclass
class SambaServer:
    """A real smbd on 127.0.0.1 serving one share, ``exports``, with NT ACLs stored by ``acl_xattr``.

    Throwaway: smb.conf, passdb, private/lock/state/cache dirs under the session's server dir. Unix
    accounts :data:`SMB_AUDITOR` and :data:`SMB_CLERK` (group :data:`SMB_GROUP`) are created once with
    ``useradd`` (smbd needs root, and maps SMB users to Unix users) and given SMB passwords with
    ``smbpasswd``. ACLs are set with ``samba-tool ntacl set`` through the share's VFS (the same
    ``security.NTACL`` xattr smbcacls would write; smbcacls itself cannot reach a server on a port other
    than 445/139 in Samba 4.17). Signing is mandatory on the server.
    """

    host: str
    port: int
    share: str
    root: Path
    config_path: Path
    log_path: Path
    domain_sid: str
    passwords: dict[str, str]
    process: ManagedProcess = field(repr=False)

    def uri(self, user: str = SMB_AUDITOR, path: str = "") -> str:
        return f"smb://{user}@{self.host}:{self.port}/{self.share}" + (f"/{path}" if path else "")

    def sid(self, rid: int) -> str:
        return f"{self.domain_sid}-{rid}"

    def user_sid(self, name: str) -> str:
        out = subprocess.run(["pdbedit", "-s", str(self.config_path), "-L", "-v", "-u", name], capture_output=True,
                             text=True, check=True).stdout
        found = re.search(r"User SID:\s+(S-1-[0-9-]+)", out)
        assert found, out
        return found.group(1)

    @staticmethod
    def group_sid(name: str) -> str:
        """A Unix group's SID as Samba maps it without a group mapping (``Unix Group\\name``)."""
        import grp

        return f"S-1-22-2-{grp.getgrnam(name).gr_gid}"

    def set_acl(self, relative: str, sddl: str) -> None:
        """Store an NT ACL (SDDL) on ``relative`` below the share root."""
        _run_checked(["samba-tool", "ntacl", "set", sddl, str(self.root / relative), "-s", str(self.config_path),
                      "--use-s3fs", f"--service={self.share}"], self.log_path, "samba-tool ntacl set")

    def set_share_acl(self, acl: str) -> None:
        """Replace the share-level ACL (``sharesec`` syntax, e.g. ``S-1-5-11:ALLOWED/0/READ``)."""
        _run_checked(["sharesec", "-s", str(self.config_path), self.share, "--replace", acl], self.log_path,
                     "sharesec --replace")

    def client_pids(self) -> list[int]:
        """The smbd children serving client connections now (``smbstatus -p``)."""
        out = subprocess.run(["smbstatus", "-s", str(self.config_path), "-p"], capture_output=True, text=True,
                             check=False).stdout
        return sorted({int(line.split()[0]) for line in out.splitlines() if re.match(r"\s*\d+\s", line)})

    def drop_connections(self) -> int:
        """Kill the processes serving clients (a dropped connection); the server keeps accepting."""
        pids = self.client_pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return len(pids)


def _ensure_unix_account(name: str, group: str | None = None) -> None:
    if group is not None:
        subprocess.run(["groupadd", "-f", group], check=True, capture_output=True)
    try:
        pwd.getpwnam(name)
    except KeyError:
        argv = ["useradd", "-M", "-N", "-s", "/usr/sbin/nologin", name]
        subprocess.run([*argv, *(["-G", group] if group else [])], check=True, capture_output=True)
    if group is not None:
        subprocess.run(["usermod", "-aG", group, name], check=True, capture_output=True)


def _start_samba(base: Path) -> SambaServer:
    smbd = _require_binary("/usr/sbin/smbd", "samba_server")
    smbpasswd = _require_binary("smbpasswd", "samba_server")
    for tool in ("samba-tool", "sharesec", "smbstatus", "pdbedit", "net"):
        _require_binary(tool, "samba_server")
    if not Path("/usr/lib/x86_64-linux-gnu/samba/vfs/acl_xattr.so").exists() and not glob.glob(
            "/usr/lib/*/samba/vfs/acl_xattr.so"):
        pytest.fail(f"samba_server: the acl_xattr VFS module is missing (samba-vfs-modules); {INSTALL_HINT}",
                    pytrace=False)
    if os.geteuid() != 0:
        pytest.fail("samba_server: smbd must run as root (it switches to the SMB user's Unix account); run the "
                    "SMB tests as root", pytrace=False)
    home = base / "samba"
    home.mkdir(mode=0o755)  # traversable: smbd serves the share as the logged-on user's uid
    private = _private_dir(home, "private", None)
    for name in ("lock", "state", "cache", "pid", "ncalrpc"):
        (home / name).mkdir(mode=0o755)
    root = home / SMB_SHARE
    root.mkdir(mode=0o755)
    log_path = home / "smbd.log"
    config = home / "smb.conf"
    _ensure_unix_account(SMB_AUDITOR)
    _ensure_unix_account(SMB_CLERK, SMB_GROUP)
    # root: Samba hands the share's own ACL (srvsvc NetShareGetInfo 502) to administrators only
    passwords = {SMB_AUDITOR: "Audit-" + secrets.token_hex(8), SMB_CLERK: "Clerk-" + secrets.token_hex(8),
                 "root": "Root-" + secrets.token_hex(8)}

    def start(port: int) -> SambaServer:
        config.write_text(
            "# privaudit test smbd: loopback only, SMB2+ only, signing mandatory\n"
            "[global]\n"
            "  server role = standalone server\n"
            f"  workgroup = {SMB_WORKGROUP}\n"
            f"  netbios name = {SMB_WORKGROUP}\n"
            f"  smb ports = {port}\n"
            f"  interfaces = {LOOPBACK}\n"
            "  bind interfaces only = yes\n"
            "  disable netbios = yes\n"
            f"  private dir = {private}\n"
            f"  lock directory = {home / 'lock'}\n"
            f"  state directory = {home / 'state'}\n"
            f"  cache directory = {home / 'cache'}\n"
            f"  pid directory = {home / 'pid'}\n"
            f"  ncalrpc dir = {home / 'ncalrpc'}\n"
            f"  passdb backend = tdbsam:{private / 'passdb.tdb'}\n"
            f"  log file = {home / 'log.%m'}\n"
            "  log level = 1\n"
            "  server min protocol = SMB2_02\n"
            "  server signing = mandatory\n"
            "  load printers = no\n"
            "  printing = bsd\n"
            "  printcap name = /dev/null\n"
            "  disable spoolss = yes\n"
            "  map to guest = never\n"
            "  restrict anonymous = 2\n"
            f"[{SMB_SHARE}]\n"
            f"  path = {root}\n"
            "  read only = no\n"
            "  vfs objects = acl_xattr\n"
            "  acl_xattr:ignore system acls = yes\n"
            f"  admin users = {SMB_AUDITOR}\n"
        )
        for user, password in passwords.items():
            with open(log_path, "ab") as log:
                subprocess.run([smbpasswd, "-c", str(config), "-s", "-a", user], input=f"{password}\n{password}\n"
                               .encode(), stdout=log, stderr=subprocess.STDOUT, check=True)
        sid = subprocess.run(["net", "-s", str(config), "getlocalsid"], capture_output=True, text=True, check=True)
        domain_sid = sid.stdout.strip().rsplit(" ", 1)[-1]
        proc = ManagedProcess("smbd", [smbd, "--foreground", "--no-process-group", "--debug-stdout", "-s",
                                       str(config)], log_path, cwd=home)
        proc.start()
        server = SambaServer(LOOPBACK, port, SMB_SHARE, root, config, log_path, domain_sid, passwords, proc)
        with proc.stopped_on_error():
            proc.wait_until(lambda: _tcp_accepts(port))
        return server

    return _start_with_port_retry(start, log_path, "smbd")


@pytest.fixture(scope="session")
def samba_server(server_base_dir: Path) -> Iterator[SambaServer]:
    """A real Samba smbd (NT ACLs in xattrs, signing mandatory) on 127.0.0.1:<free port> for the session."""
    try:
        server = _start_samba(server_base_dir)
    except ServerStartError as exc:
        pytest.fail(f"samba_server: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.process.stop()

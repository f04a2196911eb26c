"""Scans on a Dask cluster (``--cluster``): same findings as the local pool, nothing raw on the wire,
one fingerprint key for all, and no plain TCP unless asked for.

Real processes on loopback: the session's ``dask scheduler`` and two ``privaudit worker`` processes
(:func:`tests.servers.dask_cluster`), plus a ``local:2`` LocalCluster through the command line.
"""

from __future__ import annotations

import json
import pickle
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from scanner import executor_dask
from scanner.cli import main
from scanner.connector import ScanOptions
from scanner.executor import Batch, Job
from scanner.executor_dask import ClusterError, ClusterSpec, password_targets, run_cluster_batch
from scanner.scan import run_scan

pytest.importorskip("distributed")

RAW_VALUES = ("110101199003070011", "13812345678", "440304199007010020", "13923456789", "zhang.wei@example.com")


def run(args: list[str]) -> Result:
    return CliRunner().invoke(main, args, prog_name="privaudit", catch_exceptions=False)


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Customers, a log, a clean note and a nested export: several batches' worth of resources."""
    root = tmp_path_factory.mktemp("cluster") / "share"
    (root / "exports" / "2026").mkdir(parents=True)
    (root / "customers.csv").write_text("name,id_card,mobile\nZhang Wei,110101199003070011,13812345678\n"
                                        "Li Na,440304199007010020,13923456789\n")
    (root / "app.log").write_text("login ok user=zhang.wei@example.com phone=13812345678\n" * 3)
    (root / "readme.txt").write_text("nothing personal here\n")
    for i in range(12):
        (root / "exports" / "2026" / f"part-{i}.csv").write_text(f"id,mobile\n{i},13812345678\n")
    return root


def summary(report: Any) -> tuple[list[tuple[str, ...]], list[tuple[str, str]]]:
    findings = sorted((f.rule_id, f.resource.uri, str(f.entity_type), str(f.occurrences), f.fingerprint)
                      for f in report.findings)
    notes = sorted((n.kind or "", n.resource_uri if hasattr(n, "resource_uri") else "") for n in report.notifications)
    return findings, notes


def cluster_options(address: str) -> ScanOptions:
    return ScanOptions(jobs=2, extra={"cluster": address, "cluster_insecure": True})


def test_cluster_scan_equals_local_pool(dask_cluster: Any, planted: Path) -> None:
    local = run_scan([str(planted)], ScanOptions(jobs=2))
    remote = run_scan([str(planted)], cluster_options(dask_cluster.address))
    assert local.findings, "the planted tree must give findings, or the comparison proves nothing"
    assert summary(remote) == summary(local)


def test_local_cluster_through_the_command_line(planted: Path, tmp_path: Path) -> None:
    for name, extra in (("pool", ["--jobs", "2"]), ("cluster", ["--cluster", "local:2"])):
        result = run(["scan", str(planted), "-q", "--format", "json", "-o", str(tmp_path / f"{name}.json"), *extra])
        assert result.exit_code == 1, result.stderr  # findings at error level
    pool, cluster = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("pool", "cluster"))
    for report in (pool, cluster):
        for key in ("started", "finished", "command_line", "commandLine"):
            report.pop(key, None)
    assert cluster == pool


@pytest.mark.parametrize(("args", "expected"), [
    (["--cluster", "tcp://127.0.0.1:8786"], "task payloads are pickles"),
    (["--cluster", "tls://127.0.0.1:8786"], "--cluster-tls-ca"),
    (["--cluster", "local:0"], "worker count"),
    (["--cluster", "http://scheduler:8786"], "not a cluster address"),
    (["--cluster", "tcp://user:pw@127.0.0.1:8786", "--cluster-insecure"], "must not hold credentials"),
])
def test_refused_cluster_addresses_exit_2(planted: Path, args: list[str], expected: str) -> None:
    result = run(["scan", str(planted), "-q", *args])
    assert result.exit_code == 2
    assert expected in result.stderr
    assert ":pw@" not in result.stderr


def test_target_with_password_is_refused_in_cluster_mode() -> None:
    result = run(["scan", "postgresql://audit:s3cret@db.internal/core", "--cluster", "local:2"])
    assert result.exit_code == 2
    assert "refused with --cluster" in result.stderr and "s3cret" not in result.stderr
    assert password_targets(["/srv/share", "sftp://u@h/p", "mysql://u:p@h/db"]) == ["mysql://u:***@h"]


def test_tcp_without_insecure_is_refused_by_the_executor_too() -> None:
    with pytest.raises(ClusterError, match="pickles"):
        executor_dask.DaskExecutor(Job([], [], None, 0.5), ClusterSpec("tcp://127.0.0.1:1"))


def test_worker_with_another_key_fails_the_scan_before_scanning(dask_cluster: Any, planted: Path,
                                                                 tmp_path: Path) -> None:
    other_key = "another-test-key-0123456789abcdef"
    odd = dask_cluster.start_worker("odd-key", {"PRIVAUDIT_FINGERPRINT_KEY": other_key})
    try:
        dask_cluster.wait_for_workers(3)
        out = tmp_path / "out.json"
        result = run(["scan", str(planted), "-q", "-o", str(out), "--cluster", dask_cluster.address,
                      "--cluster-insecure"])
        assert result.exit_code == 2
        assert "fingerprint key of worker" in result.stderr and "nothing was scanned" in result.stderr
        assert other_key not in result.stderr and "privaudit-test-key" not in result.stderr
        assert not out.exists()
    finally:
        odd.stop()
        dask_cluster.wait_for_workers(2)


def test_every_task_checks_the_key() -> None:
    """A worker that joins after the start-up check still refuses a task under another key."""
    with pytest.raises(ClusterError, match="differs"):
        run_cluster_batch("token", "not-the-hmac-of-our-key", Batch([]))


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bytes]]:
    """Every outcome as the client received it from a worker, pickled again."""
    seen: list[bytes] = []
    original = executor_dask.DaskExecutor.run

    def recording(self: Any, batches: Any) -> Iterator[Any]:
        for batch, outcomes in original(self, batches):
            seen.append(pickle.dumps(batch) + pickle.dumps(outcomes))
            yield batch, outcomes

    monkeypatch.setattr(executor_dask.DaskExecutor, "run", recording)
    yield seen


def test_no_raw_value_crosses_the_wire(dask_cluster: Any, planted: Path, wire: list[bytes]) -> None:
    report = run_scan([str(planted)], cluster_options(dask_cluster.address))
    assert report.findings and wire
    payload = b"".join(wire)
    for value in RAW_VALUES:
        for encoded in (value.encode(), value.encode("utf-16-le")):
            assert encoded not in payload, f"a planted value ({value[:3]}…) travelled from a worker"


@pytest.mark.parametrize(("args", "expected"), [
    (["tcp://127.0.0.1:8786"], "task payloads are pickles"),
    (["tls://127.0.0.1:8786"], "--tls-ca, --tls-cert and --tls-key"),
    (["local:2"], "not a scheduler address"),
    (["tcp://127.0.0.1:8786", "--insecure", "--resources", "zone"], "NAME=N"),
    ([], "give the scheduler ADDRESS"),
])
def test_worker_refuses_bad_addresses(args: list[str], expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRIVAUDIT_CLUSTER", raising=False)
    result = run(["worker", *args])
    assert result.exit_code == 2
    assert expected in result.stderr


def test_worker_command_line() -> None:
    from scanner.commands.worker import worker_argv

    argv = worker_argv("tls://s:8786", resources=("zone-core=1", "db=2"), tls_ca="ca", tls_cert="c", tls_key="k")
    assert argv[1:] == ["-m", "distributed.cli.dask_worker", "tls://s:8786", "--nthreads", "1", "--nworkers", "1",
                        "--nanny", "--no-dashboard", "--preload", "scanner.executor_dask",
                        "--resources", "zone-core=1 db=2", "--tls-ca-file", "ca", "--tls-cert", "c", "--tls-key", "k"]


def test_mutual_tls_scan_equals_local_pool(dask_tls_cluster: Any, planted: Path) -> None:
    tls = dask_tls_cluster.tls
    options = ScanOptions(extra={"cluster": dask_tls_cluster.address, "cluster_tls_ca": str(tls["ca"]),
                                 "cluster_tls_cert": str(tls["client_cert"]),
                                 "cluster_tls_key": str(tls["client_key"])})
    assert summary(run_scan([str(planted)], options)) == summary(run_scan([str(planted)], ScanOptions(jobs=2)))


def test_plain_tcp_is_refused_by_the_tls_scheduler(dask_tls_cluster: Any, planted: Path) -> None:
    plain = dask_tls_cluster.address.replace("tls://", "tcp://")
    result = run(["scan", str(planted), "-q", "--cluster", plain, "--cluster-insecure"])
    assert result.exit_code == 2
    assert "cannot use the cluster" in result.stderr


class PoisonRule:
    """Kills the worker evaluating a resource named ``poison*`` (as a parser crash or the OOM killer would)."""

    id = "test-poison"

    def evaluate(self, scan: Any, ctx: Any) -> list[Any]:
        import os

        if "poison" in scan.resource.uri:
            os._exit(137)
        return []


def test_a_batch_that_kills_workers_costs_only_its_culprit(planted: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Dask gives up on a batch whose workers die (KilledWorker); its items are retried alone, and only the
    one that kills its worker again becomes ``worker-lost``, the others' findings all come back."""
    import dask

    import scanner.scan as scan_module

    tree = tmp_path / "share"
    shutil.copytree(planted, tree)
    (tree / "poison.csv").write_text("id,mobile\n1,13812345678\n")
    real = scan_module.executor_for

    def with_poison(job: Job, jobs: int) -> Any:
        job.rules = [*job.rules, PoisonRule()]
        return real(job, jobs)

    expected = run_scan([str(planted)], ScanOptions(jobs=2))
    monkeypatch.setattr(scan_module, "executor_for", with_poison)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):  # the scheduler runs in this process
        report = run_scan([str(tree)], ScanOptions(extra={"cluster": "local:2"}))
    lost = [n for n in report.notifications if n.kind == "worker-lost"]
    assert [n.resource_uri.rsplit("/", 1)[-1] for n in lost] == ["poison.csv"]
    assert "13812345678" not in lost[0].message
    survivors = {(f.rule_id, f.resource.uri.rsplit("/share/", 1)[-1]) for f in report.findings}
    assert survivors == {(f.rule_id, f.resource.uri.rsplit("/share/", 1)[-1]) for f in expected.findings}


def test_cluster_from_the_environment(planted: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRIVAUDIT_CLUSTER", "tcp://127.0.0.1:8786")
    result = run(["scan", str(planted), "-q"])
    assert result.exit_code == 2 and "task payloads are pickles" in result.stderr


# -- the scan config's cluster: command line over config over PRIVAUDIT_CLUSTER --------------------------


class _Planned(Exception):
    """Raised instead of scanning: carries the options the scan would have run with."""


def _extra_of(args: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[Result, dict[str, Any]]:
    import scanner.review.scan_command as scan_command

    seen: dict[str, Any] = {}

    def capture(targets: Any, options: ScanOptions, *rest: Any, **kwargs: Any) -> Any:
        seen.update(options.extra, planned=True)
        raise _Planned

    monkeypatch.setattr(scan_command, "scan_with_progress", capture)
    result = CliRunner().invoke(main, args, prog_name="privaudit")
    return result, seen


def _config(tmp_path: Path, cluster: str) -> Path:
    (tmp_path / "share").mkdir(exist_ok=True)
    for name in ("ca.pem", "client.pem", "client.key", "other-ca.pem"):
        (tmp_path / name).write_text("not a real certificate\n")
    path = tmp_path / "privaudit.yaml"
    path.write_text("version: 1\ntargets:\n  - path: share\n" + cluster)
    return path


CONFIG_TLS = ("cluster:\n  address: tls://scheduler.internal:8786\n"
              "  tls: {ca: ca.pem, cert: client.pem, key: client.key}\n")
CONFIG_PLACED = ("cluster: {address: 'local:2'}\nplacement:\n  - targets: 'postgresql://*@db.core*'\n"
                 "    resources: {zone-core: 1}\nplacement_timeout: 30\ndatabase_sessions: 3\n")


@pytest.mark.parametrize(("cluster", "env", "args", "expected"), [
    # the config's address over the environment's, even a plain-TCP one that alone would be refused
    ("cluster: {address: 'local:2'}\n", "tcp://10.0.0.9:8786", [], {"cluster": "local:2"}),
    # the command line over the config
    ("cluster: {address: 'local:2'}\n", None, ["--cluster", "local:3"], {"cluster": "local:3"}),
    # no cluster in the config: the environment
    ("", "local:3", [], {"cluster": "local:3"}),
    ("", None, [], {}),
    # TLS files from the config (resolved against its directory), each overridable on the command line
    (CONFIG_TLS, None, [], {"cluster": "tls://scheduler.internal:8786", "cluster_tls_ca": "{dir}/ca.pem",
                            "cluster_tls_cert": "{dir}/client.pem", "cluster_tls_key": "{dir}/client.key"}),
    (CONFIG_TLS, None, ["--cluster-tls-ca", "{dir}/other-ca.pem"],
     {"cluster": "tls://scheduler.internal:8786", "cluster_tls_ca": "{dir}/other-ca.pem",
      "cluster_tls_cert": "{dir}/client.pem", "cluster_tls_key": "{dir}/client.key"}),
    ("cluster: {address: 'tcp://10.0.0.9:8786', insecure: true}\n", None, [],
     {"cluster": "tcp://10.0.0.9:8786", "cluster_insecure": True}),
    (CONFIG_PLACED, None, [], {"cluster": "local:2", "cluster_placement": [["postgresql://*@db.core*",
                                                                             {"zone-core": 1}]],
                               "cluster_placement_timeout": 30.0, "cluster_database_sessions": 3}),
])
def test_cluster_settings_command_line_over_config_over_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cluster: str, env: str | None, args: list[str],
        expected: dict[str, Any]) -> None:
    config = _config(tmp_path, cluster)
    if env:
        monkeypatch.setenv("PRIVAUDIT_CLUSTER", env)
    else:
        monkeypatch.delenv("PRIVAUDIT_CLUSTER", raising=False)
    args = [a.replace("{dir}", str(tmp_path)) for a in args]
    result, extra = _extra_of(["scan", "--config", str(config), "-q", *args], monkeypatch)
    assert extra.pop("planned", False), result.output
    got = {k: v for k, v in extra.items() if k.startswith("cluster")}
    assert got == json.loads(json.dumps(expected).replace("{dir}", str(tmp_path)))


@pytest.mark.parametrize(("cluster", "args", "expected"), [
    # a config's plain TCP without insecure: true, named as the config names it (file:line)
    ("cluster: {address: 'tcp://10.0.0.9:8786'}\n", [], "privaudit.yaml:4: cluster.address: tcp://10.0.0.9:8786 is "
                                                        "plain TCP"),
    # the command line's plain TCP is refused even with a config that has a cluster
    (CONFIG_TLS, ["--cluster", "tcp://10.0.0.9:8786"], "--cluster-insecure"),
    # a TLS file named by the config that is not there
    ("cluster:\n  address: tls://s:8786\n  tls: {ca: missing.pem, cert: client.pem, key: client.key}\n", [],
     "privaudit.yaml:6: cluster.tls.ca: file"),
])
def test_bad_cluster_settings_in_a_config_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cluster: str,
                                                 args: list[str], expected: str) -> None:
    monkeypatch.delenv("PRIVAUDIT_CLUSTER", raising=False)
    result, _ = _extra_of(["scan", "--config", str(_config(tmp_path, cluster)), "-q", *args], monkeypatch)
    assert result.exit_code == 2, result.output
    assert expected in result.stderr


# -- placement: a target's batches go to workers offering its resources --------------------------------------


def _zone_worker(cluster: Any, name: str, resources: str) -> Any:
    """A ``privaudit worker --resources`` process (as an operator starts one in a database's network zone)."""
    import os
    import sys

    from tests.servers import ManagedProcess

    worker = ManagedProcess(f"privaudit worker {name}", [
        sys.executable, "-m", "scanner", "worker", cluster.address, "--name", name, "--insecure",
        "--resources", resources], cluster.base / f"worker-{name}.log", env=dict(os.environ))
    worker.start()
    return worker


def _tasks_by_worker(address: str) -> dict[str, list[str]]:
    """The privaudit batch keys each worker has run (from the workers' transition logs)."""
    from distributed import Client

    def keys(dask_worker: Any) -> list[str]:
        return sorted({str(entry[0]) for entry in list(dask_worker.state.log)
                       if str(entry[0]).startswith("privaudit-batch-")})

    with Client(address, timeout=30) as client:
        names = {a: w["name"] for a, w in client.scheduler_info(n_workers=-1)["workers"].items()}
        return {str(names[a]): v for a, v in client.run(keys).items()}


def placed_config(tmp_path: Path, address: str, tree: Path, timeout: float) -> Path:
    config = tmp_path / "privaudit.yaml"
    config.write_text(f"version: 1\ntargets:\n  - path: {tree}\ncluster:\n  address: {address}\n  insecure: true\n"
                      f"placement:\n  - targets: '{tree.parent}/*'\n    resources: {{zone-test: 1}}\n"
                      f"placement_timeout: {timeout}\n")
    return config


def test_no_worker_for_a_placement_leaves_its_items_not_scanned_and_the_baseline_not_covered(
        dask_cluster: Any, planted: Path, tmp_path: Path) -> None:
    """Nobody offers zone-test: after placement_timeout every item of the target is a not-scanned error, the
    target is incomplete (exit 3) and the previous review's results are carried as not covered."""
    previous = tmp_path / "previous.sarif"
    assert run(["scan", str(planted), "-q", "--jobs", "2", "-o", str(previous)]).exit_code == 1
    now = tmp_path / "now.sarif"
    result = run(["scan", "--config", str(placed_config(tmp_path, dask_cluster.address, planted, 0.5)), "-q",
                  "--baseline", str(previous), "-o", str(now)])
    assert result.exit_code == 3, result.stderr
    sarif = json.loads(now.read_text())["runs"][0]
    notes = sarif["invocations"][0]["toolExecutionNotifications"]
    missing = [n["message"]["text"] for n in notes if "not scanned: no worker" in n["message"]["text"]]
    assert len(missing) == 15  # every resource of the planted tree
    assert all("(zone-test=1)" in m and "--resources zone-test=1" in m and m.endswith(".") for m in missing)
    assert any(m.startswith("customers.csv") or "customers.csv:" in m for m in missing)
    results = sarif["results"]
    assert results and all(r["baselineState"] == "unchanged" and r["properties"].get("notCovered") for r in results)
    assert not any(value in now.read_text() for value in RAW_VALUES)


def test_placement_runs_a_target_on_the_workers_offering_its_resources(dask_cluster: Any, planted: Path,
                                                                        tmp_path: Path) -> None:
    """`privaudit worker --resources zone-test=1` registers the resource; the placed target's batches all run
    there, and the scan equals the local pool's."""
    from distributed import Client

    zone = _zone_worker(dask_cluster, "zone", "zone-test=1")
    try:
        dask_cluster.wait_for_workers(3)
        with Client(dask_cluster.address, timeout=30) as client:
            offered = {w["name"]: w["resources"] for w in client.scheduler_info(n_workers=-1)["workers"].values()}
        assert offered["zone"] == {"zone-test": 1} and offered["w1"] == {}
        options = ScanOptions(jobs=2, extra={"cluster": dask_cluster.address, "cluster_insecure": True,
                                             "cluster_placement": [[f"{planted.parent}/*", {"zone-test": 1}]]})
        remote = run_scan([str(planted)], options)
        assert summary(remote) == summary(run_scan([str(planted)], ScanOptions(jobs=2)))
        ran = _tasks_by_worker(dask_cluster.address)
        assert ran["zone"] and all(k.startswith("privaudit-batch-zone-test-") for k in ran["zone"])
        assert not any(k.startswith("privaudit-batch-zone-test-") for name in ("w1", "w2") for k in ran[name])
    finally:
        zone.stop()
        dask_cluster.wait_for_workers(2)


def test_batches_are_split_by_placement_and_by_database() -> None:
    """The scan pipeline's batches mix targets; a cluster batch holds one placement and one database at most."""
    from scanner.executor import WorkItem
    from scanner.model import Resource

    executor = object.__new__(executor_dask.DaskExecutor)
    executor.resources = [None, {"zone-a": 1}, {"zone-a": 1}, None]
    def resource(uri: str, connector: str) -> Resource:
        return Resource(uri=uri, kind="file" if connector == "files" else "table", display_name=uri[-2:],
                        connector=connector, size=1 if connector == "files" else None)

    pg = "postgresql"
    items = [WorkItem(0, resource("file:///s/a", "files")), WorkItem(1, resource("postgresql://h/db1#t1", pg)),
             WorkItem(3, resource("file:///t/b", "files")), WorkItem(2, resource("postgresql://h/db2#t1", pg)),
             WorkItem(1, resource("postgresql://h/db1#t2", pg))]
    parts = executor._split(Batch(items))
    assert [[(i.target, i.resource.uri[-2:]) for i in p.items] for p in parts] == [
        [(0, "/a"), (3, "/b")], [(1, "t1"), (1, "t2")], [(2, "t1")]]
    assert executor._split(Batch(items[:1])) == [Batch(items[:1])]


# -- a database sees at most database_sessions sessions from the whole cluster ---------------------------------

CAPPED_DB = "ps_cluster_sessions"
SLOW_VIEWS = 12


@pytest.fixture(scope="module")
def capped_database(postgres_server: Any) -> Iterator[tuple[Any, str]]:
    """A database of 12 views, each taking ~0.15 s to sample (so sessions overlap unless capped), over a table
    of made-up customers; PGPASSWORD in the environment, as the workers' credentials would be."""
    import psycopg

    with postgres_server.admin_connect() as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {CAPPED_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {CAPPED_DB}")
    with psycopg.connect(postgres_server.dsn(CAPPED_DB), password=postgres_server.password,
                         autocommit=True) as conn:
        conn.execute("CREATE TABLE customers (id int, name text, id_card text, mobile text)")
        conn.execute("INSERT INTO customers VALUES (1, 'Zhang Wei', '110101199003070011', '13812345678'), "
                     "(2, 'Li Na', '440304199007010020', '13923456789')")
        conn.execute("CREATE FUNCTION slowly(value text) RETURNS text VOLATILE LANGUAGE sql AS "
                     "$$ SELECT pg_sleep(0.075); SELECT value $$")
        for i in range(SLOW_VIEWS):
            conn.execute(f"CREATE VIEW export_{i:02d} AS SELECT id, slowly(id_card) AS id_card, "
                         "slowly(mobile) AS mobile FROM customers LIMIT 1")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PGPASSWORD", postgres_server.password)
        mp.setenv("PGSSLMODE", "disable")
        yield postgres_server, postgres_server.dsn(CAPPED_DB)


@pytest.fixture(scope="module")
def four_workers(capped_database: tuple[Any, str]) -> Iterator[str]:
    """A LocalCluster of four single-threaded worker processes (started with PGPASSWORD in their environment),
    each with its detector built (as after a first scan), so the tests time the scans, not the start-up."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=4, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1",
                      scheduler_port=0) as cluster, Client(cluster) as client:
        client.run(_warm_worker)
        yield cluster.scheduler_address


def _warm_worker() -> None:
    from scanner import executor

    executor._prepare(Job([], [], None, ScanOptions().min_score))


class SessionWatch:
    """Polls pg_stat_activity from a thread: the most privaudit sessions the workers held at once (the
    client's own discovery session, whose backend pids are recorded as it connects, is not counted)."""

    def __init__(self, server: Any, client_pids: set[int]) -> None:
        import threading

        self.server, self.client_pids, self.most = server, client_pids, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        with self.server.admin_connect() as admin:
            while not self.stop.is_set():
                pids = {row[0] for row in admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name = 'privaudit' "
                    "AND pid <> pg_backend_pid()", (CAPPED_DB,))}
                self.most = max(self.most, len(pids - self.client_pids))
                self.stop.wait(0.005)

    def __enter__(self) -> SessionWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)


@pytest.mark.servers
@pytest.mark.parametrize(("cap", "at_most", "at_least"), [(1, 1, 1), (2, 2, 2), (8, 8, 3)])
def test_database_sessions_cap_the_sessions_of_the_whole_cluster(
        capped_database: tuple[Any, str], four_workers: str, monkeypatch: pytest.MonkeyPatch, cap: int, at_most: int,
        at_least: int) -> None:
    """Four workers, twelve slow views: the semaphore lets ``cap`` of them sample at once (8: the four workers
    overlap, so the watch can see more than the caps below), and the findings are the local pool's."""
    from connectors.postgresql import PostgreSQLConnector

    server, target = capped_database
    client_pids: set[int] = set()
    connect = PostgreSQLConnector._connect

    def recording(self: Any) -> Any:
        conn = connect(self)
        client_pids.add(conn.info.backend_pid)
        return conn

    expected = run_scan([target], ScanOptions(jobs=2))  # before the client's connections are recorded
    assert expected.findings and expected.targets[0].resources == SLOW_VIEWS + 1
    monkeypatch.setattr(PostgreSQLConnector, "_connect", recording)  # this process only: the client
    options = ScanOptions(extra={"cluster": four_workers, "cluster_insecure": True, "cluster_database_sessions": cap})
    with SessionWatch(server, client_pids) as watch:
        report = run_scan([target], options)
    assert at_least <= watch.most <= at_most
    assert summary(report) == summary(expected)


# -- a worker killed mid-scan ------------------------------------------------------------------------------------


class SlowRule:
    """Takes 30 ms per resource with something in it, so a scan of 96 such files lasts a few seconds."""

    id = "test-slow"

    def evaluate(self, scan: Any, ctx: Any) -> list[Any]:
        import time

        time.sleep(0.03)
        return []


@pytest.fixture(scope="module")
def slow_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("slow") / "exports"
    for i in range(96):
        folder = root / f"d{i % 8}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"export-{i:03d}.csv").write_text(f"id,mobile,id_card\n{i},13812345678,110101199003070011\n")
    return root


def test_sigkill_of_a_worker_mid_scan_changes_nothing(dask_cluster: Any, slow_tree: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """When the first batches have come back, SIGKILL a worker process (not its nanny) that is running one of
    ours: the scheduler reschedules its tasks, the nanny starts a new worker, and the findings and
    notifications are the local pool's."""
    import os
    import signal

    import scanner.scan as scan_module

    expected = run_scan([str(slow_tree)], ScanOptions(jobs=2))
    assert len(expected.findings) >= 96
    real_for, real_run = scan_module.executor_for, executor_dask.DaskExecutor.run
    killed: dict[str, Any] = {"after": 0}

    def slow(job: Job, jobs: int) -> Any:
        job.rules = [*job.rules, SlowRule()]
        return real_for(job, jobs)

    def killing(self: Any, batches: Any) -> Iterator[Any]:
        for batch, outcomes in real_run(self, batches):
            if "pid" not in killed:
                client = self.client  # the scan's own client: a second one in this process would share its loop
                processing = client.processing()
                busy = [w for w, keys in processing.items()
                        if any(str(k).startswith("privaudit-batch-") for k in keys)]
                # one running a batch of ours; else (all queued at the scheduler) any of them
                pids = client.run(os.getpid, workers=(busy or sorted(processing))[:1])
                nannies = {w["nanny"] for w in client.scheduler_info(n_workers=-1)["workers"].values()}
                (address, pid), = pids.items()
                assert pid not in {p.pid for p in dask_cluster.workers} and address not in nannies
                os.kill(pid, signal.SIGKILL)
                killed["pid"] = pid
            else:
                killed["after"] += 1
            yield batch, outcomes

    monkeypatch.setattr(scan_module, "executor_for", slow)
    monkeypatch.setattr(executor_dask.DaskExecutor, "run", killing)
    try:
        report = run_scan([str(slow_tree)], cluster_options(dask_cluster.address))
    finally:
        dask_cluster.wait_for_workers(2)  # the nanny has started a new worker
    assert killed["after"] >= 3, f"the worker must die while the scan still had batches to run: {killed}"
    assert not [n.message for n in report.notifications if n.kind == "worker-lost"]
    assert summary(report) == summary(expected)
    with pytest.raises(ProcessLookupError):
        os.kill(killed["pid"], 0)

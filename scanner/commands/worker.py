"""``privaudit worker ADDRESS``: a Dask worker for ``privaudit scan --cluster`` (wraps ``dask worker``).

Operators run the scheduler (``dask scheduler``, the dask-kubernetes operator, dask-jobqueue) as they
like; this starts the workers with privaudit's settings: one thread per process (connectors and the
detector are per process), a nanny that restarts a worker that dies, the dashboard and profiler off
(the profiler samples stacks, whose frames can hold the values being scanned), and privaudit's worker
set-up preloaded (imports, fingerprint-key check). ``--resources zone=1`` lets placement send a
database's sampling to a worker in its network zone.

Every worker must use the client's fingerprint key (``PRIVAUDIT_FINGERPRINT_KEY`` or the key file):
the scan compares an HMAC of a constant under each key before it starts and fails on a mismatch.
Task payloads are pickles: whoever reaches the scheduler runs code here. Use ``tls://`` with the
``--tls-*`` files; a ``tcp://`` address is refused without ``--insecure``.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

import click


def worker_argv(address: str, *, resources: tuple[str, ...] = (), nworkers: int = 1, name: str | None = None,
                tls_ca: str | None = None, tls_cert: str | None = None, tls_key: str | None = None,
                memory_limit: str | None = None) -> list[str]:
    """The ``dask worker`` command line this command runs (separate so it can be tested)."""
    argv = [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1", "--nworkers",
            str(nworkers), "--nanny", "--no-dashboard", "--preload", "scanner.executor_dask"]
    if resources:
        argv += ["--resources", " ".join(resources)]
    if name:
        argv += ["--name", name]
    if memory_limit:
        argv += ["--memory-limit", memory_limit]
    for flag, value in (("--tls-ca-file", tls_ca), ("--tls-cert", tls_cert), ("--tls-key", tls_key)):
        if value:
            argv += [flag, value]
    return argv


@click.command(name="worker")
@click.argument("address", required=False, envvar="PRIVAUDIT_CLUSTER")
@click.option("--resources", multiple=True, metavar="NAME=N",
              help="Worker resource for placement, e.g. zone-core=1 (repeatable).")
@click.option("--nworkers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes (each single-threaded).")
@click.option("--name", default=None, help="Worker name shown by the scheduler.")
@click.option("--memory-limit", default=None, metavar="BYTES", help="Memory per worker process (dask syntax, 4GiB).")
@click.option("--tls-ca", type=click.Path(exists=True, dir_okay=False), default=None, metavar="FILE",
              help="CA certificate of the cluster (mutual TLS).")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False), default=None, metavar="FILE",
              help="This worker's certificate.")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False), default=None, metavar="FILE",
              help="This worker's private key.")
@click.option("--insecure", is_flag=True, help="Allow a tcp:// scheduler (task payloads are pickles).")
def command(address: str | None, resources: tuple[str, ...], nworkers: int, name: str | None,
            memory_limit: str | None, tls_ca: str | None, tls_cert: str | None, tls_key: str | None,
            insecure: bool) -> None:
    """Run Dask worker processes for `privaudit scan --cluster` (one thread each, nanny on, no dashboard)."""
    from scanner.executor_dask import insecure_warning

    if not address:
        raise click.UsageError("give the scheduler ADDRESS, e.g. `privaudit worker tls://scheduler:8786`.")
    scheme = urlsplit(address).scheme
    if scheme not in ("tls", "tcp"):
        raise click.UsageError(f"ADDRESS {address!r} is not a scheduler address; give tls://host:port or "
                               "tcp://host:port (with --insecure).")
    if scheme == "tcp" and not insecure:
        names = {"address": "ADDRESS", "ca": "--tls-ca", "cert": "--tls-cert", "key": "--tls-key",
                 "insecure": "--insecure"}
        raise click.UsageError(f"ADDRESS {address} is plain TCP: {insecure_warning(names)}.")
    if scheme == "tls" and not (tls_ca and tls_cert and tls_key):
        raise click.UsageError(f"ADDRESS {address} needs mutual TLS files: give --tls-ca, --tls-cert and --tls-key.")
    for resource in resources:
        label, _, count = resource.partition("=")
        try:
            float(count)
        except ValueError:
            raise click.UsageError(f"--resources {resource!r}: give NAME=N, e.g. zone-core=1.") from None
        if not label:
            raise click.UsageError(f"--resources {resource!r}: give NAME=N, e.g. zone-core=1.")
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise click.UsageError("privaudit worker needs Dask distributed: pip install 'privaudit[dask]'.") from None
    from scanner.executor_dask import key_check

    check = key_check()
    if check.startswith("unusable: "):
        click.echo(f"privaudit: {check.removeprefix('unusable: ')}.", err=True)
        sys.exit(2)
    env = dict(os.environ)
    env["DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED"] = "False"  # stack samples could hold scanned values
    argv = worker_argv(address, resources=resources, nworkers=nworkers, name=name, tls_ca=tls_ca,
                       tls_cert=tls_cert, tls_key=tls_key, memory_limit=memory_limit)
    os.execve(argv[0], argv, env)

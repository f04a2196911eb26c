"""Smoke tests for the real loopback servers in ``tests/servers.py``.

They prove each session fixture serves real traffic with real authentication, so that a
broken server setup shows up here with a clear message rather than as confusing failures
in the connector tests that depend on it.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import paramiko
import pytest

if TYPE_CHECKING:  # a runtime import would stop pytest from assert-rewriting the plugin
    from tests.servers import MariaDBServer, PostgresServer, S3Server, SSHServer

# Registers the fixtures even before tests/conftest.py lists the plugin; pytest ignores a
# plugin that is already registered, so this stays harmless afterwards.
pytest_plugins = ["tests.servers"]

pytestmark = pytest.mark.servers


def test_postgres_select_and_pgcrypto(postgres_server: PostgresServer) -> None:
    import psycopg

    assert postgres_server.host == "127.0.0.1"
    assert postgres_server.password not in postgres_server.dsn()
    with postgres_server.admin_connect() as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
        assert conn.execute("SHOW ssl").fetchone() == ("off",)

    dbname = f"smoke_{uuid.uuid4().hex[:8]}"
    with postgres_server.admin_connect() as admin:
        admin.execute(f'CREATE DATABASE "{dbname}"')
    try:
        with psycopg.connect(postgres_server.dsn(dbname), password=postgres_server.password) as conn:
            conn.execute("CREATE EXTENSION pgcrypto")
            digest = conn.execute("SELECT encode(digest('abc', 'sha256'), 'hex')").fetchone()
            assert digest == ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",)
    finally:
        with postgres_server.admin_connect() as admin:
            admin.execute(f'DROP DATABASE "{dbname}" WITH (FORCE)')


def test_postgres_rejects_wrong_password(postgres_server: PostgresServer) -> None:
    import psycopg

    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(postgres_server.dsn(), password="wrong", connect_timeout=5)


def test_mariadb_version(mariadb_server: MariaDBServer) -> None:
    import pymysql

    with mariadb_server.admin_connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT VERSION(), @@bind_address, @@skip_networking")
        version, bind_address, skip_networking = cur.fetchone()
    assert "MariaDB" in version
    assert bind_address == "127.0.0.1"
    assert skip_networking == 0

    with pytest.raises(pymysql.err.OperationalError):
        pymysql.connect(host=mariadb_server.host, port=mariadb_server.port, user="root", password="", connect_timeout=5)


def test_sshd_sftp_with_verified_host_key(sshd_server: SSHServer) -> None:
    (sshd_server.root / "customers.csv").write_text("name,email\nAda,ada@example.com\n")
    (sshd_server.root / "sub").mkdir(exist_ok=True)

    assert sshd_server.known_hosts_path.read_text().startswith(f"[127.0.0.1]:{sshd_server.port} ssh-ed25519 ")
    client = paramiko.SSHClient()
    client.load_host_keys(str(sshd_server.known_hosts_path))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(
        sshd_server.host,
        port=sshd_server.port,
        username=sshd_server.username,
        key_filename=str(sshd_server.private_key_path),
        look_for_keys=False,
        allow_agent=False,
        timeout=10,
    )
    try:
        with client.open_sftp() as sftp:
            assert {"customers.csv", "sub"} <= set(sftp.listdir(str(sshd_server.root)))
            with sftp.open(str(sshd_server.root / "customers.csv")) as fh:
                assert b"ada@example.com" in fh.read()
    finally:
        client.close()


def test_sshd_rejects_unknown_host_key(sshd_server: SSHServer, tmp_path: Path) -> None:
    empty_known_hosts = tmp_path / "known_hosts"
    empty_known_hosts.write_text("")
    client = paramiko.SSHClient()
    client.load_host_keys(str(empty_known_hosts))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        with pytest.raises(paramiko.SSHException, match="not found in known_hosts"):
            client.connect(
                sshd_server.host,
                port=sshd_server.port,
                username=sshd_server.username,
                key_filename=str(sshd_server.private_key_path),
                look_for_keys=False,
                allow_agent=False,
                timeout=10,
            )
    finally:
        client.close()


def test_s3_roundtrip(s3_server: S3Server) -> None:
    s3 = s3_server.client()
    bucket = f"smoke-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="exports/customers.csv", Body=b"name,email\nAda,ada@example.com\n")
    listing = s3.list_objects_v2(Bucket=bucket, Prefix="exports/")
    assert [o["Key"] for o in listing["Contents"]] == ["exports/customers.csv"]
    assert s3_server.endpoint_url.startswith("http://127.0.0.1:")

    s3_server.reset()
    assert bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}

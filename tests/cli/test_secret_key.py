"""`sync-gateway secret-key generate|rotate`, and `shops add --token` with and without a key:
each command a real subprocess on a real SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from core import TokenCipher
from core.token_cipher import generate_key
from plugins.storage.sqlalchemy.backend import SqlAlchemyBackend

TOKEN = "shpat_cli_stored_token_5be1"
Gateway = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def database_file(tmp_path: Path) -> Path:
    return tmp_path / "cli.db"


@pytest.fixture
def gateway(tmp_path: Path, database_file: Path) -> Gateway:
    """Runs a command with ``key`` as SYNC_GATEWAY_SECRET_KEY (None: unset)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_") and k != "REDIS_URL"}
    base.update({"SYNC_GATEWAY_DATABASE_URL": f"sqlite:///{database_file}", "COLUMNS": "1000"})

    def run(*args: str, key: str | None) -> subprocess.CompletedProcess[str]:
        env = dict(base, **({"SYNC_GATEWAY_SECRET_KEY": key} if key is not None else {}))
        return subprocess.run([sys.executable, "-m", "gateway", *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)

    return run


def _stored_token(database_file: Path, *keys: str) -> str | None:
    storage = SqlAlchemyBackend().open(f"sqlite:///{database_file}", cipher=TokenCipher(keys))
    try:
        with storage.transaction() as tx:
            (shop,) = tx.list_shops()
            return tx.shop_credentials(shop.id).token
    finally:
        storage.dispose()


def test_generate_prints_a_new_fernet_key_and_touches_no_database(gateway: Gateway, database_file: Path) -> None:
    first, second = gateway("secret-key", "generate", key=None), gateway("secret-key", "generate", key=None)

    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    Fernet(key)  # a valid key
    assert key != second.stdout.strip()
    assert "SYNC_GATEWAY_SECRET_KEY" in first.stderr and key not in first.stderr
    assert not database_file.exists()


def test_without_a_key_storing_a_token_is_one_clear_line_and_exit_1(gateway: Gateway) -> None:
    refused = gateway("shops", "add", "acme", "--url", "acme.myshopify.com", "--token", TOKEN, key=None)

    assert refused.returncode == 1
    (line,) = refused.stderr.strip().splitlines()
    assert line.startswith("error: storing an access token needs an encryption key")
    assert "SYNC_GATEWAY_SECRET_KEY is not set" in line and "--token-env" in line
    assert TOKEN not in refused.stdout + refused.stderr
    assert "acme" not in gateway("shops", "list", key=None).stdout

    added = gateway("shops", "add", "acme", "--url", "acme.myshopify.com", "--token-env", "ACME_TOKEN", "--no-check",
                    key=None)  # the variable is set where the worker runs
    assert added.returncode == 0, added.stderr
    assert "added shop acme" in added.stdout


def test_rotate_re_encrypts_the_stored_tokens_with_the_first_key(gateway: Gateway, database_file: Path) -> None:
    old, new = generate_key(), generate_key()
    added = gateway("shops", "add", "acme", "--url", "acme.myshopify.com", "--token", TOKEN, key=old)
    assert added.returncode == 0, added.stderr

    rotated = gateway("secret-key", "rotate", key=f"{new},{old}")

    assert rotated.returncode == 0, rotated.stderr
    assert "re-encrypted 1 stored access token with the first key" in rotated.stdout
    assert _stored_token(database_file, new) == TOKEN  # the old key is no longer needed
    for secret in (old, new, TOKEN):
        assert secret not in rotated.stdout + rotated.stderr


def test_rotate_with_keys_that_do_not_open_the_tokens_fails_clearly_and_changes_nothing(
        gateway: Gateway, database_file: Path) -> None:
    old, stranger = generate_key(), generate_key()
    assert gateway("shops", "add", "acme", "--url", "acme.myshopify.com", "--token", TOKEN, key=old).returncode == 0

    failed = gateway("secret-key", "rotate", key=stranger)
    assert failed.returncode == 1
    (line,) = failed.stderr.strip().splitlines()
    assert "shop 'acme'" in line and "cannot be decrypted" in line
    assert old not in line and stranger not in line and TOKEN not in line
    assert _stored_token(database_file, old) == TOKEN

    keyless = gateway("secret-key", "rotate", key=None)
    assert keyless.returncode == 1 and "SYNC_GATEWAY_SECRET_KEY is not set" in keyless.stderr


def test_a_malformed_key_stops_every_command_with_one_line_that_does_not_quote_it(gateway: Gateway) -> None:
    bad = "not-a-fernet-key-but-a-password"
    failed = gateway("shops", "list", key=bad)

    assert failed.returncode == 1
    (line,) = failed.stderr.strip().splitlines()
    assert "SYNC_GATEWAY_SECRET_KEY holds a value that is not a Fernet key" in line
    assert bad not in failed.stdout + failed.stderr

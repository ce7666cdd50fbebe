"""What a command that failed prints: one line saying what is wrong, and an exit code per cause.

A script (or systemd, or a deploy job) can tell the causes apart by the code; a person reads
the line. ``--debug`` anywhere on the command line, or ``LOG_LEVEL=DEBUG``, adds the traceback.

====  ======================================================================
code  cause
====  ======================================================================
1     any other error the gateway reports on purpose (an unknown shop, a refused input)
2     a command-line usage error (typer/click's own code)
3     an invalid setting: which one, its value's source and the allowed range (a plugin's too:
      ``[plugins.<name>] <key>``)
4     SYNC_GATEWAY_CONFIG names a file that does not exist
5     the config file is not valid TOML (with its line and column)
6     LOAD_PLUGINS names a plugin that is not installed (with the nearest name)
7     the database is unreachable
8     Redis is unreachable
9     a window that ends before it starts
70    an internal error (a bug: the traceback is logged with --debug)
====  ======================================================================
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    ERROR = 1
    USAGE = 2
    INVALID_SETTING = 3
    CONFIG_MISSING = 4
    CONFIG_SYNTAX = 5
    UNKNOWN_PLUGIN = 6
    DATABASE_UNREACHABLE = 7
    REDIS_UNREACHABLE = 8
    INVALID_WINDOW = 9
    INTERNAL = 70  # EX_SOFTWARE of sysexits.h


@dataclass(frozen=True, slots=True)
class Failure:
    code: ExitCode
    line: str


def describe(exc: BaseException) -> Failure:
    """The exit code and the one line for ``exc``."""
    import pydantic
    import redis

    from core.errors import GatewayError, InvalidPluginSetting, InvalidWindow, MissingConfigFile, UnknownPlugin

    if isinstance(exc, pydantic.ValidationError):
        return Failure(ExitCode.INVALID_SETTING, _setting_line(exc))
    if isinstance(exc, InvalidPluginSetting):
        return Failure(ExitCode.INVALID_SETTING, str(exc))
    if isinstance(exc, tomllib.TOMLDecodeError):
        return Failure(ExitCode.CONFIG_SYNTAX, f"the config file {_config_name()} is not valid TOML: {exc}")
    if isinstance(exc, MissingConfigFile):
        return Failure(ExitCode.CONFIG_MISSING, str(exc))
    if isinstance(exc, UnknownPlugin):
        return Failure(ExitCode.UNKNOWN_PLUGIN, str(exc))
    if isinstance(exc, InvalidWindow):
        return Failure(ExitCode.INVALID_WINDOW, in_cli_words(exc))
    if isinstance(exc, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)):
        return Failure(ExitCode.REDIS_UNREACHABLE,
                       f"cannot reach Redis at {_redis_url()}: {_first_line(exc)} "
                       "(is it running? REDIS_URL names it; unset it for the embedded queue)")
    if _is_unreachable_database(exc):
        return Failure(ExitCode.DATABASE_UNREACHABLE,
                       f"cannot reach the database at {_database_url()}: {_first_line(_root(exc))} "
                       "(is it running? SYNC_GATEWAY_DATABASE_URL names it)")
    if isinstance(exc, ValueError) and "exists an active worker named" in str(exc):
        # RQ's own refusal: a worker of that name is registered (alive, or killed and not yet expired)
        return Failure(ExitCode.ERROR, f"{exc} (give this worker another --name, or wait for the old "
                                       "registration to expire: about 7 minutes after its last heartbeat)")
    if isinstance(exc, GatewayError):
        return Failure(ExitCode.ERROR, in_cli_words(exc))
    return Failure(ExitCode.INTERNAL, f"internal error ({exc.__class__.__name__}); run again with --debug "
                                      "for the traceback, and please report it")


CLI_WORDS: dict[str, str] = {
    # the GraphQL argument or core field -> what the CLI calls it
    "everySeconds": "--every", "every_seconds": "--every",
    "cron": "--cron", "timezone": "--timezone",
    "windowFrom": "--from", "windowThru": "--thru", "since": "--since", "until": "--until",
    "accessToken": "--token", "token": "--token",
    "accessTokenEnv": "--token-env", "tokenEnv": "--token-env", "token_env": "--token-env",
    "url": "--url", "apiVersion": "--api-version", "api_version": "--api-version",
    "name": "NAME", "jobId": "JOB_ID", "role": "--role", "status": "--status",
}
"""Core's messages name the GraphQL API's inputs, which the page and API clients see; the CLI's
failure line says the option an admin typed instead."""

CLI_PHRASES: dict[str, str] = {
    "the `jobs` query": "`sync-gateway jobs list`",
    "the `shops` query": "`sync-gateway shops list`",
    "one of cron or everySeconds": "one of --cron or --every",
}


def in_cli_words(exc: BaseException) -> str:
    """``exc``'s message and suggestion with GraphQL's names replaced by the CLI's.

    A name that is no English word (``everySeconds``, ``api_version``) is replaced wherever it
    stands. One that is (``cron``, ``url``, ``name``) only when it is the error's own field and
    opens the message as its subject ("url cannot be empty"), so "invalid cron expression" stays."""
    import re

    from core.errors import ValidationError

    line = str(exc)
    for phrase, words in CLI_PHRASES.items():
        line = line.replace(phrase, words)
    for name, option in CLI_WORDS.items():
        if name != name.lower() or "_" in name:
            line = re.sub(rf"(?<![\w`'\"-]){re.escape(name)}(?![\w`'\"])", option, line)
    field = exc.field if isinstance(exc, ValidationError) else None
    if field in CLI_WORDS and field == field.lower() and line.startswith(f"{field} "):
        line = CLI_WORDS[field] + line[len(field):]
    return line


def _setting_line(exc: object) -> str:
    import pydantic

    assert isinstance(exc, pydantic.ValidationError)
    parts = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error.get("loc", ())) or "?"
        given = error.get("input")
        shown = f" (got {given!r})" if isinstance(given, (str, int, float)) and len(str(given)) <= 80 else ""
        parts.append(f"SYNC_GATEWAY_{field.upper()}: {error.get('msg', 'invalid')}{shown}")
    return "invalid setting " + "; ".join(parts)


def _is_unreachable_database(exc: BaseException) -> bool:
    """The driver could not connect (or lost the connection), anywhere in the chain of causes."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (OperationalError, InterfaceError)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _root(exc: BaseException) -> BaseException:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return exc


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


def _config_name() -> str:
    import os

    return os.environ.get("SYNC_GATEWAY_CONFIG") or "sync-gateway.toml"


def _database_url() -> str:
    import os

    from core.settings import _redact_url

    url = os.environ.get("SYNC_GATEWAY_DATABASE_URL") or "(the configured database)"
    return _redact_url(url) or url


def _redis_url() -> str:
    import os

    from core.settings import _redact_url

    url = os.environ.get("SYNC_GATEWAY_REDIS_URL") or os.environ.get("REDIS_URL") or "(the configured Redis)"
    return _redact_url(url) or url

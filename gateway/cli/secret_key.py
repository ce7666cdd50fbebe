"""``sync-gateway secret-key``: the key that encrypts stored shop access tokens."""

from __future__ import annotations

import typer

from . import context
from .context import console, err

app = typer.Typer(no_args_is_help=True, help="The key that encrypts stored shop access tokens.")


@app.command("generate")
def generate() -> None:
    """Print a new random key for SYNC_GATEWAY_SECRET_KEY (touches no database)."""
    from core.token_cipher import generate_key

    err.print("a new key for SYNC_GATEWAY_SECRET_KEY (keep it safe: stored tokens cannot be read without it; "
              "to rotate, list it first, the old key after it, and run `sync-gateway secret-key rotate`):",
              highlight=False)
    print(generate_key())


@app.command("rotate")
def rotate() -> None:
    """Encrypt every stored shop token again with the first key of SYNC_GATEWAY_SECRET_KEY."""
    from core.errors import ConfigurationError
    from core.token_cipher import TokenCipher

    runtime = context.runtime()
    try:
        if not TokenCipher.from_settings(runtime.settings).has_key:
            raise ConfigurationError("SYNC_GATEWAY_SECRET_KEY is not set", suggestion="list the new key first "
                                     "and the old ones after it, comma-separated, then rotate")
        with runtime.storage.transaction() as tx:
            count = tx.rotate_shop_tokens()
    finally:
        runtime.close()
    console.print(f"re-encrypted {count} stored access token{'' if count == 1 else 's'} with the first key; "
                  "the keys after it can now be removed from SYNC_GATEWAY_SECRET_KEY", highlight=False)

"""The token cipher: shop access tokens encrypted with Fernet, keys rotated with MultiFernet."""

from __future__ import annotations

import base64

import pytest

from core import ConfigurationError, Settings, TokenCipher, ValidationError
from core.token_cipher import PREFIX, generate_key

TOKEN = "shpat_0123456789abcdef0123456789abcdef"
OLD, NEW = generate_key(), generate_key()


def test_a_token_comes_back_from_its_ciphertext_which_reveals_nothing() -> None:
    cipher = TokenCipher([NEW])
    stored = cipher.encrypt(TOKEN)

    assert cipher.decrypt(stored) == TOKEN
    assert stored.startswith(PREFIX)
    assert TOKEN not in stored
    assert base64.urlsafe_b64encode(TOKEN.encode()).decode().rstrip("=") not in stored
    assert TOKEN.encode() not in base64.urlsafe_b64decode(stored[len(PREFIX):])
    assert cipher.encrypt(TOKEN) != stored  # a fresh IV each time: equal tokens do not look equal


def test_the_first_key_encrypts_and_every_key_decrypts() -> None:
    stored_with_old = TokenCipher([OLD]).encrypt(TOKEN)
    both = TokenCipher([NEW, OLD])

    assert both.decrypt(stored_with_old) == TOKEN
    assert TokenCipher([NEW]).decrypt(both.encrypt(TOKEN)) == TOKEN
    with pytest.raises(ConfigurationError):
        TokenCipher([OLD]).decrypt(both.encrypt(TOKEN))


def test_rotating_re_encrypts_with_the_first_key_so_the_old_one_can_go() -> None:
    stored_with_old = TokenCipher([OLD]).encrypt(TOKEN)
    rotated = TokenCipher([NEW, OLD]).rotate(stored_with_old)

    assert rotated.startswith(PREFIX) and rotated != stored_with_old
    assert TokenCipher([NEW]).decrypt(rotated) == TOKEN


def test_a_wrong_key_is_a_clear_error_naming_no_secret() -> None:
    stored = TokenCipher([OLD]).encrypt(TOKEN)
    with pytest.raises(ConfigurationError) as caught:
        TokenCipher([NEW]).decrypt(stored)

    message = str(caught.value)
    assert "cannot be decrypted" in message and "SYNC_GATEWAY_SECRET_KEY" in message
    for secret in (TOKEN, OLD, NEW, stored):
        assert secret not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__  # no InvalidToken chained


def test_an_altered_ciphertext_is_refused() -> None:
    cipher = TokenCipher([NEW])
    stored = cipher.encrypt(TOKEN)
    flipped = stored[:-6] + ("A" if stored[-6] != "A" else "B") + stored[-5:]
    with pytest.raises(ConfigurationError, match="cannot be decrypted"):
        cipher.decrypt(flipped)


def test_without_a_key_storing_a_token_is_refused_and_reading_one_fails() -> None:
    stored = TokenCipher([NEW]).encrypt(TOKEN)
    keyless = TokenCipher()

    assert not keyless.has_key
    with pytest.raises(ValidationError) as caught:
        keyless.encrypt(TOKEN)
    assert caught.value.field == "token"
    assert "SYNC_GATEWAY_SECRET_KEY is not set" in str(caught.value)
    assert "--token-env" in str(caught.value)  # the way that needs no key
    with pytest.raises(ConfigurationError, match="SYNC_GATEWAY_SECRET_KEY is not set"):
        keyless.decrypt(stored)


@pytest.mark.parametrize("bad", ["not-a-key", "x" * 44, "ünïcode-" * 6])
def test_a_malformed_key_is_a_configuration_error_that_does_not_quote_it(bad: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        TokenCipher([NEW, bad])
    assert "key 2 of 2" in str(caught.value)
    assert bad not in str(caught.value) and NEW not in str(caught.value)


def test_the_keys_come_from_the_environment_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    stored_with_old = TokenCipher([OLD]).encrypt(TOKEN)
    monkeypatch.setenv("SYNC_GATEWAY_SECRET_KEY", f" {NEW} , {OLD},")
    settings = Settings()
    cipher = TokenCipher.from_settings(settings)

    assert cipher.key_count == 2
    assert cipher.decrypt(stored_with_old) == TOKEN
    assert TokenCipher([NEW]).decrypt(cipher.encrypt(TOKEN)) == TOKEN
    # the setting is a SecretStr: neither repr nor the public settings show it
    for shown in (repr(settings), repr(cipher), str(settings.public_dict())):
        assert NEW not in shown and OLD not in shown


def test_an_unset_key_means_a_cipher_without_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SYNC_GATEWAY_SECRET_KEY")
    assert not TokenCipher.from_settings(Settings()).has_key

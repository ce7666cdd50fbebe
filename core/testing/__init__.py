"""What plugin authors test with. ``core.testing.storage`` is the storage contract suite.

Nothing in the gateway imports this package; it needs pytest, which only tests install.
"""

TEST_SECRET_KEY = "dGVzdHMtb25seS1rZXktbm90LWEtc2VjcmV0LTAwMDA="
"""The Fernet key the suite's ``storage`` is opened with (32 bytes, url-safe base64; in the
package root so that a conftest can import it before pytest loads the plugin)."""

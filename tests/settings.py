"""Settings for the test suite: production settings with a throwaway key and no HTTPS redirect."""

import os

os.environ.setdefault("PROVENANT_SECRET_KEY", "test-only-key-not-secret-" + "x" * 40)
os.environ.setdefault("PROVENANT_SSL_REDIRECT", "0")
os.environ.setdefault("PROVENANT_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

from sidecar.settings import *  # noqa: E402,F401,F403

MAGENTO_RETRY_BACKOFF = 0.01
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DISCLOSURE_LOCAL_SECONDS = 0  # tests write the registry directly; no per-process memo between requests
AUDITS_DASHBOARD_CACHE_SECONDS = 0  # tests change the registry between dashboard reads

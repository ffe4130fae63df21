"""Provenant settings, read from the environment (see the configuration table in README.md).

Defaults give the embedded mode: SQLite, eager Celery tasks, local-memory cache, debug off unless
``PROVENANT_DEBUG`` is set. Production sets ``PROVENANT_SECRET_KEY`` (or ``_FILE``),
``PROVENANT_ALLOWED_HOSTS``, ``DATABASE_URL``, ``REDIS_URL`` and ``MAGENTO_DATABASE_URL``.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pymysql
from django.core.exceptions import ImproperlyConfigured

from magento_bridge.connection import DatabaseUrlError, parse_database_url
from magento_bridge.storefront_images import graphql_url_for
from provenance.standards.notes import InvalidKeyError, signer_from_key_string
from provenance.standards.witness import parse_witness_list
from sidecar.client_ip import trusted_proxies_parse
from sidecar.env import (
    env_bool,
    env_choice,
    env_date,
    env_float,
    env_int,
    env_list,
    env_str,
    env_url,
)
from sidecar.s3 import bucket_settings

# Provenant's own MariaDB/MySQL database: through mysqlclient (the C driver Django recommends;
# `pip install provenant[mysql]`) when it is installed, otherwise through PyMySQL (pure Python),
# which Django's mysql backend then imports as MySQLdb. The store's database is always read with
# PyMySQL (magento_bridge.connection). PROVENANT_MYSQL_DRIVER=pymysql forces the fallback.
_driver_choice = env_choice("PROVENANT_MYSQL_DRIVER", "auto", ("auto", "mysqlclient", "pymysql"))
_native_driver = False
if _driver_choice != "pymysql":
    if "MySQLdb" in sys.modules:
        _native_driver = not getattr(sys.modules["MySQLdb"], "_provenant_pymysql", False)
    else:
        try:
            importlib.import_module("MySQLdb")
            _native_driver = True
        except ImportError:
            if _driver_choice == "mysqlclient":
                raise ImproperlyConfigured(
                    "PROVENANT_MYSQL_DRIVER=mysqlclient but mysqlclient is not installed "
                    "(pip install 'provenant[mysql]'; it builds against libmariadb-dev)"
                ) from None
MYSQL_DRIVER = "mysqlclient" if _native_driver else "pymysql"
if not _native_driver:
    pymysql.install_as_MySQLdb()
    sys.modules["MySQLdb"]._provenant_pymysql = True
    # The backend also imports MySQLdb.constants / .converters / .err: register PyMySQL's own
    # modules under those names, or they are imported a second time and replace ``pymysql.err``'s
    # exception classes, so ``except pymysql.err.OperationalError`` stops matching what it raises.
    for _name in (
        "constants",
        "constants.CLIENT",
        "constants.FIELD_TYPE",
        "constants.ER",
        "err",
        "converters",
    ):  # noqa: E501
        sys.modules.setdefault(f"MySQLdb.{_name}", importlib.import_module(f"pymysql.{_name}"))
    del _name

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PROVENANT_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("PROVENANT_DEBUG", False)
SECRET_KEY = env_str("PROVENANT_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "PROVENANT_SECRET_KEY (or PROVENANT_SECRET_KEY_FILE) must be set unless PROVENANT_DEBUG=1"
        )
    SECRET_KEY = "insecure-development-key-only-used-with-PROVENANT_DEBUG"  # noqa: S105
ALLOWED_HOSTS = env_list("PROVENANT_ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("PROVENANT_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_celery_beat",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "provenance",
    "magento_bridge",
    "disclosure",
    "audits",
    "datasets",
    "lineage",
    "consent",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "sidecar.rate_limit.PublicRateLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "audits.middleware.SessionActivityMiddleware",
    "audits.middleware.LoginThrottleMiddleware",
    "audits.middleware.TotpMiddleware",
    "audits.middleware.AdminAuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "sidecar.error_pages.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "sidecar.urls"
WSGI_APPLICATION = "sidecar.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database(env_name: str, default_url: str) -> dict:
    url = env_str(env_name, default_url)
    try:
        return parse_database_url(url).django_settings()
    except DatabaseUrlError as exc:
        raise ImproperlyConfigured(f"{env_name}: {exc}") from None


DATABASES = {"default": _database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'provenant.sqlite3'}")}
# Persistent connections by default: opening a MariaDB connection per request costs more than the
# request itself. Health checks drop a connection the server closed before it is reused.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 600, minimum=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env_bool("DATABASE_CONN_HEALTH_CHECKS", True)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }

# The Magento database: read through its own read-only connections (magento_bridge.connection);
# the alias exists so the router can refuse ORM writes and migrations to it.
MAGENTO_DATABASE_URL = env_str("MAGENTO_DATABASE_URL")
if MAGENTO_DATABASE_URL:
    DATABASES["magento"] = _database("MAGENTO_DATABASE_URL", MAGENTO_DATABASE_URL)
DATABASE_ROUTERS = ["sidecar.routers.MagentoReadOnlyRouter"]

MAGENTO_SOURCE = env_choice("MAGENTO_SOURCE", "mysql", ("mysql", "rest"))
# The REST source (MAGENTO_SOURCE=rest): the store's base URL (REST lives under <base>/rest/), an
# integration's OAuth 1.0a credentials, or its access token used as a Bearer token where the store
# allows it (oauth/consumer/enable_integration_as_bearer).
MAGENTO_REST_BASE_URL = env_url("MAGENTO_REST_BASE_URL")
MAGENTO_REST_AUTH = env_choice("MAGENTO_REST_AUTH", "oauth", ("oauth", "bearer"))
MAGENTO_REST_CONSUMER_KEY = env_str("MAGENTO_REST_CONSUMER_KEY")
MAGENTO_REST_CONSUMER_SECRET = env_str("MAGENTO_REST_CONSUMER_SECRET")
MAGENTO_REST_ACCESS_TOKEN = env_str("MAGENTO_REST_ACCESS_TOKEN")
MAGENTO_REST_ACCESS_TOKEN_SECRET = env_str("MAGENTO_REST_ACCESS_TOKEN_SECRET")
MAGENTO_REST_PAGE_SIZE = env_int("MAGENTO_REST_PAGE_SIZE", 300, minimum=1, maximum=300)
MAGENTO_REST_RATE = env_float("MAGENTO_REST_RATE", 10.0, minimum=0.0)  # requests/s; 0: unlimited
MAGENTO_REST_CONCURRENCY = env_int("MAGENTO_REST_CONCURRENCY", 2, minimum=1, maximum=16)
MAGENTO_REST_TIMEOUT = env_float("MAGENTO_REST_TIMEOUT", 30.0, minimum=0.1)
MAGENTO_REST_MAX_RETRY_AFTER = env_float("MAGENTO_REST_MAX_RETRY_AFTER", 120.0, minimum=0.0)
if MAGENTO_SOURCE == "rest" and not MAGENTO_REST_BASE_URL:
    raise ImproperlyConfigured("MAGENTO_SOURCE=rest needs MAGENTO_REST_BASE_URL (the store's base URL)")
MAGENTO_TABLE_PREFIX = env_str("MAGENTO_TABLE_PREFIX")
MAGENTO_MEDIA_ROOT = env_str("MAGENTO_MEDIA_ROOT")
MAGENTO_MEDIA_BASE_URL = env_url("MAGENTO_MEDIA_BASE_URL")
# Inspect the catalog/product/cache derivatives of synthetic and suspected images after each sync
# (acts only with MAGENTO_MEDIA_ROOT: from outside the store the cache paths cannot be derived).
MAGENTO_DERIVATIVES = env_choice("MAGENTO_DERIVATIVES", "on", ("on", "off"))
# The storefront's GraphQL endpoint answers the served role-image URLs where pub/media is not local.
MAGENTO_GRAPHQL_URL = env_url("MAGENTO_GRAPHQL_URL") or graphql_url_for(MAGENTO_REST_BASE_URL)
MAGENTO_STORES = env_list("MAGENTO_STORES")  # empty: every active store view
MAGENTO_BATCH_SIZE = env_int("MAGENTO_BATCH_SIZE", 1000, minimum=10, maximum=50_000)
# Products per registry transaction: each holds the log's writer lock while it commits (about 9
# items per product), so ingest during a sync waits a fraction of a second, not the whole read batch.
MAGENTO_WRITE_BATCH_SIZE = env_int("MAGENTO_WRITE_BATCH_SIZE", 200, minimum=1, maximum=50_000)
MAGENTO_RETRIES = env_int("MAGENTO_RETRIES", 4, minimum=0, maximum=20)
MAGENTO_RETRY_BACKOFF = env_float("MAGENTO_RETRY_BACKOFF", 2.0, minimum=0.0)
MAGENTO_CONNECT_TIMEOUT = env_float("MAGENTO_CONNECT_TIMEOUT", 10.0, minimum=0.1)
MEDIA_MAX_BYTES = env_int("PROVENANT_MEDIA_MAX_BYTES", 50 * 1024 * 1024, minimum=1024)
MEDIA_MAX_PIXELS = env_int("PROVENANT_MEDIA_MAX_PIXELS", 80_000_000, minimum=1024)
MEDIA_HTTP_TIMEOUT = env_float("PROVENANT_MEDIA_HTTP_TIMEOUT", 15.0, minimum=0.1)
MEDIA_WORKERS = env_int("PROVENANT_MEDIA_WORKERS", 4, minimum=1, maximum=32)
# Synthetic datasets (issue 15): files kept through Django's storage API under this directory;
# uploads and registered files larger than the limit are refused before anything is stored.
DATASET_STORAGE_DIR = Path(env_str("PROVENANT_DATASET_STORAGE_DIR", str(VAR_DIR / "datasets")))
# Or an S3-compatible bucket (AWS S3, MinIO, Ceph RGW...) through django-storages (the `s3` extra):
# PROVENANT_DATASET_S3_BUCKET, _PREFIX, _ENDPOINT_URL, _REGION, _ACCESS_KEY_ID / _SECRET_ACCESS_KEY.
DATASET_STORAGE = env_choice("PROVENANT_DATASET_STORAGE", "filesystem", ("filesystem", "s3"))
DATASET_S3 = bucket_settings("PROVENANT_DATASET_S3", default_prefix="datasets")
if DATASET_STORAGE == "s3" and not DATASET_S3.bucket:
    raise ImproperlyConfigured("PROVENANT_DATASET_STORAGE=s3 needs PROVENANT_DATASET_S3_BUCKET")
DATASET_MAX_BYTES = env_int("PROVENANT_DATASET_MAX_BYTES", 512 * 1024 * 1024, minimum=1024)
# SDMetrics' DCRBaselineProtection and DisclosureProtectionEstimate compare every sampled synthetic row
# with every sampled reference row (cost grows with the square of the sample): rows per sample and
# samples averaged.
DATASET_DCR_ROWS = env_int("PROVENANT_DATASET_DCR_ROWS", 1000, minimum=100, maximum=100_000)
DATASET_DCR_ITERATIONS = env_int("PROVENANT_DATASET_DCR_ITERATIONS", 3, minimum=1, maximum=50)
# A store's own integrity rules, merged over datasets/rules/integrity.json (empty: the shipped rules).
DATASET_RULES_FILE = env_str("PROVENANT_DATASET_RULES_FILE", "")
SYNC_INCREMENTAL_MINUTES = env_int("PROVENANT_SYNC_INCREMENTAL_MINUTES", 15, minimum=1)
SYNC_FULL_CRON_HOUR = env_int("PROVENANT_SYNC_FULL_HOUR", 2, minimum=0, maximum=23)
SYNC_LOCK_SECONDS = env_int("PROVENANT_SYNC_LOCK_SECONDS", 6 * 3600, minimum=60)

# Transparency log: checkpoints are signed with an Ed25519 key in Go's note format
# (PRIVATE+KEY+<name>+<key ID>+<base64>), made by `manage.py provenance_keygen`.
LOG_ORIGIN = env_str("PROVENANT_LOG_ORIGIN", "provenant.localhost/log")
if not LOG_ORIGIN or any(ch < " " for ch in LOG_ORIGIN):
    raise ImproperlyConfigured("PROVENANT_LOG_ORIGIN must be one non-empty line, e.g. example.org/log")
LOG_SIGNING_KEY = env_str("PROVENANT_LOG_KEY").strip()
if LOG_SIGNING_KEY:
    try:
        signer_from_key_string(LOG_SIGNING_KEY)
    except InvalidKeyError as exc:
        raise ImproperlyConfigured(f"PROVENANT_LOG_KEY (or PROVENANT_LOG_KEY_FILE): {exc}") from None
LOG_LOCK_WAIT_SECONDS = env_int("PROVENANT_LOG_LOCK_WAIT_SECONDS", 10, minimum=1, maximum=3600)
LOG_CHECKPOINT_MINUTES = env_int("PROVENANT_LOG_CHECKPOINT_MINUTES", 5, minimum=1)
# Published log (C2SP tlog-tiles): after each checkpoint, tiles, entry bundles and the checkpoint
# (with the witnesses' cosignatures) are written under this directory, for a web server or CDN.
LOG_PUBLISH_DIR = env_str("PROVENANT_LOG_PUBLISH_DIR").strip()
# Or into an S3-compatible bucket (PROVENANT_LOG_PUBLISH_S3_BUCKET, _PREFIX, ...), for a CDN in front.
LOG_PUBLISH_S3 = bucket_settings("PROVENANT_LOG_PUBLISH_S3")
if LOG_PUBLISH_DIR and LOG_PUBLISH_S3.bucket:
    raise ImproperlyConfigured("Set PROVENANT_LOG_PUBLISH_DIR or PROVENANT_LOG_PUBLISH_S3_BUCKET, not both")
# Witnesses (C2SP tlog-witness) that cosign each checkpoint: a JSON list of {"name", "url", "vkey"}
# (or PROVENANT_LOG_WITNESSES_FILE), and how many of them must cosign before a checkpoint is published.
try:
    LOG_WITNESSES = parse_witness_list(env_str("PROVENANT_LOG_WITNESSES"))
except ValueError as exc:
    raise ImproperlyConfigured(f"PROVENANT_LOG_WITNESSES (or PROVENANT_LOG_WITNESSES_FILE): {exc}") from None
LOG_WITNESS_QUORUM = env_int(
    "PROVENANT_LOG_WITNESS_QUORUM", len(LOG_WITNESSES), minimum=0, maximum=len(LOG_WITNESSES)
)
LOG_WITNESS_TIMEOUT = env_float("PROVENANT_LOG_WITNESS_TIMEOUT", 10.0, minimum=0.1)
LOG_WITNESS_ATTEMPTS = env_int("PROVENANT_LOG_WITNESS_ATTEMPTS", 3, minimum=1, maximum=10)
# The dashboard raises a "Needs attention" line for a witness that has not cosigned the latest
# checkpoint this many minutes after it was signed.
LOG_WITNESS_ALERT_MINUTES = env_int("PROVENANT_LOG_WITNESS_ALERT_MINUTES", 60, minimum=1, maximum=7 * 24 * 60)
TSA_URL = env_url("PROVENANT_TSA_URL")
TSA_TIMEOUT = env_float("PROVENANT_TSA_TIMEOUT", 10.0, minimum=0.1)
TSA_CA_CERTS = env_str("PROVENANT_TSA_CA_CERTS")  # PEM file: when set, timestamps are verified

# C2PA Content Credentials: the certificate chain (PEM, leaf first) and key that sign generated
# images, an optional RFC 3161 timestamp authority, and the CA certificates whose signers count as
# trusted when catalog images are examined. `manage.py provenance_keygen --c2pa` makes a
# development pair; production needs a certificate from a CA on the C2PA trust list.
C2PA_CERT = env_str("PROVENANT_C2PA_CERT")
C2PA_KEY = env_str("PROVENANT_C2PA_KEY")
if bool(C2PA_CERT.strip()) != bool(C2PA_KEY.strip()):
    raise ImproperlyConfigured(
        "PROVENANT_C2PA_CERT(_FILE) and PROVENANT_C2PA_KEY(_FILE) must be set together, or neither"
    )
C2PA_TSA_URL = env_url("PROVENANT_C2PA_TSA_URL")
C2PA_TRUST_ANCHORS = env_str("PROVENANT_C2PA_TRUST_ANCHORS")
IMAGE_MARK_MAX_BYTES = env_int("PROVENANT_IMAGE_MARK_MAX_BYTES", 25 * 1024 * 1024, minimum=1024)
IMAGE_MARK_MAX_PIXELS = env_int("PROVENANT_IMAGE_MARK_MAX_PIXELS", 40_000_000, minimum=1024)
# Pixel layers of marked images: the fingerprint distance (of 256 bits) up to which a derivative
# matches a marked original (the index finds every code within 31), and the smallest short side
# in which inspection looks for a watermark.
FINGERPRINT_MAX_DISTANCE = env_int("PROVENANT_FINGERPRINT_MAX_DISTANCE", 31, minimum=0, maximum=31)
WATERMARK_MIN_READ_SIDE = env_int("PROVENANT_WATERMARK_MIN_READ_SIDE", 64, minimum=32)

# Storefront disclosure: how long badge answers may be cached (an audit switch reaches shoppers
# within this), where published manifests go (empty: not published) and how long paused ingest waits.
DISCLOSURE_CACHE_SECONDS = env_int("PROVENANT_DISCLOSURE_CACHE_SECONDS", 60, minimum=0, maximum=3600)
DISCLOSURE_LOCAL_SECONDS = env_float("PROVENANT_DISCLOSURE_LOCAL_SECONDS", 1.0, minimum=0.0)
DISCLOSURE_PUBLISH_DIR = env_str("PROVENANT_DISCLOSURE_PUBLISH_DIR")
DISCLOSURE_PUBLISH_KEEP = env_int("PROVENANT_DISCLOSURE_PUBLISH_KEEP", 3, minimum=1, maximum=100)
DEMO_STOREFRONT = env_bool("PROVENANT_DEMO_STOREFRONT", DEBUG)
DISCLOSURE_RETRY_AFTER_SECONDS = env_int("PROVENANT_DISCLOSURE_RETRY_AFTER", 300, minimum=1, maximum=86_400)

# EU AI Act application dates (audits.ai_act.MILESTONES, as amended by the Digital Omnibus): unset
# keeps the built-in date; set one (YYYY-MM-DD) when the Official Journal says otherwise.
AI_ACT_DATES = {
    "art50": env_date("PROVENANT_AI_ACT_ART50_FROM"),
    "art50_2_existing": env_date("PROVENANT_AI_ACT_ART50_2_EXISTING_FROM"),
    "annex_iii": env_date("PROVENANT_AI_ACT_ANNEX_III_FROM"),
    "annex_i": env_date("PROVENANT_AI_ACT_ANNEX_I_FROM"),
}

# Disclosure-coverage simulation: headless Chromium opens the storefront pages of synthetic items
# (quarterly by default) and checks every badge; screenshots go under SIMULATION_DIR.
SIMULATION_CHROMIUM = env_str("PROVENANT_SIMULATION_CHROMIUM", "/usr/bin/chromium")
SIMULATION_DIR = Path(env_str("PROVENANT_SIMULATION_DIR", str(VAR_DIR / "simulation")))
SIMULATION_LIMIT = env_int("PROVENANT_SIMULATION_LIMIT", 500, minimum=1, maximum=100_000)
SIMULATION_PAGE_TIMEOUT = env_float("PROVENANT_SIMULATION_PAGE_TIMEOUT", 20.0, minimum=1.0)
SIMULATION_BADGE_WAIT = env_float("PROVENANT_SIMULATION_BADGE_WAIT", 5.0, minimum=0.0)
SIMULATION_PASS_SCREENSHOTS = env_int("PROVENANT_SIMULATION_PASS_SCREENSHOTS", 3, minimum=0, maximum=1000)
SIMULATION_ALLOWED_ORIGINS = env_list("PROVENANT_SIMULATION_ALLOWED_ORIGINS")
SIMULATION_MONTHS = env_str("PROVENANT_SIMULATION_MONTHS", "1,4,7,10")
SIMULATION_HOUR = env_int("PROVENANT_SIMULATION_HOUR", 3, minimum=0, maximum=23)
# Product page path instead of url_rewrite's, {sku} and {entity_id} replaced (e.g. "{sku}" for the
# demo storefront at /demo/storefront/<store>/<sku>).
SIMULATION_PRODUCT_PATH = env_str("PROVENANT_SIMULATION_PRODUCT_PATH")
# PROVENANT_STOREFRONT_BASE_URL_<STORE CODE>: a store view's storefront base URL, over Magento's.
STOREFRONT_BASE_URLS = {
    name.removeprefix("PROVENANT_STOREFRONT_BASE_URL_").lower(): env_url(name)
    for name in sorted(os.environ)
    if name.startswith("PROVENANT_STOREFRONT_BASE_URL_") and not name.endswith("_FILE")
}
# Separation checks: the read-only scan of Magento's customer and sales tables for test records.
SEPARATION_BATCH_SIZE = env_int("PROVENANT_SEPARATION_BATCH_SIZE", 1000, minimum=10, maximum=50_000)
SEPARATION_MAX_FINDINGS = env_int("PROVENANT_SEPARATION_MAX_FINDINGS", 10_000, minimum=1)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("PROVENANT_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("PROVENANT_STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache and Celery: Redis when configured, embedded otherwise.
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss", "unix"))
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env_url("CELERY_BROKER_URL", schemes=("redis", "rediss", "amqp", "memory"))
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", CELERY_BROKER_URL if CELERY_BROKER_URL else "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    # Eager tasks still take a producer from the pool: give it the in-process transport rather than
    # an unset broker that kombu replaces with amqp://localhost (and warns about) on every task.
    CELERY_BROKER_URL = "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
# With acks_late alone, a task whose worker process is killed (OOM, SIGKILL) is acknowledged as failed
# and never run again; this puts its message back on the queue. Every task is idempotent.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 6 * 3600, minimum=60)
# Redis gives an unacknowledged message to another worker after this many seconds: that is how the
# task of a worker killed as a whole (main process too: a host lost, `docker kill`) runs again. Below
# the task time limit, a task still running on a live worker would be delivered a second time, so the
# default is the time limit plus five minutes; deployments whose tasks are short lower both.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int(
        "PROVENANT_CELERY_VISIBILITY_TIMEOUT", CELERY_TASK_TIME_LIMIT + 300, minimum=10
    ),
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The scheduled sync fans out into tasks per store view, surface and batch of media files, which any
# number of workers share (see magento_bridge.fanout); on by default when a broker is configured.
MAGENTO_SYNC_FAN_OUT = env_bool("MAGENTO_SYNC_FAN_OUT", not CELERY_TASK_ALWAYS_EAGER)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "provenance.auth.ApiTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "provenance.errors.api_exception_handler",
}
# Largest request body the ingest API reads; larger bodies are refused with 413 before parsing.
# New API tokens expire after this many days (0: never); `provenance_token --expires-days` overrides.
API_TOKEN_DAYS = env_int("PROVENANT_API_TOKEN_DAYS", 365, minimum=0)
API_MAX_BODY_BYTES = env_int("PROVENANT_API_MAX_BODY_BYTES", 64 * 1024, minimum=1024)
# POST /api/v1/provenance/records/batch: records per request and the body's size (1,000 records of
# about 700 bytes each fit the default).
API_BATCH_MAX_RECORDS = env_int("PROVENANT_API_BATCH_MAX_RECORDS", 1000, minimum=1, maximum=10000)
API_BATCH_MAX_BODY_BYTES = env_int("PROVENANT_API_BATCH_MAX_BODY_BYTES", 4 * 1024 * 1024, minimum=1024)
# OpenLineage ingest (issue 16): the largest event body read (larger: 413 before parsing), and the
# most nodes one lineage graph answer holds (the answer says when it was cut).
LINEAGE_MAX_BODY_BYTES = env_int("PROVENANT_LINEAGE_MAX_BODY_BYTES", 1024 * 1024, minimum=1024)
# POST /api/v1/lineage/batch: events per request and the body's size.
LINEAGE_BATCH_MAX_EVENTS = env_int("PROVENANT_LINEAGE_BATCH_MAX_EVENTS", 1000, minimum=1, maximum=10_000)
LINEAGE_BATCH_MAX_BODY_BYTES = env_int(
    "PROVENANT_LINEAGE_BATCH_MAX_BODY_BYTES", 8 * 1024 * 1024, minimum=1024
)
LINEAGE_MAX_NODES = env_int("PROVENANT_LINEAGE_MAX_NODES", 50_000, minimum=10, maximum=1_000_000)
# Consent for personalisation (issue 16): the store secret that keys the HMAC-SHA256 of subject ids
# (unset: the consent API answers 503 and stores nothing), how long a subject's current consent is
# cached (a withdrawal takes effect within this, writes drop the entry at once), and batch limits.
CONSENT_SUBJECT_KEY = env_str("PROVENANT_CONSENT_SUBJECT_KEY")
if CONSENT_SUBJECT_KEY and len(CONSENT_SUBJECT_KEY.encode("utf-8")) < 32:
    raise ImproperlyConfigured("PROVENANT_CONSENT_SUBJECT_KEY must be at least 32 bytes")
CONSENT_CACHE_SECONDS = env_int("PROVENANT_CONSENT_CACHE_SECONDS", 30, minimum=0, maximum=60)
CONSENT_BATCH_MAX_EVENTS = env_int("PROVENANT_CONSENT_BATCH_MAX_EVENTS", 1000, minimum=1, maximum=10_000)
CONSENT_BATCH_MAX_BODY_BYTES = env_int("PROVENANT_CONSENT_BATCH_MAX_BODY_BYTES", 1024 * 1024, minimum=1024)
SPECTACULAR_SETTINGS = {
    "TITLE": "Provenant API",
    "DESCRIPTION": "Provenance and disclosure of AI-generated content in Magento stores.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # One name for a batch item's outcome, shared by the lineage and consent batches.
    "ENUM_NAME_OVERRIDES": {"EventResultStatusEnum": ["created", "replayed", "invalid"]},
    # The public /log/* endpoints and /healthz are plain views: their paths are added by hand.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "provenance.log_schema.log_paths",
    ],
}

# Which reverse proxies' X-Forwarded-For hops are believed (a count or networks): sidecar/client_ip.py.
try:
    TRUSTED_PROXIES = trusted_proxies_parse(env_str("PROVENANT_TRUSTED_PROXIES"))
except ValueError as exc:
    raise ImproperlyConfigured(str(exc)) from None

# Rate limits of the public endpoints (sidecar/rate_limit.py): requests per client address and window,
# counted in the cache (set REDIS_URL with several web processes); 0 turns a bucket's limit off.
RATE_LIMIT_WINDOW_SECONDS = env_int("PROVENANT_RATE_LIMIT_WINDOW", 60, minimum=1, maximum=3600)
RATE_LIMIT_BADGES = env_int("PROVENANT_RATE_LIMIT_BADGES", 6000, minimum=0)
RATE_LIMIT_LOG = env_int("PROVENANT_RATE_LIMIT_LOG", 3000, minimum=0)
RATE_LIMIT_HEALTHZ = env_int("PROVENANT_RATE_LIMIT_HEALTHZ", 600, minimum=0)

# Security: HTTPS settings on unless debugging; a TLS-terminating proxy sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("PROVENANT_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("PROVENANT_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("PROVENANT_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content Security Policy (W3C CSP Level 3) on every answer, through django-csp: scripts only from
# this origin (no inline script, no eval) so a label that slipped past escaping cannot run; styles
# allow inline because the admin and dashboard set style attributes; nothing may frame the admin.
# PROVENANT_CSP_REPORT_URI sends violation reports to a collector of your choice.
_csp_report_uri = env_url("PROVENANT_CSP_REPORT_URI")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        **({"report-uri": [_csp_report_uri]} if _csp_report_uri else {}),
    }
}

# Compliance workspace (audits): sign-in protection, sessions, audit trail, classifications.
AUDITS_LOGIN_MAX_FAILURES = env_int("PROVENANT_LOGIN_MAX_FAILURES", 5, minimum=1)
AUDITS_LOGIN_LOCKOUT_SECONDS = env_int("PROVENANT_LOGIN_LOCKOUT_SECONDS", 900, minimum=1)
AUDITS_TOTP_REQUIRED = env_bool("PROVENANT_TOTP_REQUIRED", False)
# The staff second factor is django-otp's RFC 6238 TOTP device. Failed codes are counted by the
# sign-in throttle (audits.signin), not by django-otp's per-device delay; the accepted window stays
# one step either side of the server's clock; the admin never shows a device's key or QR code.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_TOTP_SYNC = False
OTP_TOTP_ISSUER = LOG_ORIGIN.split("/")[0] or "Provenant"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
AUDITS_ANCHOR_MINUTES = env_int("PROVENANT_AUDIT_ANCHOR_MINUTES", 15, minimum=1)
AUDITS_RECLASSIFY_DAYS = env_int("PROVENANT_RECLASSIFY_DAYS", 90, minimum=1)
# How long the dashboard's registry-wide figures (badge coverage, derivatives by layer) are cached.
AUDITS_DASHBOARD_CACHE_SECONDS = env_int("PROVENANT_DASHBOARD_CACHE_SECONDS", 60, minimum=0, maximum=3600)
AUDIT_PACKAGE_DIR = Path(env_str("PROVENANT_AUDIT_PACKAGE_DIR", str(VAR_DIR / "packages")))
AUDITS_SENSITIVE_MODELS = env_list(
    "PROVENANT_AUDIT_SENSITIVE_MODELS",
    ["auth.user", "provenance.apiclient", "provenance.apitoken", "audits.incident", "audits.auditevent"],
)
# Sessions end after this much idle time (activity renews them, audits.middleware) and when the
# browser closes.
SESSION_COOKIE_AGE = env_int("PROVENANT_SESSION_IDLE_SECONDS", 1800, minimum=120)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("PROVENANT_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

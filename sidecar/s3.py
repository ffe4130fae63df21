"""S3-compatible object storage (AWS S3, MinIO, Ceph RGW) through django-storages, for what may
live in a bucket instead of a directory: dataset files and the published log's tiles.

Each use reads its bucket from ``<PREFIX>_BUCKET``, ``_PREFIX``, ``_ENDPOINT_URL``, ``_REGION`` and
``_ACCESS_KEY_ID`` / ``_SECRET_ACCESS_KEY`` (or their ``_FILE``; without them boto3's own chain
applies: ``AWS_*`` variables, the instance or task role). Objects get no ACL (the bucket's policy
decides who reads them). django-storages and boto3 come with the ``s3`` extra.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

from sidecar.env import env_str, env_url

__all__ = ["BucketSettings", "bucket_settings", "bucket_storage"]


@dataclass(frozen=True)
class BucketSettings:
    bucket: str = ""
    prefix: str = ""
    endpoint_url: str = ""
    region: str = ""
    access_key_id: str = ""
    secret_access_key: str = ""


def bucket_settings(name: str, *, default_prefix: str = "") -> BucketSettings:
    """The bucket configured by the ``<name>_*`` variables (``bucket`` empty when none is)."""
    config = BucketSettings(
        bucket=env_str(f"{name}_BUCKET").strip(),
        prefix=env_str(f"{name}_PREFIX", default_prefix).strip("/ "),
        endpoint_url=env_url(f"{name}_ENDPOINT_URL", ""),
        region=env_str(f"{name}_REGION").strip(),
        access_key_id=env_str(f"{name}_ACCESS_KEY_ID").strip(),
        secret_access_key=env_str(f"{name}_SECRET_ACCESS_KEY").strip(),
    )
    if bool(config.access_key_id) != bool(config.secret_access_key):
        raise ImproperlyConfigured(f"{name}_ACCESS_KEY_ID and {name}_SECRET_ACCESS_KEY must be set together")
    return config


def bucket_storage(
    config: BucketSettings,
    *,
    setting: str,
    overwrite: bool,
    object_parameters: Callable[[str], dict] | None = None,
):
    """A django-storages ``S3Storage`` on ``config``'s bucket. ``overwrite=False`` gives a name that
    exists a new one (as on disk); ``object_parameters(name)`` adds per-object S3 parameters
    (``CacheControl``, ``ContentType``). ``setting`` names the configuration in errors."""
    try:
        storage_class = _storage_class()
    except ImportError:
        raise ImproperlyConfigured(
            f"{setting} needs django-storages and boto3: install Provenant with the s3 extra "
            "(pip install -e '.[s3]')"
        ) from None
    if not config.bucket:
        raise ImproperlyConfigured(f"{setting} needs a bucket")
    options: dict[str, object] = {
        "bucket_name": config.bucket,
        "location": config.prefix,
        "file_overwrite": overwrite,
        "default_acl": None,  # the bucket's own policy; never an ACL from here
        "querystring_auth": True,
    }
    if config.endpoint_url:
        options["endpoint_url"] = config.endpoint_url
    if config.region:
        options["region_name"] = config.region
    if config.access_key_id:
        options["access_key"] = config.access_key_id
        options["secret_key"] = config.secret_access_key
    storage = storage_class(**options)
    storage.extra_object_parameters = object_parameters
    return storage


@functools.cache
def _storage_class():
    """``S3Storage`` that adds per-object parameters (django-storages imported on first use)."""
    from storages.backends.s3 import S3Storage

    class Storage(S3Storage):
        extra_object_parameters: Callable[[str], dict] | None = None

        def get_object_parameters(self, name):
            parameters = super().get_object_parameters(name)
            if self.extra_object_parameters is not None:
                parameters.update(self.extra_object_parameters(name))
            return parameters

    return Storage

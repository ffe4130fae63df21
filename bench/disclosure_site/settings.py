"""Production settings plus one extra URL: a trivial JSON view, the framework floor of the benchmark."""

from sidecar.settings import *  # noqa: F401,F403

ROOT_URLCONF = "disclosure_site.urls"

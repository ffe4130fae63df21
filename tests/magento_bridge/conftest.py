"""Fixtures for the REST source: a loopback Magento REST server over a demo store."""

from __future__ import annotations

import pytest

from magento_bridge.rest_client import MagentoRestClient, OAuthCredentials
from tests.magento_bridge.rest_server import Integration, MagentoRestServer

INTEGRATION = Integration()
CREDENTIALS = OAuthCredentials(
    INTEGRATION.consumer_key, INTEGRATION.consumer_secret, INTEGRATION.token, INTEGRATION.token_secret
)


@pytest.fixture
def make_rest_server():
    """``make_rest_server(store, **options)``: a started server over the store's database."""
    servers: list[MagentoRestServer] = []

    def make(store, **options) -> MagentoRestServer:
        options.setdefault("integration", Integration())
        server = MagentoRestServer(store.db, prefix=store.prefix, **options)
        server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def use_rest(settings):
    """Point the settings' REST source at a server: ``use_rest(server, auth="oauth")``."""

    def wire(server: MagentoRestServer, *, auth: str = "oauth", **overrides) -> None:
        integration = server.integration
        settings.MAGENTO_SOURCE = "rest"
        settings.MAGENTO_REST_BASE_URL = server.base_url
        settings.MAGENTO_REST_AUTH = auth
        settings.MAGENTO_REST_CONSUMER_KEY = integration.consumer_key
        settings.MAGENTO_REST_CONSUMER_SECRET = integration.consumer_secret
        settings.MAGENTO_REST_ACCESS_TOKEN = integration.token
        settings.MAGENTO_REST_ACCESS_TOKEN_SECRET = integration.token_secret
        settings.MAGENTO_REST_RATE = 0.0
        settings.MAGENTO_REST_PAGE_SIZE = 300
        settings.MAGENTO_REST_CONCURRENCY = 2
        settings.MAGENTO_REST_TIMEOUT = 10.0
        for name, value in overrides.items():
            setattr(settings, name, value)

    return wire


def rest_client(server: MagentoRestServer, **options) -> MagentoRestClient:
    """A client for ``server`` with OAuth unless ``auth="bearer"`` is passed; no throttling."""
    options.setdefault("rate", 0)
    options.setdefault("backoff", 0.0)
    if options.get("auth") == "bearer":
        options.setdefault("bearer_token", server.integration.token)
    else:
        options.setdefault("oauth", CREDENTIALS)
    return MagentoRestClient(server.base_url, **options)

"""Where :class:`OAuthCredentials` used to be imported from.

The REST client's OAuth 1.0a (RFC 5849) signing is ``oauthlib``'s now, in
:mod:`magento_bridge.rest_client`; this name stays only while :mod:`magento_bridge.services` imports
the credentials from here.
"""

from magento_bridge.rest_client import OAuthCredentials

__all__ = ["OAuthCredentials"]

"""A local stand-in for a Magento storefront for the coverage simulation: pages registered by path,
the module's static files as Magento deploys them, product images, and canned badge API answers."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from tests.browser.storefront_server import MODULE_WEB, product_image

TYPES = {".js": "text/javascript", ".css": "text/css"}


class _Handler(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, str, bytes]] = {}
    requested: list[str] = []

    def log_message(self, format, *args):  # noqa: A002 - quiet test output
        pass

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 - http.server's naming
        path = urlsplit(self.path).path
        self.requested.append(path)
        if path in self.routes:
            status, content_type, body = self.routes[path]
            return self._send(status, body, content_type)
        if path.startswith("/media/catalog/product/"):
            return self._send(200, product_image(path), "image/jpeg")
        if path.startswith("/static/Provenant_Disclosure/"):
            file = (MODULE_WEB / path.removeprefix("/static/Provenant_Disclosure/")).resolve()
            if file.is_relative_to(MODULE_WEB) and file.is_file():
                return self._send(200, file.read_bytes(), TYPES.get(file.suffix, "application/octet-stream"))
        return self._send(404, b"<h1>404 Not Found</h1>", "text/html; charset=utf-8")


class SimulatedStorefront:
    """``with SimulatedStorefront() as shop: shop.page("/a.html", html)``; ``shop.url`` is the base."""

    def __init__(self) -> None:
        handler = type("Handler", (_Handler,), {"routes": {}, "requested": []})
        self.handler = handler
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def page(self, path: str, html: str, status: int = 200) -> None:
        self.handler.routes[path] = (status, "text/html; charset=utf-8", html.encode())

    def json(self, path: str, body: bytes) -> None:
        self.handler.routes[path] = (200, "application/json", body)

    @property
    def requested(self) -> list[str]:
        return self.handler.requested

    def __enter__(self) -> SimulatedStorefront:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def product_page(
    *, store: str, sku: str, images: list[str], api_base: str, style: str = "", script: bool = True
) -> str:
    """A Hyva-like product page: a gallery of ``images`` (resized-cache URLs) running the module's script."""
    import html
    import json

    config = html.escape(json.dumps({"apiBase": api_base, "store": store, "products": [sku]}), quote=True)
    gallery = "".join(
        f'<figure data-provenant-gallery-item><img src="/media/catalog/product/cache/9f1e2d{path}" '
        f'alt="Product image" width="400" height="400"></figure>'
        for path in images
    )
    tag = '<script src="/static/Provenant_Disclosure/js/disclosure.js" defer></script>' if script else ""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Product</title>"
        '<link rel="stylesheet" href="/static/Provenant_Disclosure/css/disclosure.css">'
        f"<style>body{{margin:0;font-family:sans-serif}} {style}</style>{tag}</head>"
        f'<body class="catalog-product-view"><main id="maincontent"><h1>{html.escape(sku)}</h1>'
        f'<section data-provenant-gallery aria-label="Images">{gallery}</section>'
        f'<div style="height:1600px"></div></main>'
        f'<div data-provenant-disclosure data-provenant-config="{config}"></div></body></html>'
    )


def cms_page(*, store: str, identifier: str, api_base: str) -> str:
    import html
    import json

    config = html.escape(json.dumps({"apiBase": api_base, "store": store, "pages": [identifier]}), quote=True)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Guide</title>"
        '<link rel="stylesheet" href="/static/Provenant_Disclosure/css/disclosure.css">'
        '<script src="/static/Provenant_Disclosure/js/disclosure.js" defer></script></head>'
        '<body class="cms-page-view"><main id="maincontent"><div class="column main">'
        "<h1>Living with diabetes</h1><p>Patient education text.</p></div></main>"
        f'<div data-provenant-disclosure data-provenant-config="{config}"></div></body></html>'
    )

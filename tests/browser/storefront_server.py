"""A local stand-in for a Magento storefront: Luma-like and Hyva-like product pages, the module's
static files as Magento would deploy them, RequireJS and axe-core from npm, and product images."""

from __future__ import annotations

import hashlib
import html
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[2]
PAGES = Path(__file__).resolve().parent / "storefront"
NODE_MODULES = Path(__file__).resolve().parent / "node_modules"
MODULE_WEB = ROOT / "magento-module" / "view" / "frontend" / "web"
STATIC = {
    "/lib/require.js": NODE_MODULES / "requirejs" / "require.js",
    "/lib/axe.min.js": NODE_MODULES / "axe-core" / "axe.min.js",
}
TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html; charset=utf-8"}


def product_image(path: str) -> bytes:
    """A JPEG drawn from the file name: AI images violet, photos green, so screenshots tell them apart."""
    name = path.rsplit("/", 1)[-1]
    seed = hashlib.sha256(name.encode()).digest()
    base = (126, 87, 194) if name.startswith("ai-") else (46, 125, 50)
    size = 400 if "/9f1e2d/" in path or "/77bb00/" in path else 80
    image = Image.new("RGB", (size, size), tuple(min(255, c + seed[i] % 40) for i, c in enumerate(base)))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle(
        (size * 0.3, size * 0.15, size * 0.7, size * 0.85), radius=size // 10, fill="white"
    )
    draw.rectangle((size * 0.45, size * 0.05, size * 0.55, size * 0.2), fill="#cfd8dc")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


class StorefrontHandler(BaseHTTPRequestHandler):
    manifest_dir: Path | None = None  # serves /manifests/ as a static server or CDN would
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
        url = urlsplit(self.path)
        path = url.path
        if path.startswith("/slow/"):
            time.sleep(3)
            return self._send(200, b'{"products": {}}', "application/json")
        if path.startswith("/media/catalog/product/"):
            return self._send(200, product_image(path), "image/jpeg")
        if path.startswith("/manifests/") and self.manifest_dir is not None:
            file = self.manifest_dir / path.removeprefix("/manifests/")
            if not file.resolve().is_relative_to(self.manifest_dir.resolve()) or not file.is_file():
                return self._send(404, b"not found", "text/plain")
            self.requested.append(path)
            return self._send(200, file.read_bytes(), "application/json")
        if path.startswith("/static/Provenant_Disclosure/"):
            file = MODULE_WEB / path.removeprefix("/static/Provenant_Disclosure/")
        elif path.startswith("/fixtures/"):
            file = PAGES / path.removeprefix("/fixtures/")
        elif path in STATIC:
            file = STATIC[path]
        elif path in ("/luma/product", "/hyva/product", "/checkout/cart", "/luma/page"):
            page = "hyva-product.html" if path.startswith("/hyva") else "luma-product.html"
            if path == "/luma/page":
                page = "luma-cms-page.html"
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            config = {
                "store": query.get("store", "default"),
                "products": [] if path == "/luma/page" else ["MED-1"],
                "blocks": [],
                "pages": ["diabetes-guide"] if path == "/luma/page" else [],
            }
            for key in ("apiBase", "manifestBase"):
                if query.get(key):
                    config[key] = query[key]
            if query.get("timeout"):
                config["timeout"] = int(query["timeout"])
            text = (PAGES / page).read_text(encoding="utf-8")
            text = text.replace("__CONFIG__", html.escape(json.dumps(config), quote=True))
            return self._send(200, text.encode(), TYPES[".html"])
        else:
            return self._send(404, b"not found", "text/plain")
        try:
            resolved = file.resolve()
            # node_modules may be a symlink to a shared install: compare against where it points.
            if not any(resolved.is_relative_to(r.resolve()) for r in (MODULE_WEB, PAGES, NODE_MODULES)):
                raise FileNotFoundError
            body = resolved.read_bytes()
        except OSError:
            return self._send(404, b"not found", "text/plain")
        return self._send(200, body, TYPES.get(resolved.suffix, "application/octet-stream"))


class Storefront:
    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), StorefrontHandler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Storefront:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

"""URLs of the demo storefront (:mod:`magento_bridge.demo_storefront`), at ``/demo/storefront/``."""

from django.urls import path, re_path

from magento_bridge import demo_storefront as demo

app_name = "disclosure_demo"

urlpatterns = [
    path("favicon.svg", demo.demo_favicon, name="favicon"),
    re_path(r"^module/(?P<path>(js|css)/[A-Za-z0-9_.-]+)$", demo.demo_module_static, name="module"),
    re_path(r"^media/(?P<path>.*)$", demo.demo_media, name="media"),
    re_path(r"^(?P<store_code>[A-Za-z0-9_]{1,32})/$", demo.demo_index, name="index"),
    path("<str:store_code>/<path:sku>", demo.demo_product, name="product"),
]

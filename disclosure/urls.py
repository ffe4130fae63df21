"""URLs of the public disclosure API, mounted at ``/api/v1/disclosures/``."""

from django.urls import re_path

from disclosure.api import DisclosureView, SyntheticImagesView

app_name = "disclosure_api"

urlpatterns = [
    re_path(r"^(?P<store_code>[A-Za-z0-9_]{1,32})$", DisclosureView.as_view(), name="disclosures"),
    re_path(
        r"^(?P<store_code>[A-Za-z0-9_]{1,32})/images$", SyntheticImagesView.as_view(), name="synthetic_images"
    ),
]

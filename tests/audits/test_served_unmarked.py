"""Synthetic images shoppers receive as resized copies with no mark: on the dashboard, in the
review queue and on the review page (EU AI Act Art. 50(2))."""

from __future__ import annotations

import re

from audits.services import review_open
from magento_bridge.models import Derivative


def derivative(item, name: str, **layers) -> Derivative:
    return Derivative.objects.create(
        item=item,
        path=f"/cache/{name}{item.file_path}",
        cache_hash=name,
        size=1000,
        format="JPEG",
        width=265,
        height=265,
        **layers,
    )


def test_unmarked_copies_are_a_finding_on_the_dashboard_with_their_layer_chart(client, approver, make_item):
    served_bare = make_item()
    derivative(served_bare, "a" * 32)
    derivative(served_bare, "b" * 32, xmp_source_type="trainedAlgorithmicMedia")
    kept = make_item()
    derivative(kept, "c" * 32, watermark_id="00aa11bb22cc")
    broken = make_item()
    derivative(broken, "d" * 32, problem_code="truncated", problem="<b>cut</b> short")
    human = make_item(origin="human")
    derivative(human, "e" * 32)  # not synthetic: no finding
    review_open(content_item=served_bare)
    review_open(content_item=kept)

    client.force_login(approver)
    page = client.get("/admin/workspace/dashboard/").content.decode()

    attention = page.split("Needs attention:", 1)[1].split("</p>", 1)[0]
    links = dict((text, url) for url, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', attention))
    line = "1 synthetic image(s) served to shoppers with no machine-readable mark"
    assert line in links
    tile = page.split("data-derivative-layers", 1)[1].split("</section>", 1)[0]
    assert "4 resized copies of synthetic images" in tile
    counts = dict(re.findall(r'aria-label="([^":]+): (\d+)"', tile))
    assert counts == {
        "IPTC XMP": "1",
        "C2PA": "0",
        "Watermark": "1",
        "Recognised by fingerprint": "0",
        "No mark in the file": "1",
        "Unreadable": "1",
    }

    queue = client.get(links[line].replace("&amp;", "&")).content.decode()
    assert f"/admin/audits/review/{served_bare.review.pk}/change/" in queue
    assert f"/admin/audits/review/{kept.review.pk}/change/" not in queue


def test_the_review_page_lists_the_copies_shoppers_receive_and_what_they_keep(client, approver, make_item):
    item = make_item()
    derivative(item, "a" * 32)
    derivative(item, "b" * 32, c2pa_state="valid")
    derivative(item, "c" * 32, problem_code="truncated", problem="<script>x</script> cut")
    review = review_open(content_item=item)

    client.force_login(approver)
    page = client.get(f"/admin/audits/review/{review.pk}/change/").content.decode()

    table = page.split("data-shopper-derivatives", 1)[1].split("</table>", 1)[0]
    assert "Resized copies the storefront serves (3)" in page
    assert "1 of them carry no machine-readable mark" in page
    assert "C2PA (valid)" in table and "none" in table
    assert "&lt;script&gt;x&lt;/script&gt; cut" in table and "<script>x</script>" not in page

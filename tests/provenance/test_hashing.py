"""Content hashes: the documented CMS normalisation and canonical link lists."""

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from provenance.standards.hashing import cms_content_sha256, link_list_sha256, normalise_cms_html


def test_whitespace_and_line_endings_do_not_change_the_hash():
    a = "<p>Take with water.</p>\r\n\r\n<ul>\n  <li>Once a day</li>\n</ul>\n"
    b = "<p>Take with   water.</p><ul><li>Once a day</li></ul>"
    assert cms_content_sha256(a) == cms_content_sha256(b)


def test_a_changed_word_or_attribute_changes_the_hash():
    assert cms_content_sha256("<p>Once a day</p>") != cms_content_sha256("<p>Twice a day</p>")
    assert cms_content_sha256('<p class="a">x</p>') != cms_content_sha256('<p class="b">x</p>')


def test_unicode_is_compared_in_nfc():
    assert cms_content_sha256("Cafe\u0301") == cms_content_sha256("Caf\u00e9")


def test_link_lists_hash_their_canonical_json_in_order():
    assert link_list_sha256(["A", "B"]) == hashlib.sha256(b'["A","B"]').hexdigest()
    assert link_list_sha256(["A", "B"]) != link_list_sha256(["B", "A"])


@given(st.text())
def test_normalisation_is_idempotent(html):
    once = normalise_cms_html(html)
    assert normalise_cms_html(once) == once

"""The standards Provenant implements, as plain Python with no Django import.

Each module here takes its inputs as arguments (bytes, keys, settings values) and never reads Django
settings, models or caches, so the offline verifier, the benchmarks and other tools can use it alone;
``tests/provenance/test_standards_are_django_free.py`` keeps it that way.

- :mod:`.merkle`: RFC 9162 Merkle tree hashes, inclusion and consistency proofs, in the stored-hash
  layout of Go's ``golang.org/x/mod/sumdb/tlog``. Hand-written: no maintained Python library
  implements the RFC 9162 proofs over that layout.
- :mod:`.notes`: C2SP signed-note and tlog-checkpoint with Ed25519 (hand-written for the same reason;
  the signatures themselves come from ``cryptography``).
- :mod:`.canonical`: RFC 8785 canonical JSON, through the ``rfc8785`` package.
- :mod:`.hashing`: content hashes of registry items (SHA-256 over bytes, normalised CMS HTML, RFC 8785).
- :mod:`.xmp`: the IPTC ``DigitalSourceType`` in an XMP packet (ISO 16684-1), embedded without
  re-encoding pixels.
- :mod:`.media_marks`: reading AI marks from image metadata (IPTC, XMP, C2PA JUMBF presence, generator
  fingerprints).
- :mod:`.content_credentials`: C2PA manifests read, validated and signed, through ``c2pa-python``.
- :mod:`.model_cards`: Model Card Toolkit fields and Hugging Face model-card metadata.
"""

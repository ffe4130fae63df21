"""Audit packages: a ZIP of compliance documents and provenance evidence an auditor checks offline.

- :mod:`audits.packages.request`: record a package request and queue its build.
- :mod:`audits.packages.build`: build and register packages; other features add files.
- :mod:`audits.packages.documents`: the HTML and CSV documents (registers, Annex IV, model cards).
- :mod:`audits.packages.evidence`: RFC 9162 inclusion proofs from in-memory tree levels.
- :mod:`audits.packages.verifier`: the offline ``verify.py`` template (standard library + cryptography).
- :mod:`audits.packages.admin`: the admin (request, progress, download).
"""

"""Coverage and separation checks, with the evidence they add to audit packages.

- :mod:`audits.checks.simulation`: the disclosure-coverage simulation (a real browser on the storefront).
- :mod:`audits.checks.separation`: synthetic/real separation scans of Magento and the registry.
- :mod:`audits.checks.evidence`: their latest results as audit-package files.
- :mod:`audits.checks.admin`: the admin (run, results, screenshots).
"""

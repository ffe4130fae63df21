"""The compliance workspace's admin, one module a room; importing this package registers them all.

- :mod:`audits.admin.workspace`: the review queue, classifications, incidents.
- :mod:`audits.admin.trail`: the audit trail (export, anchoring) and TOTP devices.
- :mod:`audits.admin.schedules`: Celery beat's periodic tasks, their actions behind a permission.
- :mod:`audits.checks.admin`: disclosure-coverage simulations and separation scans.
- :mod:`audits.packages.admin`: audit packages (request, progress, download).
"""

from audits.admin import schedules, trail, workspace
from audits.checks import admin as checks
from audits.packages import admin as packages

__all__ = ["checks", "packages", "schedules", "trail", "workspace"]

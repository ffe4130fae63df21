"""Staff roles as Django groups, and the permissions each one holds.

The groups are created by a data migration and reconciled after every ``migrate`` (so permissions
of apps added later reach the roles too). The admin shows or hides pages by these permissions;
the services check them again, so a request that skips the admin is refused all the same.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

__all__ = ["ROLE_PERMISSIONS", "Role", "roles_sync"]


class Role:
    REVIEWER = "Reviewer"
    APPROVER = "Approver"
    AUDITOR = "Auditor"
    ENGINEER = "Engineer"
    ADMINISTRATOR = "Administrator"
    ALL = (REVIEWER, APPROVER, AUDITOR, ENGINEER, ADMINISTRATOR)


_READ_REGISTRY = [
    "provenance.view_contentitem",
    "provenance.view_generator",
    "provenance.view_generationrecord",
    "provenance.view_sourcerule",
    "magento_bridge.view_syncrun",
    "disclosure.view_*",
    "datasets.view_*",  # synthetic datasets, their versions, references and reports
    "lineage.view_*",  # OpenLineage jobs, runs, datasets, the data-protection inventory
    "consent.view_profilingdeclaration",  # which recommendation surfaces profile shoppers
]
_WORKSPACE = [
    "audits.view_review",
    "audits.change_review",
    "audits.view_reviewcomment",
    "audits.view_classification",
    "audits.add_classification",
    "audits.view_incident",
    "audits.add_incident",
    "audits.change_incident",
    "audits.view_incidentstep",
    "audits.view_incidentupdate",
]

# Coverage simulation and separation checks: results readable by the workspace, run by approvers.
_CHECK_RESULTS = ["audits.view_simulation*", "audits.view_separation*"]
_CHECK_RUNS = ["audits.run_simulation", "audits.run_separation_scan", "audits.*_separationmarker"]

# "app_label.codename" patterns (shell-style) per role.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.REVIEWER: [*_READ_REGISTRY, *_WORKSPACE, *_CHECK_RESULTS, "audits.propose_review"],
    Role.APPROVER: [
        *_READ_REGISTRY,
        *_WORKSPACE,
        "audits.approve_review",
        "audits.approve_classification",
        "audits.view_auditevent",
        "audits.view_auditanchor",
        # what shoppers are told, and the audit switch, are compliance decisions
        "disclosure.add_disclosurepolicy",
        "disclosure.change_disclosurepolicy",
        "disclosure.add_auditswitch",
        "disclosure.change_auditswitch",
        # the GDPR facts of source datasets and where generators process them are compliance facts
        "lineage.add_dataprotection",
        "lineage.change_dataprotection",
        "lineage.add_processinglocation",
        "lineage.change_processinglocation",
        "datasets.add_thresholdset",  # what a synthetic dataset is judged by
        # whether a surface profiles shoppers and for which consent purpose is a compliance fact
        "consent.add_profilingdeclaration",
        "consent.change_profilingdeclaration",
        "consent.view_consentevent",
        *_CHECK_RESULTS,
        *_CHECK_RUNS,
    ],
    Role.AUDITOR: [
        "provenance.view_*",
        "magento_bridge.view_*",
        "disclosure.view_*",
        "datasets.view_*",
        "lineage.view_*",
        "consent.view_*",
        "audits.view_*",
        "otp_totp.view_totpdevice",
        "audits.export_auditevent",
        "audits.add_auditpackage",
        "audits.download_auditpackage",
        "auth.view_user",
        "auth.view_group",
        "django_celery_beat.view_*",
    ],
    Role.ENGINEER: [
        "provenance.*_generator",
        "provenance.*_apiclient",
        "provenance.*_apitoken",
        "provenance.*_sourcerule",
        "provenance.view_contentitem",
        "provenance.view_generationrecord",
        "magento_bridge.*",
        "django_celery_beat.*",
        "audits.view_classification",
        "disclosure.view_*",
        "datasets.view_*",
        "lineage.view_*",
        "consent.view_profilingdeclaration",
        "datasets.upload_dataset",  # generation pipelines' output, like the generators themselves
        "disclosure.*_storefrontsettings",  # CORS origins of the storefront: a technical setting
    ],
    Role.ADMINISTRATOR: ["*"],
}


def roles_sync(apps) -> None:
    """Create the role groups and give each exactly the permissions its patterns match (idempotent)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = list(Permission.objects.select_related("content_type").all())
    for role, patterns in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = [
            p
            for p in perms
            if any(fnmatchcase(f"{p.content_type.app_label}.{p.codename}", pat) for pat in patterns)
        ]
        group.permissions.set(wanted)

from django.apps import AppConfig


class AuditsConfig(AppConfig):
    name = "audits"
    verbose_name = "Compliance workspace"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from audits import receivers, trail
        from provenance.integrity import integrity_register

        receivers.connect()
        # After every app's migrations, not only ours: the permissions of apps listed after audits
        # (datasets, lineage) are created by their own post_migrate, and must reach the roles too.
        post_migrate.connect(receivers.roles_after_migrate, dispatch_uid="audits.roles_after_migrate")
        integrity_register("audit events", trail.audit_verify)

        from audits.checks.evidence import coverage_simulation_package_files, separation_package_files
        from audits.packages.build import package_file_provider_register

        package_file_provider_register(coverage_simulation_package_files)
        package_file_provider_register(separation_package_files)

from django.apps import AppConfig


class ProvenanceConfig(AppConfig):
    name = "provenance"
    verbose_name = "Provenance registry"

    def ready(self) -> None:
        from provenance import checks  # noqa: F401 - registers the system checks
        from provenance.integrity import integrity_register
        from provenance.witnessing import witness_integrity_check

        integrity_register("witness cosignatures", witness_integrity_check)

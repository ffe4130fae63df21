from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = "Consent for personalisation"

    def ready(self) -> None:
        from consent.integrity import consent_ledger_verify
        from provenance.integrity import integrity_register

        integrity_register("consent events", consent_ledger_verify)

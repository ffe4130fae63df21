from django.apps import AppConfig


class DisclosureConfig(AppConfig):
    name = "disclosure"
    verbose_name = "Storefront disclosure"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from disclosure import signals
        from provenance.ingest_gate import ingest_gate_register

        ingest_gate_register(signals.generation_paused)
        # A lazy sender: disclosure does not import magento_bridge, it only hears that a sync ended.
        post_save.connect(signals.sync_finished, sender="magento_bridge.SyncRun", weak=False)

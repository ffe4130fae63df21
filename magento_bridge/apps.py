from django.apps import AppConfig


class MagentoBridgeConfig(AppConfig):
    name = "magento_bridge"
    verbose_name = "Magento bridge"

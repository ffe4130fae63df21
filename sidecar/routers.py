"""Database router: the ``magento`` alias is read-only and never migrated."""

from __future__ import annotations


class MagentoWriteRefused(RuntimeError):
    """Something tried to write to the Magento database through the ORM."""


class MagentoReadOnlyRouter:
    alias = "magento"

    def db_for_read(self, model, **hints):
        return None

    def db_for_write(self, model, **hints):
        # Our models always live in "default"; Magento is never a write target.
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if db == self.alias:
            return False
        return None

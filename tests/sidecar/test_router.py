"""The Magento alias is never migrated and never written through the ORM."""

import pytest

from sidecar.routers import MagentoReadOnlyRouter


def test_the_magento_database_is_never_migrated():
    router = MagentoReadOnlyRouter()
    assert router.allow_migrate("magento", "provenance") is False
    assert router.allow_migrate("default", "provenance") is None


def test_writes_always_go_to_our_own_database():
    assert MagentoReadOnlyRouter().db_for_write(object) == "default"


def test_the_magento_session_itself_refuses_writes(mariadb_url):
    from magento_bridge.connection import connect

    owner = connect(mariadb_url, read_only=False)
    with owner.cursor() as cur:
        cur.execute("CREATE TABLE t (id int)")
    ro = connect(mariadb_url, read_only=True)
    try:
        with ro.cursor() as cur, pytest.raises(Exception, match="READ ONLY"):
            cur.execute("INSERT INTO t VALUES (1)")
    finally:
        ro.close()
        owner.close()

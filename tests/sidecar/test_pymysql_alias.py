"""PyMySQL stands in for MySQLdb without its modules being imported twice."""

from __future__ import annotations

import importlib

import pymysql


def test_loading_the_mysql_backend_keeps_pymysqls_exception_classes(settings):
    importlib.import_module("django.db.backends.mysql.base")
    from pymysql import connections

    assert pymysql.err.OperationalError is connections.err.OperationalError
    if settings.MYSQL_DRIVER == "pymysql":  # standing in for MySQLdb: its modules are PyMySQL's
        assert importlib.import_module("MySQLdb.err") is pymysql.err

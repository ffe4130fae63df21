"""One-statement row reads for the ingest hot path.

For a lookup of one row by a unique key, building a queryset (cloning, compiling, resolving the
lookups) costs several times the database round trip itself; on the record-ingest path, run for
every POST, that was most of the request. These helpers write the one ``SELECT`` from the model's
metadata and run it on the model's connection. What :func:`row_first` returns is what
``Model.objects.filter(...).first()`` would: the values pass through the backend's and the
fields' converters (as the ORM's compiler applies them) and become the model through
:meth:`~django.db.models.Model.from_db`, so the instance's saved state and deferred fields are
the ORM's own.

``where`` is SQL with the model's field names in braces (``"{key_id} = %s"``), each replaced by
its quoted column; values go in ``params``, never into ``where``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from django.db import connections, router
from django.db.models import Model

__all__ = ["row_exists", "row_first"]


def _columns(model: type[Model], alias: str, qn) -> dict[str, str]:
    return {field.name: f"{alias}.{qn(field.column)}" for field in model._meta.concrete_fields}


class _Plan(NamedTuple):
    head: str  # SELECT … FROM … JOIN …, up to WHERE
    columns: dict[str, str]
    attnames: list[str]
    related_attnames: list[str]
    converters: list[tuple[int, object, list]]  # position, expression, the converters in order


def _plan(model: type[Model], related: str | None, only: tuple[str, ...] | None, using: str) -> _Plan:
    """The statement's fixed part and the converters, once per model, shape and connection.

    Kept on the connection (each thread has its own), as the backend's converters are bound to it.
    """
    connection = connections[using]
    plans = connection.__dict__.setdefault("_provenant_row_plans", {})
    key = (model, related, only)
    plan = plans.get(key)
    if plan is not None:
        return plan
    qn = connection.ops.quote_name
    meta = model._meta
    fields = [
        field
        for field in meta.concrete_fields
        if only is None or field.primary_key or field.name in only or field.attname in only
    ]
    selected = [f"T0.{qn(field.column)}" for field in fields]
    joins = ""
    related_fields: list = []
    if related is not None:
        foreign_key = meta.get_field(related)
        related_fields = list(foreign_key.related_model._meta.concrete_fields)
        selected += [f"T1.{qn(field.column)}" for field in related_fields]
        joins = (
            f" INNER JOIN {qn(foreign_key.related_model._meta.db_table)} T1"
            f" ON T0.{qn(foreign_key.column)} = T1.{qn(foreign_key.target_field.column)}"
        )
    converters = []
    for position, field in enumerate(fields + related_fields):
        # As the ORM's compiler does: the backend's converters, then the field's.
        col = field.get_col("T1" if position >= len(fields) else "T0")
        functions = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if functions:
            converters.append((position, col, functions))
    plan = _Plan(
        head=f"SELECT {', '.join(selected)} FROM {qn(meta.db_table)} T0{joins}",
        columns=_columns(model, "T0", qn),
        attnames=[field.attname for field in fields],
        related_attnames=[field.attname for field in related_fields],
        converters=converters,
    )
    plans[key] = plan
    return plan


def row_exists(
    model: type[Model], where: str, params: Sequence, *, locking: bool = False, using: str | None = None
) -> bool:
    """Whether a row of ``model`` matches ``where``; ``locking`` takes the rows' update locks
    (``FOR UPDATE``, on backends that have it) until the transaction ends, also when none matches
    (on InnoDB the gap is locked, so a concurrent insert waits)."""
    using = using or (router.db_for_write(model) if locking else router.db_for_read(model))
    connection = connections[using]
    qn = connection.ops.quote_name
    condition = where.format(**_columns(model, "T0", qn))
    sql = f"SELECT 1 FROM {qn(model._meta.db_table)} T0 WHERE {condition} LIMIT 1"
    if locking and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchone() is not None


def row_first(
    model: type[Model],
    where: str,
    params: Sequence,
    *,
    related: str | None = None,
    only: Sequence[str] | None = None,
    locking: bool = False,
    using: str | None = None,
) -> Model | None:
    """The first row of ``model`` matching ``where`` (in no particular order: meant for unique
    keys), or ``None``.

    ``related`` names a non-null foreign key to load in the same statement (as ``select_related``);
    ``only`` limits the loaded fields (the primary key is always loaded; the others are deferred);
    ``locking`` takes the row's update lock as :func:`row_exists` does.
    """
    using = using or (router.db_for_write(model) if locking else router.db_for_read(model))
    connection = connections[using]
    plan = _plan(model, related, tuple(only) if only is not None else None, using)
    sql = f"{plan.head} WHERE {where.format(**plan.columns)} LIMIT 1"
    if locking and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for position, expression, functions in plan.converters:
        value = values[position]
        for function in functions:
            value = function(value, expression, connection)
        values[position] = value
    count = len(plan.attnames)
    instance = model.from_db(using, plan.attnames, values[:count])
    if related is not None:
        foreign_key = model._meta.get_field(related)
        target = foreign_key.related_model.from_db(using, plan.related_attnames, values[count:])
        foreign_key.set_cached_value(instance, target)
    return instance

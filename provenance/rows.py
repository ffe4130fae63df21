"""One-statement row reads and multi-row inserts for the ingest hot path.

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

:func:`rows_insert` is ``bulk_create`` without the compiler: the values pass through each field's
``pre_save`` and ``get_db_prep_save``, as the ORM's insert compiler applies them, into multi-row
``INSERT`` statements, with the new primary keys read back by ``RETURNING`` where the backend has
it. As with ``bulk_create``, no signals are sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from django.db import connections, router
from django.db.models import CharField, Field, Model, TextField

__all__ = ["row_exists", "row_first", "rows_insert"]

# Rows per INSERT statement: SQLite binds at most 32,766 parameters, MariaDB's packet is larger.
_INSERT_ROWS = 500


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


class _InsertPlan(NamedTuple):
    head: str  # INSERT INTO … VALUES
    row: str  # one row's placeholders
    tail: str  # RETURNING …, or nothing
    fields: list
    # Per field: a str value is stored as it is (a plain CharField or TextField: its
    # get_db_prep_save returns a str unchanged), so the call is skipped.
    strings_as_is: list[bool]


def _strings_as_is(field) -> bool:
    kind = type(field)
    return (
        isinstance(field, CharField | TextField)
        and kind.pre_save is Field.pre_save
        and kind.get_db_prep_save is Field.get_db_prep_save
        and kind.get_db_prep_value is Field.get_db_prep_value
        and kind.get_prep_value in (CharField.get_prep_value, TextField.get_prep_value)
        and kind.to_python in (CharField.to_python, TextField.to_python)
    )


def _insert_plan(model: type[Model], using: str) -> _InsertPlan:
    connection = connections[using]
    plans = connection.__dict__.setdefault("_provenant_insert_plans", {})
    plan = plans.get(model)
    if plan is not None:
        return plan
    qn = connection.ops.quote_name
    meta = model._meta
    fields = [field for field in meta.concrete_fields if not field.generated and field is not meta.auto_field]
    returning = meta.auto_field is not None and connection.features.can_return_rows_from_bulk_insert
    plan = _InsertPlan(
        head=f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(field.column) for field in fields)}) VALUES ",
        row="(" + ", ".join(["%s"] * len(fields)) + ")",
        tail=f" RETURNING {qn(meta.auto_field.column)}" if returning else "",
        fields=fields,
        strings_as_is=[_strings_as_is(field) for field in fields],
    )
    plans[model] = plan
    return plan


def rows_insert(instances: Sequence[Model], *, using: str | None = None) -> None:
    """Insert new, unsaved ``instances`` of one model in multi-row statements.

    Their primary keys are set where the backend returns them from an ``INSERT`` (MariaDB 10.5+,
    SQLite 3.35+, PostgreSQL) or the driver reports a single row's id, and are left ``None``
    otherwise (read them back by a unique field); the instances count as saved.
    """
    if not instances:
        return
    model = type(instances[0])
    using = using or router.db_for_write(model)
    connection = connections[using]
    plan = _insert_plan(model, using)
    columns = list(zip(plan.fields, plan.strings_as_is, strict=True))
    with connection.cursor() as cursor:
        for start in range(0, len(instances), _INSERT_ROWS):
            chunk = instances[start : start + _INSERT_ROWS]
            params = []
            for instance in chunk:
                for field, as_is in columns:
                    if as_is and type(value := getattr(instance, field.attname)) is str:
                        params.append(value)
                    else:
                        params.append(field.get_db_prep_save(field.pre_save(instance, True), connection))
            cursor.execute(plan.head + ", ".join([plan.row] * len(chunk)) + plan.tail, params)
            if plan.tail:
                for instance, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                    instance.pk = pk
            elif model._meta.auto_field is not None and len(chunk) == 1 and cursor.lastrowid:
                chunk[0].pk = cursor.lastrowid  # one row: the driver knows its id
    for instance in instances:
        instance._state.adding = False
        instance._state.db = using

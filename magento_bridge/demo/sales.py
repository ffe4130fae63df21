"""The demo store's shoppers: customers, quotes, orders and payments, fictional, among them the
records a careless test pipeline left in "production", which the separation checks must find.
"""

from __future__ import annotations

from datetime import timedelta

from magento_bridge.demo.tables import DEMO_EPOCH, Tables, timestamp

# Customers, quotes and orders of the demo store (fictional): shoppers, and the records a careless test
# pipeline left in "production", which the separation checks must find. (table, entity_id) of each
# deliberate test record -> the kind of marker that finds it with the default markers.
DEMO_TEST_RECORDS: dict[tuple[str, int], str] = {
    ("customer_entity", 4): "email_domain",
    ("customer_entity", 5): "email_domain",
    ("customer_entity", 6): "name_pattern",
    ("quote", 3): "email_domain",
    ("quote", 4): "name_pattern",
    ("sales_order", 3): "email_domain",
    ("sales_order", 4): "email_domain",
    ("sales_order_payment", 3): "payment_method",
    ("sales_order_payment", 4): "payment_method",
}
_DEMO_CUSTOMERS = (
    # entity_id, email, firstname, lastname, store_id
    (1, "m.keller@mail.demo-clinic.example", "Marta", "Keller", 1),
    (2, "j.okafor@mail.demo-clinic.example", "Jide", "Okafor", 1),
    (3, "l.brandt@post.demo-praxis.example", "Lena", "Brandt", 2),
    (4, "ci-pipeline+482@example.com", "Pipeline", "Runner", 1),
    (5, "qa.checkout@test.invalid", "Quinn", "Assurance", 2),
    (6, "s.lorenz@mail.demo-clinic.example", "Test", "Lorenz", 1),
)
_DEMO_QUOTES = (
    # entity_id, customer_id, email, firstname, lastname, store_id, is_guest
    (1, 1, "m.keller@mail.demo-clinic.example", "Marta", "Keller", 1, 0),
    (2, None, "guest.7731@post.demo-praxis.example", "Aylin", "Demir", 2, 1),
    (3, 4, "ci-pipeline+482@example.com", "Pipeline", "Runner", 1, 0),
    (4, None, "p.weiss@mail.demo-clinic.example", "Synthetic", "Patient", 1, 1),
)
_DEMO_ORDERS = (
    # entity_id, increment_id, customer_id, email, firstname, lastname, store_id, is_guest, total, method
    (1, "000000001", 1, "m.keller@mail.demo-clinic.example", "Marta", "Keller", 1, 0, "42.9000", "braintree"),
    (
        2,
        "000000002",
        3,
        "l.brandt@post.demo-praxis.example",
        "Lena",
        "Brandt",
        2,
        0,
        "18.5000",
        "paypal_express",
    ),
    (3, "000000003", 4, "ci-pipeline+482@example.com", "Pipeline", "Runner", 1, 0, "9.9900", "checkmo"),
    (4, "000000004", None, "qa.checkout@test.invalid", "Quinn", "Assurance", 2, 1, "0.0000", "free"),
)


def write_sales(tables: Tables) -> None:
    """Customers, quotes, orders and payments: shoppers and a few deliberate test records."""
    stamp = timestamp(DEMO_EPOCH - timedelta(days=30))
    tables.rows["customer_entity"] = [
        (eid, 1, email, 1, store, stamp, stamp, 1, first, last)
        for eid, email, first, last, store in _DEMO_CUSTOMERS
    ]
    tables.rows["quote"] = [
        (eid, store, stamp, stamp, 0, cid, email, first, last, guest, None)
        for eid, cid, email, first, last, store, guest in _DEMO_QUOTES
    ]
    tables.rows["sales_order"] = [
        (eid, "complete", "complete", store, cid, total, inc, email, first, last, guest, stamp)
        for eid, inc, cid, email, first, last, store, guest, total, _ in _DEMO_ORDERS
    ]
    tables.rows["sales_order_payment"] = [(o[0], o[0], o[8], o[9]) for o in _DEMO_ORDERS]
    tables.flush(
        {
            "customer_entity": (
                "entity_id",
                "website_id",
                "email",
                "group_id",
                "store_id",
                "created_at",
                "updated_at",
                "is_active",
                "firstname",
                "lastname",
            ),
            "quote": (
                "entity_id",
                "store_id",
                "created_at",
                "updated_at",
                "is_active",
                "customer_id",
                "customer_email",
                "customer_firstname",
                "customer_lastname",
                "customer_is_guest",
                "reserved_order_id",
            ),
            "sales_order": (
                "entity_id",
                "state",
                "status",
                "store_id",
                "customer_id",
                "grand_total",
                "increment_id",
                "customer_email",
                "customer_firstname",
                "customer_lastname",
                "customer_is_guest",
                "created_at",
            ),
            "sales_order_payment": ("entity_id", "parent_id", "amount_ordered", "method"),
        }
    )

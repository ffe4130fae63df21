"""Every role against every protected admin page, action and API endpoint: the expected allow or deny."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User

from audits.models import AuditEvent, Review, ReviewStatus
from audits.roles import Role
from audits.services import review_open, review_submit
from audits.trail import audit_record

R, A, AU, E, AD = Role.REVIEWER, Role.APPROVER, Role.AUDITOR, Role.ENGINEER, Role.ADMINISTRATOR
EVERYONE = {R, A, AU, E, AD}

# page → roles that may open it (everyone else gets 403)
PAGES = {
    "/admin/workspace/dashboard/": EVERYONE,
    "/admin/audits/review/": {R, A, AU, AD},
    "/admin/audits/review/{review}/change/": {R, A, AU, AD},
    "/admin/audits/review/{dataset_review}/change/": {R, A, AU, AD},
    "/admin/audits/review/?subject=dataset": {R, A, AU, AD},
    "/admin/audits/classification/": EVERYONE,
    "/admin/audits/classification/add/": {R, A, AD},
    "/admin/audits/incident/": {R, A, AU, AD},
    "/admin/audits/incident/add/": {R, A, AD},
    "/admin/audits/auditevent/": {A, AU, AD},
    "/admin/audits/auditanchor/": {A, AU, AD},
    "/admin/otp_totp/totpdevice/": {AU, AD},
    "/admin/provenance/contentitem/": EVERYONE,
    "/admin/provenance/generator/": EVERYONE,
    "/admin/provenance/generator/add/": {E, AD},
    "/admin/provenance/apiclient/": {AU, E, AD},
    "/admin/provenance/apiclient/add/": {E, AD},
    "/admin/magento_bridge/syncrun/": EVERYONE,
    "/admin/auth/user/": {AU, AD},
    "/admin/auth/user/add/": {AD},
    "/admin/django_celery_beat/periodictask/": {AU, E, AD},
    "/admin/django_celery_beat/periodictask/add/": {E, AD},
    "/admin/django_celery_beat/clockedschedule/": {AU, E, AD},
    "/admin/django_celery_beat/crontabschedule/": {AU, E, AD},
    "/admin/django_celery_beat/intervalschedule/": {AU, E, AD},
    "/admin/django_celery_beat/solarschedule/": {AU, E, AD},
    "/admin/magento_bridge/mediafile/": {AU, E, AD},
    "/admin/provenance/generationrecord/": EVERYONE,
    "/admin/provenance/sourcerule/": EVERYONE,
    "/admin/provenance/sourcerule/add/": {E, AD},
    "/admin/auth/group/": {AU, AD},
    "/admin/auth/group/add/": {AD},
    "/admin/audits/auditpackage/": {AU, AD},
    "/admin/audits/auditpackage/add/": {AU, AD},
    "/admin/disclosure/disclosurepolicy/": EVERYONE,
    "/admin/disclosure/disclosurepolicy/add/": {A, AD},
    "/admin/disclosure/auditswitch/": EVERYONE,
    "/admin/disclosure/auditswitch/add/": {A, AD},
    "/admin/disclosure/storefrontsettings/": EVERYONE,
    "/admin/disclosure/storefrontsettings/add/": {E, AD},
    "/admin/disclosure/manifestrelease/": EVERYONE,
    "/api/v1/audits/reviews": {R, A, AU, AD},
    "/admin/audits/simulationrun/": {R, A, AU, AD},
    "/admin/audits/simulationcheck/": {R, A, AU, AD},
    "/admin/audits/separationscan/": {R, A, AU, AD},
    "/admin/audits/separationfinding/": {R, A, AU, AD},
    "/admin/audits/separationmarker/": {R, A, AU, AD},
    "/admin/audits/separationmarker/add/": {A, AD},
    "/admin/datasets/syntheticdataset/": EVERYONE,
    "/admin/datasets/syntheticdataset/upload/": {E, AD},
    "/admin/datasets/reference/": EVERYONE,
    "/admin/lineage/lineagejob/": EVERYONE,
    "/admin/lineage/lineagerun/": EVERYONE,
    "/admin/lineage/lineagedataset/": EVERYONE,
    "/admin/lineage/lineageevent/": EVERYONE,
    "/admin/lineage/processinglocation/": EVERYONE,
    "/admin/lineage/processinglocation/add/": {A, AD},
    "/admin/lineage/lineagedataset/graph/": EVERYONE,
    "/admin/datasets/thresholdset/": EVERYONE,
    "/admin/datasets/thresholdset/add/": {A, AD},
    "/admin/consent/profilingdeclaration/": EVERYONE,
    "/admin/consent/profilingdeclaration/add/": {A, AD},
    "/admin/consent/consentevent/": {A, AU, AD},
}


def test_the_matrix_covers_every_model_in_the_admin():
    from django.contrib import admin

    listed = {"/".join(page.split("/")[2:4]) for page in PAGES if page.startswith("/admin/")}
    registered = {f"{m._meta.app_label}/{m._meta.model_name}" for m in admin.site._registry}
    assert registered - listed == set()


@pytest.fixture
def proposed_review(item, make_user):
    proposer = make_user(R, "proposer")
    review = review_open(content_item=item)
    return review_submit(
        review=review,
        actor=proposer,
        expected_version=review.version,
        comment="Checked the evidence and the badge",
    )


@pytest.fixture
def proposed_dataset_review(make_user, settings, tmp_path):
    """A synthetic dataset version's review (opened on registration), proposed by a reviewer."""
    from datasets.services import dataset_register
    from provenance.models import Generator

    settings.DATASET_STORAGE_DIR = tmp_path / "datasets"
    Generator.objects.get_or_create(name="matrix-synth", defaults={"version": "1"})
    path = tmp_path / "patients.csv"
    path.write_text("patient_id,age\np1,30\np2,41\np3,52\n")
    with open(path, "rb") as stream:
        version = dataset_register(
            stream=stream,
            filename=str(path),
            name="matrix-patients",
            kind="patients",
            generator="matrix-synth",
        ).version
    review = Review.objects.get(dataset_version=version)
    return review_submit(
        review=review,
        actor=make_user(R, "dataset-proposer"),
        expected_version=review.version,
        comment="Checked the dataset card and its report",
    )


def _page_url(page: str, review: Review, dataset_review: Review) -> str:
    return page.format(review=review.pk, dataset_review=dataset_review.pk)


@pytest.mark.parametrize("role", sorted(EVERYONE))
@pytest.mark.parametrize("page", sorted(PAGES))
def test_each_role_sees_exactly_its_pages(
    client, make_user, proposed_review, proposed_dataset_review, role, page
):
    client.force_login(make_user(role))
    response = client.get(_page_url(page, proposed_review, proposed_dataset_review))
    expected = 200 if role in PAGES[page] else 403
    assert response.status_code == expected, f"{role} on {page}"


def test_anonymous_visitors_are_sent_to_the_login_or_refused(
    client, proposed_review, proposed_dataset_review
):
    for page in PAGES:
        response = client.get(_page_url(page, proposed_review, proposed_dataset_review))
        if page.startswith("/api/"):
            assert response.status_code == 403
        else:
            assert response.status_code == 302 and "/admin/login/" in response["Location"], page


DECISIONS = {
    # decision → roles whose attempt on a proposed review succeeds
    "approve": {A, AD},
    "reject": {A, AD},
    "request_changes": {R, A, AD},
}


@pytest.mark.parametrize("subject", ["content_item", "dataset_version"])
@pytest.mark.parametrize("role", sorted(EVERYONE))
@pytest.mark.parametrize("decision", sorted(DECISIONS))
def test_review_decisions_in_the_admin_follow_the_roles(
    client, make_user, proposed_review, proposed_dataset_review, role, decision, subject
):
    if subject == "dataset_version":
        proposed_review = proposed_dataset_review
    client.force_login(make_user(role))
    version = proposed_review.version
    response = client.post(
        f"/admin/audits/review/{proposed_review.pk}/change/",
        {"decision": decision, "version": version, "comment": "because"},
    )
    proposed_review.refresh_from_db()
    if role in DECISIONS[decision]:
        assert response.status_code == 302 and proposed_review.version == version + 1
    else:
        assert response.status_code in (302, 403)
        assert proposed_review.version == version and proposed_review.status == ReviewStatus.IN_REVIEW


@pytest.mark.parametrize("role", sorted(EVERYONE))
@pytest.mark.parametrize("decision", sorted(DECISIONS))
def test_review_decisions_over_the_api_follow_the_roles(client, make_user, proposed_review, role, decision):
    client.force_login(make_user(role))
    response = client.post(
        f"/api/v1/audits/reviews/{proposed_review.pk}/{decision}",
        {"version": proposed_review.version, "comment": "because"},
        content_type="application/json",
    )
    if role in DECISIONS[decision]:
        assert response.status_code == 200, response.content
        assert response.json()["version"] == proposed_review.version + 1
    else:
        assert response.status_code == 403
        assert response.json()["error"]["code"] in ("forbidden", "permission_denied")


@pytest.mark.parametrize("role", sorted(EVERYONE))
def test_only_approvers_see_the_bulk_sign_off_action(client, make_user, proposed_review, role):
    client.force_login(make_user(role))
    response = client.get("/admin/audits/review/")
    if response.status_code != 200:
        return
    assert ('value="approve_selected"' in response.content.decode()) == (role in {A, AD})
    assert ('value="propose_selected"' in response.content.decode()) == (role in {R, AD})


@pytest.mark.parametrize("role", sorted(EVERYONE))
def test_only_auditors_and_administrators_export_the_trail(client, make_user, role):
    event = audit_record(action="test.event", actor="system:test")
    client.force_login(make_user(role))
    response = client.post(
        "/admin/audits/auditevent/", {"action": "export_csv", "_selected_action": [event.pk]}
    )
    exported = response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert exported == (role in {AU, AD})


@pytest.mark.parametrize("role", sorted(EVERYONE))
def test_only_administrators_anchor_on_demand(client, make_user, role):
    audit_record(action="test.event", actor="system:test")
    client.force_login(make_user(role))
    response = client.post("/admin/audits/auditevent/anchor/")
    assert (response.status_code == 302) == (role == AD)
    from audits.models import AuditAnchor

    assert AuditAnchor.objects.exists() == (role == AD)


def test_api_tokens_of_pipelines_cannot_decide(client, proposed_review):
    from provenance.auth import api_client_create

    issued = api_client_create(name="pipeline", scopes=["records:write"], actor="test")
    response = client.post(
        f"/api/v1/audits/reviews/{proposed_review.pk}/approve",
        {"version": 2, "comment": "Checked"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {issued.token}",
    )
    assert response.status_code == 403
    assert Review.objects.get(pk=proposed_review.pk).status == ReviewStatus.IN_REVIEW


def test_an_inactive_approver_is_refused(make_user, proposed_review):
    from audits.services import RoleRequired, review_approve

    approver = make_user(A)
    User.objects.filter(pk=approver.pk).update(is_active=False)
    approver.refresh_from_db()
    with pytest.raises(RoleRequired):
        review_approve(
            review=proposed_review,
            actor=approver,
            expected_version=proposed_review.version,
            comment="Checked the proposal against the evidence",
        )
    assert AuditEvent.objects.filter(action="review.refused").exists()


# -- Generated from the admin registry and the URLconf ---------------------------------------------
# Every registered model's standard admin views and every action it offers are tried by every role
# against Django's own permissions (a new model or action is covered without editing this file);
# every other URL must be declared below with who may use it, or the first test fails.

STANDARD_VIEWS = {
    # admin view → the model permissions of which one is needed (Django's contract)
    "changelist": ("view", "change"),
    "add": ("add",),
    "change": ("view", "change"),
    "history": ("view", "change"),
    "delete": ("delete",),
}
REFUSED = (401, 403, 404, 405)

# Custom admin views (ModelAdmin.get_urls beyond the standard ones): method and the permission.
CUSTOM_ADMIN_VIEWS = {
    "auth/user/<id>/password/": ("GET", "auth.change_user"),
    "magento_bridge/syncrun/sync-now/": ("POST", "magento_bridge.add_syncrun"),
    "audits/auditevent/anchor/": ("POST", "audits.add_auditanchor"),
    "audits/simulationrun/run/": ("POST", "audits.run_simulation"),
    "audits/simulationcheck/<int:pk>/screenshot/": ("GET", "audits.view_simulationcheck"),
    "audits/separationscan/run/": ("POST", "audits.run_separation_scan"),
    "audits/auditpackage/<int:package_id>/download/": ("GET", "audits.download_auditpackage"),
    "lineage/lineagedataset/graph/": ("GET", "lineage.view_lineagedataset"),
    "datasets/syntheticdataset/upload/": ("POST", "datasets.upload_dataset"),
}

PUBLIC = "public"
STAFF = "staff"  # any signed-in staff member; the page itself checks finer permissions
# Every other route of the URLconf: public, staff, or method → token scopes / staff permission.
ROUTES = {
    "": PUBLIC,  # redirect to the admin
    "healthz": PUBLIC,
    "api/schema/": PUBLIC,
    "api/v1/disclosures/^(?P<store_code>[A-Za-z0-9_]{1,32})$": PUBLIC,
    "api/v1/disclosures/^(?P<store_code>[A-Za-z0-9_]{1,32})/images$": PUBLIC,
    "demo/storefront/favicon.svg": PUBLIC,
    "demo/storefront/^module/(?P<path>(js|css)/[A-Za-z0-9_.-]+)$": PUBLIC,
    "demo/storefront/^media/(?P<path>.*)$": PUBLIC,
    "demo/storefront/^(?P<store_code>[A-Za-z0-9_]{1,32})/$": PUBLIC,
    "demo/storefront/<str:store_code>/<path:sku>": PUBLIC,
    "log/checkpoint": PUBLIC,
    "log/checkpoint/timestamp": PUBLIC,
    "log/key": PUBLIC,
    "log/entries": PUBLIC,
    "log/proof/inclusion": PUBLIC,
    "log/proof/consistency": PUBLIC,
    "admin/workspace/dashboard/": STAFF,
    "admin/workspace/totp/setup/": STAFF,
    "admin/workspace/totp/verify/": STAFF,
    "staff/media/thumbnails/<int:item_id>.png": {"GET": "perm:provenance.view_contentitem"},
    "api/v1/provenance/records": {"POST": "scope:records:write"},
    "api/v1/provenance/records/batch": {"POST": "scope:records:write"},
    "api/v1/provenance/inspect": {"POST": "scope:images:inspect"},
    "api/v1/provenance/records/<int:record_id>": {"GET": "scope:records:write|records:read"},
    "api/v1/provenance/images": {"POST": "scope:images:mark"},
    "api/v1/datasets": {"POST": "scope:datasets:write"},
    "api/v1/datasets/fraud-exclusions": {"GET": "scope:datasets:fraud"},
    "api/v1/lineage": {"POST": "scope:lineage:write"},
    "api/v1/lineage/batch": {"POST": "scope:lineage:write"},
    "api/v1/lineage/graph": {"GET": "scope:lineage:read"},
    "api/v1/consent/events": {"POST": "scope:consent:write", "GET": "scope:consent:read"},
    "api/v1/consent/events/batch": {"POST": "scope:consent:write"},
    "api/v1/^consent/(?P<subject>[^/]{1,200})$": {"GET": "scope:consent:read"},
    "api/v1/audits/reviews": {"GET": "perm:audits.view_review"},
    "api/v1/audits/reviews/<int:review_id>/<str:decision>": {
        "POST": "perm:audits.propose_review|audits.approve_review"
    },
}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _routes():
    from django.urls import URLResolver, get_resolver

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern)

    return list(walk(get_resolver().url_patterns))


def _admin_models():
    from django.contrib import admin

    return sorted(admin.site._registry.items(), key=lambda pair: pair[0]._meta.label_lower)


def _custom_admin_routes():
    standard = {"", "add/", "<path:object_id>/", "<path:object_id>/history/", "<path:object_id>/delete/"}
    standard |= {"<path:object_id>/change/"}
    for model, model_admin in _admin_models():
        for url in model_admin.get_urls():
            route = str(url.pattern)
            if route not in standard:
                yield f"{model._meta.app_label}/{model._meta.model_name}/{route}"


@pytest.fixture
def populated(db, make_store, sqlite_url, proposed_review, make_user):
    """At least one row for most admin models: a synced store, a review, trail, incident, clients."""
    from audits.services import classification_propose, incident_open
    from magento_bridge.models import SyncRun
    from magento_bridge.services import sync_run
    from provenance.auth import api_client_create
    from provenance.models import Generator

    store = make_store(sqlite_url, products=12)
    assert sync_run(full=True, media=store.media).status == SyncRun.Status.SUCCEEDED
    author = make_user(R, "author")
    generator = Generator.objects.get_or_create(name="matrix-model")[0]
    classification_propose(generator=generator, use_case="Matrix", answers={"deployer": True}, actor=author)
    incident_open(title="Matrix incident", severity="serious", actor=author)
    api_client_create(name="matrix-pipeline", scopes=["records:write"], actor="test")
    audit_record(action="test.event", actor="system:test")
    return proposed_review


def test_every_route_of_the_urlconf_is_declared_in_the_matrix():
    admin_prefix = "admin/"
    undeclared = [
        route
        for route in _routes()
        if route not in ROUTES and not (route.startswith(admin_prefix) and "workspace/" not in route)
    ]
    assert undeclared == [], "declare who may use these routes in ROUTES"
    custom = set(_custom_admin_routes())
    assert custom - set(CUSTOM_ADMIN_VIEWS) == set(), "declare these admin views in CUSTOM_ADMIN_VIEWS"


def _templates(response) -> list[str]:
    return [t.name for t in getattr(response, "templates", []) or [] if t.name]


def _allowed(user, model, view: str) -> bool:
    opts = model._meta
    return any(user.has_perm(f"{opts.app_label}.{perm}_{opts.model_name}") for perm in STANDARD_VIEWS[view])


@pytest.mark.parametrize("role", sorted(EVERYONE))
def test_no_role_opens_a_standard_admin_view_without_its_permission(client, make_user, populated, role):
    user = make_user(role)
    client.force_login(user)
    unauthorized, refused, checked = [], 0, 0
    for model, _ in _admin_models():
        opts = model._meta
        base = f"/admin/{opts.app_label}/{opts.model_name}/"
        obj = model._default_manager.order_by("pk").first()
        views = {"changelist": base, "add": f"{base}add/"}
        if obj is not None:
            views |= {name: f"{base}{obj.pk}/{name}/" for name in ("change", "history", "delete")}
        for view, url in views.items():
            status = client.get(url).status_code
            checked += 1
            if _allowed(user, model, view):
                continue
            if status in REFUSED or (status == 302 and view != "changelist"):
                refused += 1
            else:
                unauthorized.append(f"GET {url} → {status}")
            if view in ("add", "delete") and obj is not None:
                before = model._default_manager.count()
                response = client.post(url, {"post": "yes"} if view == "delete" else {})
                if model._default_manager.count() != before or response.status_code not in REFUSED:
                    unauthorized.append(f"POST {url} → {response.status_code}")
    assert unauthorized == [], f"{role}: {unauthorized}"
    assert checked > 80 and refused > 0 or role == AD


@pytest.mark.parametrize("role", sorted(EVERYONE))
def test_no_role_runs_an_admin_action_it_lacks_the_permission_for(client, make_user, populated, role):
    from django.contrib.messages import get_messages
    from django.test import RequestFactory

    user = make_user(role)
    client.force_login(user)
    request = RequestFactory().get("/admin/")
    request.user = user
    unauthorized, tried = [], 0
    for model, model_admin in _admin_models():
        obj = model._default_manager.order_by("pk").first()
        if obj is None:
            continue
        offered = set(model_admin.get_actions(request))
        opts = model._meta
        for func, name, _ in model_admin._get_base_actions():
            declared = getattr(func, "allowed_permissions", None)
            if declared is None:
                unauthorized.append(f"{opts.label_lower}.{name} declares no allowed_permissions")
                continue
            may = all(getattr(model_admin, f"has_{perm}_permission")(request) for perm in declared)
            if name in offered and not may:
                unauthorized.append(f"{opts.label_lower}.{name} offered without {declared}")
            if name in offered:
                continue
            tried += 1
            url = f"/admin/{opts.app_label}/{opts.model_name}/"
            response = client.post(url, {"action": name, "_selected_action": [obj.pk], "post": "yes"})
            texts = [str(m) for m in get_messages(response.wsgi_request)]
            # Refused: an error status, Django's "No action selected." (the action is not among the
            # role's), or the plain list again (the role has no actions, so the POST only lists).
            listed = response.status_code == 200 and "admin/change_list.html" in _templates(response)
            refused = (
                response.status_code in REFUSED or any("No action selected" in t for t in texts) or listed
            )
            if not refused or not model._default_manager.filter(pk=obj.pk).exists():
                unauthorized.append(f"POST {url} action={name} → {response.status_code} {texts}")
    assert unauthorized == [], f"{role}: {unauthorized}"
    assert tried > 0 or role == AD


@pytest.mark.parametrize("role", sorted(EVERYONE))
def test_no_role_uses_a_custom_admin_view_without_its_permission(client, make_user, populated, role):
    user = make_user(role)
    client.force_login(user)
    unauthorized = []
    for route, (method, perm) in CUSTOM_ADMIN_VIEWS.items():
        if user.has_perm(perm):
            continue
        url = "/admin/" + route.replace("<id>", str(user.pk)).replace("<int:pk>", "1")
        url = url.replace("<int:package_id>", "1")
        response = client.generic(method, url)
        if response.status_code not in REFUSED:
            unauthorized.append(f"{method} {url} → {response.status_code}")
    assert unauthorized == [], f"{role}: {unauthorized}"


def _url(route: str, review_pk: int, record_pk: int) -> str:
    return "/" + (
        route.replace("<int:record_id>", str(record_pk))
        .replace("<int:review_id>", str(review_pk))
        .replace("<str:decision>", "approve")
        .replace("<int:item_id>", "1")
    )


@pytest.fixture
def record_pk(client, populated):
    import hashlib

    from provenance.auth import api_client_create
    from provenance.models import Generator

    Generator.objects.get_or_create(name="writer")
    issued = api_client_create(name="record-owner", scopes=["records:write"], actor="test")
    sha = hashlib.sha256(b"x").hexdigest()
    body = {
        "generator": "writer",
        "generator_version": "1",
        "prompt_sha256": sha,
        "output_sha256": sha,
        "output_media_type": "image/png",
        "generated_at": "2026-01-31T09:30:00Z",
        "external_id": "matrix-1",
    }
    response = client.post(
        "/api/v1/provenance/records",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {issued.token}",
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_no_caller_reaches_a_protected_endpoint_without_its_scope_or_permission(
    client, make_user, populated, record_pk
):
    """Anonymous callers, staff of every role and tokens of every other scope, on every method."""
    from django.test import Client

    from provenance.auth import api_client_create
    from provenance.models import ApiScope

    tokens = {
        scope: api_client_create(name=f"matrix-{scope.replace(':', '-')}", scopes=[scope], actor="test").token
        for scope in ApiScope.values
    }
    users = {role: make_user(role) for role in sorted(EVERYONE)}
    unauthorized, tried = [], 0
    for route, rule in ROUTES.items():
        if rule in (PUBLIC, STAFF):
            continue
        url = _url(route, populated.pk, record_pk)
        # A valid body, so that only the caller's rights stand between it and success.
        body = json.dumps({"version": populated.version, "comment": "matrix"} if "decision" in route else {})
        for method in METHODS:
            need = rule.get(method)
            callers: list[tuple[str, Client, dict]] = [("anonymous", Client(), {})]
            for scope, token in tokens.items():
                if need and need.startswith("scope:") and scope in need[6:].split("|"):
                    continue
                callers.append((f"token {scope}", Client(), {"HTTP_AUTHORIZATION": f"Bearer {token}"}))
            for role, user in users.items():
                if need and need.startswith("perm:") and any(user.has_perm(p) for p in need[5:].split("|")):
                    continue
                staff = Client()
                staff.force_login(user)
                callers.append((role, staff, {}))
            for who, caller, extra in callers:
                response = caller.generic(method, url, body, content_type="application/json", **extra)
                tried += 1
                to_login = response.status_code == 302 and "/admin/login/" in response.get("Location", "")
                if response.status_code not in REFUSED and not (to_login and not url.startswith("/api/")):
                    unauthorized.append(f"{who}: {method} {url} → {response.status_code}")
    assert unauthorized == [], unauthorized
    assert tried > 100


def test_staff_routes_refuse_anonymous_visitors(client):
    for route, rule in ROUTES.items():
        if rule == STAFF:
            response = client.get("/" + route)
            assert response.status_code == 302 and "/admin/login/" in response["Location"], route

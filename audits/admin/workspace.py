"""Admin of the compliance workspace: the review queue, classifications and incidents.

Nothing here writes a model directly: decisions go through :mod:`audits.services` (which check roles
and four eyes again) and the audit trail through :mod:`audits.trail`. Forms carry the review's
version, so two people deciding at once get "someone acted first" instead of overwriting each other.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from audits import selectors
from audits.admin_mixins import AuditedAdminMixin
from audits.ai_act import QUESTIONS, SECTIONS, classify
from audits.humanize import waited, when
from audits.models import (
    AuditEvent,
    Classification,
    ClassificationStatus,
    Incident,
    IncidentStep,
    Review,
    ReviewStatus,
)
from audits.services import (
    WorkspaceError,
    classification_approve,
    classification_propose,
    incident_next_statuses,
    incident_note,
    incident_open,
    incident_set_status,
    incident_step_complete,
    review_approve,
    review_comment,
    review_reject,
    review_request_changes,
    review_submit,
)
from datasets.models import DatasetVersion
from datasets.selectors import report_summary, versions_below_threshold, versions_with_latest_report
from disclosure.selectors import item_badge
from magento_bridge.selectors import derivatives_without_marks
from provenance.admin import item_evidence_html
from provenance.admin_mixins import LargeTableAdminMixin


def _admin_link(obj) -> str:
    try:
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return str(obj)
    return format_html('<a href="{}">{}</a>', url, obj)


def _dataset_link(version) -> str:
    """A dataset version, linked to its dataset's page (versions have no page of their own)."""
    url = reverse("admin:datasets_syntheticdataset_change", args=[version.dataset_id])
    return format_html('<a href="{}">{}</a>', url, version)


def _thumbnail(item, size: int = 48) -> str:
    if item is None or item.surface != "product_image" or not item.file_path or item.problem_code:
        return ""
    try:
        url = reverse("magento_bridge:thumbnail", args=[item.pk])
    except NoReverseMatch:
        return ""
    return format_html(
        '<img src="{}" alt="{}" width="{}" height="{}" style="object-fit:contain">',
        url,
        item.label or item.file_path,
        size,
        size,
    )


class OverdueFilter(admin.SimpleListFilter):
    """``?overdue=yes``: the rows the dashboard counts as overdue (its "Needs attention" links here)."""

    title = "deadline"
    parameter_name = "overdue"
    overdue_ids = None  # set by each subclass: () -> ids the dashboard's selector counts as overdue

    def lookups(self, request, model_admin):
        return [("yes", "Overdue")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(pk__in=type(self).overdue_ids())
        return queryset


class ClassificationOverdueFilter(OverdueFilter):
    @staticmethod
    def overdue_ids() -> list[int]:
        return [c.pk for c in selectors.classifications_overdue()]


class IncidentOverdueFilter(OverdueFilter):
    @staticmethod
    def overdue_ids() -> list[int]:
        return [i.pk for i in selectors.incidents_open() if i.is_overdue]


# --- Reviews --------------------------------------------------------------------------------------


def _shopper_view(item) -> dict:
    """What shoppers receive for the item: the badge the public badge API serves, and its URL."""
    shown, badge = item_badge(item)
    if item.surface in ("product_image", "recommendation"):
        query = {"products": item.sku}
    elif item.surface == "cms_block":
        query = {"blocks": item.identifier or str(item.magento_id)}
    else:
        query = {"pages": item.identifier or str(item.magento_id)}
    api = reverse("disclosure_api:disclosures", args=[item.store_code]) if item.store_code else ""
    derivatives = list(item.derivatives.order_by("cache_hash", "path")[:_SHOPPER_DERIVATIVES_SHOWN])
    return {
        "shown": shown.shown,
        "badge": badge,
        "api_url": f"{api}?{urlencode(query)}" if api and all(query.values()) else "",
        "derivatives": [_derivative_layers(d) for d in derivatives],
        "derivatives_total": item.derivatives.count() if derivatives else 0,
        "derivatives_unmarked": derivatives_without_marks().filter(item=item).count() if derivatives else 0,
    }


_SHOPPER_DERIVATIVES_SHOWN = 12


def _derivative_layers(derivative) -> dict:
    """One cached derivative as the review page lists it: its size and the marks it still carries."""
    marks = []
    if derivative.xmp_source_type:
        marks.append("IPTC XMP")
    if derivative.c2pa_state:
        marks.append(f"C2PA ({derivative.c2pa_state})")
    if derivative.watermark_id:
        marks.append("watermark")
    return {
        "path": derivative.path,
        "size": f"{derivative.width}×{derivative.height}" if derivative.width else "",
        "format": derivative.format,
        "marks": marks,
        "recognised": derivative.fingerprint_record_id is not None,
        "problem": derivative.problem,
    }


def _dataset_card(version) -> dict:
    """What a reviewer of a dataset version needs on one screen: the card, the newest report's
    headline scores and its findings (from the datasets room's selectors)."""
    annotated = versions_with_latest_report(DatasetVersion.objects.filter(pk=version.pk)).first()
    dataset = version.dataset
    findings = list(annotated.latest_findings or []) if annotated else []
    return {
        "version": version,
        "dataset": dataset,
        "columns": dataset.schema.get("columns", []),
        "has_report": bool(annotated and annotated.latest_report_id),
        "report_at": annotated.latest_report_at if annotated else None,
        "summary": report_summary(annotated.latest_scores) if annotated else {},
        "findings": findings[:50],
        "findings_total": len(findings),
    }


class QueueFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [
            ("open", "Open (default)"),
            ("awaiting", "Awaiting sign-off"),
            ("closed", "Decided"),
            ("all", "All"),
        ]

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": (self.value() or "open") == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or "open"
        if value == "open":
            return queryset.filter(
                status__in=[ReviewStatus.PENDING, ReviewStatus.IN_REVIEW, ReviewStatus.CHANGES_REQUESTED]
            )
        if value == "awaiting":
            return queryset.filter(status=ReviewStatus.IN_REVIEW)
        if value == "closed":
            return queryset.filter(status__in=[ReviewStatus.APPROVED, ReviewStatus.REJECTED])
        return queryset


class ServedUnmarkedFilter(admin.SimpleListFilter):
    """Reviews of synthetic images that shoppers receive as a derivative with no mark at all."""

    title = "what shoppers receive"
    parameter_name = "served"

    def lookups(self, request, model_admin):
        return [("unmarked", "A derivative with no mark (finding)")]

    def queryset(self, request, queryset):
        if self.value() == "unmarked":
            return queryset.filter(content_item__in=derivatives_without_marks().values("item"))
        return queryset


class TransferFindingFilter(admin.SimpleListFilter):
    """Reviews of generators with a cross-border transfer finding and of the items downstream of them."""

    title = "cross-border transfer"
    parameter_name = "transfer"

    def lookups(self, request, model_admin):
        return [("findings", "On a transfer finding's path (GDPR Chapter V)")]

    def queryset(self, request, queryset):
        if self.value() == "findings":
            transfers = selectors.transfer_findings()
            return queryset.filter(
                Q(content_item_id__in=transfers["item_ids"]) | Q(generator_id__in=transfers["generator_ids"])
            )
        return queryset


class SubjectFilter(admin.SimpleListFilter):
    title = "subject"
    parameter_name = "subject"

    def lookups(self, request, model_admin):
        return [("content", "Content items"), ("generator", "Generators"), ("dataset", "Dataset versions")]

    def queryset(self, request, queryset):
        if self.value() == "content":
            return queryset.filter(content_item__isnull=False)
        if self.value() == "generator":
            return queryset.filter(generator__isnull=False)
        if self.value() == "dataset":
            return queryset.filter(dataset_version__isnull=False)
        return queryset


_DECISIONS = {
    "submit": (review_submit, "Proposed for sign-off"),
    "approve": (review_approve, "Signed off"),
    "request_changes": (review_request_changes, "Changes requested"),
    "reject": (review_reject, "Rejected; takedown requested"),
}


@admin.register(Review)
class ReviewAdmin(LargeTableAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    # Six columns that fit 1366 px beside the navigation and the filters: the title goes under the
    # subject, the version beside the status.
    list_display = (
        "thumb",
        "subject_link",
        "status_label",
        "risk",
        "age",
        "proposed_by",
    )
    list_display_links = None
    list_filter = (QueueFilter, "status", SubjectFilter, ServedUnmarkedFilter, TransferFindingFilter, "risk")
    search_fields = (
        "content_item__sku",
        "content_item__identifier",
        "content_item__title",
        "generator__name",
        "dataset_version__dataset__name",
    )
    list_select_related = ("content_item", "generator", "dataset_version__dataset__generator", "proposed_by")
    ordering = ("-risk", "queued_at", "id")
    list_per_page = 50
    actions = ["propose_selected", "approve_selected"]
    change_form_template = "admin/audits/review/change_form.html"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Review._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_propose_permission(self, request):
        return request.user.has_perm("audits.propose_review")

    def has_approve_permission(self, request):
        return request.user.has_perm("audits.approve_review")

    @admin.display(description="")
    def thumb(self, review: Review):
        return _thumbnail(review.content_item)

    @admin.display(description="Subject")
    def subject_link(self, review: Review):
        url = reverse("admin:audits_review_change", args=[review.pk])
        kind = "Generator" if review.generator_id else "Dataset" if review.dataset_version_id else ""
        return format_html(
            '<a href="{}" class="ws-subject-link">{} {}</a><br><small class="ws-shown-as">{}</small>',
            url,
            kind,
            review.subject,
            self.shown_as(review),
        )

    @admin.display(description="Title / label")
    def shown_as(self, review: Review):
        if review.generator_id:
            return review.generator.provider
        if review.dataset_version_id:
            dataset = review.dataset_version.dataset
            return f"{dataset.get_kind_display()} · {dataset.generator.name}"
        item = review.content_item
        text = item.label or item.title or item.identifier
        return text if len(text) <= 60 else text[:59] + "…"

    def changelist_view(self, request, extra_context=None):
        extra_context = {"title": "Review queue: highest risk first, then oldest", **(extra_context or {})}
        below = versions_below_threshold() if request.method == "GET" else []
        if below and request.user.has_perm("datasets.view_syntheticdataset"):
            shown = below[:5]
            messages.warning(
                request,
                format_html(
                    "{} synthetic dataset version(s) below a threshold or breaking an integrity rule: {}{} "
                    '(<a href="{}">all of them</a>).',
                    len(below),
                    format_html_join(
                        ", ",
                        '<a href="{}">{} v{}</a> ({} finding(s))',
                        (
                            (
                                reverse("admin:datasets_syntheticdataset_change", args=[v.dataset_id]),
                                v.dataset.name,
                                v.number,
                                len(v.latest_findings),
                            )
                            for v in shown
                        ),
                    ),
                    " …" if len(below) > len(shown) else "",
                    reverse("admin:datasets_syntheticdataset_changelist") + "?judged=below",
                ),
            )
        transfers = selectors.transfer_findings() if request.method == "GET" else None
        if transfers and transfers["findings"] and request.user.has_perm("lineage.view_lineagedataset"):
            names = transfers["generator_names"]
            messages.warning(
                request,
                format_html(
                    "{} cross-border transfer finding(s) (GDPR Chapter V) on generator(s) {}{}, with {} "
                    'item(s) downstream: <a href="{}">their reviews</a> (manage.py transfer_check).',
                    transfers["findings"],
                    ", ".join(names[:5]),
                    " …" if len(names) > 5 else "",
                    transfers["items"],
                    reverse("admin:audits_review_changelist") + "?transfer=findings&queue=all",
                ),
            )
        return super().changelist_view(request, extra_context)

    @admin.display(description="Status", ordering="status")
    def status_label(self, review: Review):
        return format_html(
            '<span class="review-status review-{}">{}</span> <small>v{}</small>',
            review.status,
            review.get_status_display(),
            review.version,
        )

    @admin.display(description="Waiting", ordering="queued_at")
    def age(self, review: Review):
        return format_html(
            '<span title="since {}">{}</span>', when(review.queued_at), waited(review.queued_at)
        )

    def _bulk(self, request, queryset, decide, done: str, action: str):
        """Decide on the selected reviews with one comment of what was checked: the first post shows
        the selection and asks for the comment, the second (``apply``) decides."""
        comment = request.POST.get("comment", "").strip()
        if "apply" not in request.POST or not comment:
            if "apply" in request.POST:
                self.message_user(request, "Say what you checked: a comment is required.", messages.ERROR)
            context = {
                **self.admin_site.each_context(request),
                "title": f"{done.split(';')[0]}: say what you checked",
                "opts": self.model._meta,
                "reviews": queryset.select_related("content_item", "generator", "dataset_version__dataset"),
                "action": action,
                "done": done,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/audits/review/bulk_decision.html", context)
        ok, refused = 0, []
        for review in queryset:
            try:
                decide(review=review, actor=request.user, expected_version=review.version, comment=comment)
                ok += 1
            except WorkspaceError as exc:
                refused.append(f"{review.subject}: {exc}")
        if ok:
            self.message_user(request, f"{done}: {ok} review(s).", messages.SUCCESS)
        for line in refused[:10]:
            self.message_user(request, line, messages.ERROR)
        if len(refused) > 10:
            self.message_user(request, f"… and {len(refused) - 10} more refused.", messages.ERROR)
        return None

    @admin.action(description="Propose selected for sign-off", permissions=["propose"])
    def propose_selected(self, request, queryset):
        return self._bulk(request, queryset, review_submit, "Proposed for sign-off", "propose_selected")

    @admin.action(
        description="Sign off selected (four eyes: not your own proposals)", permissions=["approve"]
    )
    def approve_selected(self, request, queryset):
        return self._bulk(request, queryset, review_approve, "Signed off", "approve_selected")

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        review = _by_id_or_404(
            Review.objects.select_related(
                "content_item",
                "generator",
                "dataset_version__dataset__generator",
                "dataset_version__dataset__reference",
            ),
            object_id,
        )
        if request.method == "POST":
            if not self.has_view_permission(request, review):
                raise PermissionDenied
            return self._decide(request, review)
        item = review.content_item
        extra_context = {
            **(extra_context or {}),
            "review": review,
            "evidence": item_evidence_html(item) if item else None,
            "shopper": _shopper_view(item) if item else None,
            "thumbnail": _thumbnail(review.content_item, 160),
            "subject_link": _admin_link(review.dataset_version.dataset)
            if review.dataset_version_id
            else _admin_link(review.subject),
            "dataset_card": _dataset_card(review.dataset_version) if review.dataset_version_id else None,
            "comments": review.comments.select_related("author"),
            "history": AuditEvent.objects.filter(object_type="audits.review", object_id=str(review.pk))[:50],
            "can_propose": self.has_propose_permission(request),
            "can_approve": self.has_approve_permission(request),
            "is_own_proposal": review.proposed_by_id == request.user.pk,
            "show_save": False,
            "title": "Review",
        }
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _decide(self, request, review: Review):
        url = reverse("admin:audits_review_change", args=[review.pk])
        decision = request.POST.get("decision", "")
        comment = request.POST.get("comment", "")
        try:
            version = int(request.POST.get("version", ""))
        except ValueError:
            self.message_user(
                request, "The form is missing the review's version; reload the page.", messages.ERROR
            )
            return HttpResponseRedirect(url)
        try:
            if decision == "comment":
                review_comment(review=review, actor=request.user, body=comment)
                self.message_user(request, "Comment added.", messages.SUCCESS)
            elif decision in _DECISIONS:
                decide, done = _DECISIONS[decision]
                decide(review=review, actor=request.user, expected_version=version, comment=comment)
                self.message_user(request, f"{done}.", messages.SUCCESS)
            else:
                self.message_user(request, "Unknown decision.", messages.ERROR)
        except WorkspaceError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        return HttpResponseRedirect(url)


# --- Classifications ------------------------------------------------------------------------------


class ClassificationForm(forms.ModelForm):
    class Meta:
        model = Classification
        fields = ["generator", "use_case", "notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for q in QUESTIONS:
            self.fields[f"q_{q.key}"] = forms.BooleanField(
                required=False, label=q.text, help_text=f"{q.reference}. {q.help}".strip(". ").strip() + "."
            )


def _by_id_or_404(queryset, object_id):
    """The row whose id is ``object_id`` from a URL, or a 404 for anything that is not one (a word,
    a number beyond the database's integers) rather than a 500."""
    text = str(object_id or "")
    if not (text.isascii() and text.isdigit()) or int(text) >= 2**63:
        raise Http404("No such record.")
    return get_object_or_404(queryset, pk=int(text))


def _question_fieldsets():
    sets = [(None, {"fields": ("generator", "use_case")})]
    for key, title in SECTIONS:
        sets.append((title, {"fields": [f"q_{q.key}" for q in QUESTIONS if q.section == key]}))
    sets.append(("Notes", {"fields": ("notes",)}))
    return sets


@admin.register(Classification)
class ClassificationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = (
        "generator",
        "use_case",
        "version",
        "risk_class",
        "status",
        "proposed_by",
        "approved_by",
        "due",
    )
    list_filter = (ClassificationOverdueFilter, "risk_class", "status", "generator")
    search_fields = ("generator__name", "use_case")
    list_select_related = ("generator", "proposed_by", "approved_by")
    actions = ["approve_selected"]
    change_form_template = "admin/audits/classification/change_form.html"

    def has_change_permission(self, request, obj=None):
        return False  # new answers make a new version (add), approval is an action

    def has_delete_permission(self, request, obj=None):
        return False

    def has_approve_permission(self, request):
        return request.user.has_perm("audits.approve_classification")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ClassificationForm
            kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return _question_fieldsets()
        return [
            (None, {"fields": ("generator", "use_case", "version", "status", "risk_class")}),
            ("Outcome", {"fields": ("obligation_list", "rationale", "notes", "answer_list")}),
            ("Sign-off", {"fields": ("proposed_by", "proposed_at", "approved_by", "approved_at", "due_at")}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [f.name for f in Classification._meta.fields] + ["obligation_list", "answer_list"]

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        source = request.GET.get("from")
        if source and source.isdigit():
            previous = Classification.objects.filter(pk=int(source)).first()
            if previous is not None:
                initial.update(
                    generator=previous.generator_id, use_case=previous.use_case, notes=previous.notes
                )
                initial.update({f"q_{k}": v for k, v in previous.answers.items()})
        return initial

    @admin.display(description="Reclassify by", ordering="due_at")
    def due(self, c: Classification):
        if c.due_at is None:
            return "—"
        if c.is_overdue:
            return format_html('<strong class="overdue">overdue since {}</strong>', c.due_at.date())
        return c.due_at.date()

    @admin.display(description="Obligations")
    def obligation_list(self, c: Classification):
        if not c.obligations:
            return "None beyond good practice."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", "<li><strong>{}</strong>: {}</li>", ((o["article"], o["text"]) for o in c.obligations)
            ),
        )

    @admin.display(description="Answers")
    def answer_list(self, c: Classification):
        rows = ((q.reference, q.text, "yes" if c.answers.get(q.key) else "no") for q in QUESTIONS)
        return format_html(
            "<table>{}</table>", format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
        )

    def save_model(self, request, obj, form, change):
        answers = {q.key: form.cleaned_data.get(f"q_{q.key}", False) for q in QUESTIONS}
        created = classification_propose(
            generator=form.cleaned_data["generator"],
            use_case=form.cleaned_data["use_case"],
            answers=answers,
            notes=form.cleaned_data.get("notes", ""),
            actor=request.user,
        )
        obj.pk = created.pk
        obj.__dict__.update({k: v for k, v in created.__dict__.items() if not k.startswith("_")})
        outcome = classify(answers)
        self.message_user(
            request, f"Proposed: {outcome.label}. Another approver must sign it off.", messages.INFO
        )

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except WorkspaceError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_related(self, request, form, formsets, change):
        pass  # the service saved everything

    def response_add(self, request, obj, post_url_continue=None):
        # Show the outcome (risk class, obligations, rationale) right away.
        return HttpResponseRedirect(reverse("admin:audits_classification_change", args=[obj.pk]))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id and request.method == "POST" and "_approve" in request.POST:
            classification = _by_id_or_404(Classification.objects, object_id)
            try:
                classification_approve(
                    classification=classification, actor=request.user, comment=request.POST.get("comment", "")
                )
                self.message_user(request, "Classification approved.", messages.SUCCESS)
            except WorkspaceError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:audits_classification_change", args=[object_id]))
        if object_id:
            c = _by_id_or_404(Classification.objects, object_id)
            extra_context = {
                **(extra_context or {}),
                "title": "Classification",
                "classification": c,
                "can_approve": self.has_approve_permission(request)
                and c.status == ClassificationStatus.PROPOSED,
                "is_own_proposal": c.proposed_by_id == request.user.pk,
                "can_reclassify": request.user.has_perm("audits.add_classification"),
                "versions": Classification.objects.filter(generator=c.generator, use_case=c.use_case),
            }
        return super().changeform_view(request, object_id, form_url, extra_context)

    @admin.action(description="Approve selected (four eyes: not your own proposals)", permissions=["approve"])
    def approve_selected(self, request, queryset):
        ok = 0
        for c in queryset:
            try:
                classification_approve(classification=c, actor=request.user)
                ok += 1
            except WorkspaceError as exc:
                self.message_user(request, f"{c}: {exc}", messages.ERROR)
        if ok:
            self.message_user(request, f"Approved {ok} classification(s).", messages.SUCCESS)


# --- Incidents ------------------------------------------------------------------------------------


class IncidentForm(forms.ModelForm):
    class Meta:
        model = Incident
        fields = ["title", "severity", "aware_at", "description", "content_items", "generators"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        widget = self.fields["aware_at"].widget if "aware_at" in self.fields else None
        if isinstance(widget, forms.MultiWidget):  # the admin's date and time boxes: name each one
            for part, name in zip(widget.widgets, ("Date aware", "Time aware"), strict=False):
                part.attrs["aria-label"] = name


@admin.register(Incident)
class IncidentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = IncidentForm
    list_display = ("title", "severity", "status", "deadline", "steps_done", "created_at")
    list_filter = (IncidentOverdueFilter, "status", "severity")
    search_fields = ("title", "description")
    autocomplete_fields = ("content_items", "generators")
    change_form_template = "admin/audits/incident/change_form.html"

    class Media:
        js = ("audits/autocomplete-labels.js",)

    def get_changeform_initial_data(self, request):
        return {"aware_at": timezone.now(), **super().get_changeform_initial_data(request)}

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [f.name for f in Incident._meta.fields] + ["content_items", "generators", "dataset_versions"]

    @admin.display(description="Report due (Art. 73)", ordering="report_due_at")
    def deadline(self, incident: Incident):
        if incident.reported_at:
            return format_html("reported {}", when(incident.reported_at))
        if incident.report_due_at is None:
            return "no deadline"
        if incident.is_overdue:
            return format_html(
                '<strong class="overdue">OVERDUE since {}</strong>', when(incident.report_due_at)
            )
        if not incident.is_open:
            return "—"
        return format_html(
            "{} (in {})",
            when(incident.report_due_at),
            timesince(timezone.now(), incident.report_due_at, depth=1),
        )

    @admin.display(description="Plan")
    def steps_done(self, incident: Incident):
        steps = list(incident.steps.all())
        return f"{sum(1 for s in steps if s.done_at)}/{len(steps)} done"

    def save_model(self, request, obj, form, change):
        if change:
            raise PermissionDenied("Incidents change through their status, steps and notes.")
        data = form.cleaned_data
        created = incident_open(
            title=data["title"],
            severity=data["severity"],
            aware_at=data["aware_at"],
            description=data.get("description", ""),
            actor=request.user,
            content_items=data.get("content_items") or [],
            generators=data.get("generators") or [],
        )
        obj.pk = created.pk
        obj.__dict__.update({k: v for k, v in created.__dict__.items() if not k.startswith("_")})

    def save_related(self, request, form, formsets, change):
        pass  # the service linked the items and generators

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(request, "Incident opened with its response plan.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:audits_incident_change", args=[obj.pk]))

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except WorkspaceError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id is None:
            return super().changeform_view(request, object_id, form_url, extra_context)
        incident = _by_id_or_404(Incident.objects, object_id)
        url = reverse("admin:audits_incident_change", args=[incident.pk])
        if request.method == "POST":
            try:
                if "step" in request.POST:
                    step = get_object_or_404(IncidentStep, pk=request.POST["step"], incident=incident)
                    incident_step_complete(step=step, actor=request.user)
                elif "status" in request.POST:
                    incident_set_status(
                        incident=incident,
                        status=request.POST["status"],
                        actor=request.user,
                        note=request.POST.get("note", ""),
                    )
                else:
                    incident_note(incident=incident, actor=request.user, text=request.POST.get("note", ""))
                self.message_user(request, "Saved.", messages.SUCCESS)
            except WorkspaceError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(url)
        extra_context = {
            **(extra_context or {}),
            "incident": incident,
            "steps": incident.steps.select_related("done_by"),
            "updates": incident.updates.select_related("actor"),
            "can_work": request.user.has_perm("audits.change_incident"),
            "next_statuses": incident_next_statuses(incident),
            "title": "Incident",
            "linked_items": [_admin_link(i) for i in incident.content_items.all()[:50]],
            "linked_generators": [_admin_link(g) for g in incident.generators.all()],
            "linked_datasets": [
                _dataset_link(v) for v in incident.dataset_versions.select_related("dataset")
            ],
        }
        return super().changeform_view(request, object_id, form_url, extra_context)

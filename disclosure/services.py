"""Writes: policy versions, the audit switch and storefront settings, each change logged.

Every change is recorded in the transparency log (:mod:`provenance.log`) in the same transaction:
``disclosure.policy`` with the version's public wording, ``disclosure.switch`` with the new mode.
Payloads are public: no user names, no personal data. After commit the store view's cached state
is dropped and its manifests are republished.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from disclosure.defaults import default_text
from disclosure.models import (
    AuditSwitch,
    BadgeIcon,
    DisclosureKind,
    DisclosurePolicy,
    StorefrontSettings,
    SwitchMode,
)
from disclosure.selectors import PAUSE_CACHE_KEY, state_cache_key, store_state_forget
from provenance.log import log_append
from provenance.models import Surface
from provenance.services import registry_store_codes


class DisclosureError(ValueError):
    """A change that cannot be made; ``field`` names the offending argument."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def disclosure_changed(*, store_code: str = "") -> None:
    """After commit: forget the cached state of a store view (or all, for ``""``) and republish."""

    codes = [store_code] if store_code else _store_codes()
    keys = [PAUSE_CACHE_KEY, *(state_cache_key(code) for code in codes)]
    # Now (this process reads its own writes) and again after commit (others may have cached the
    # old state in between).
    cache.delete_many(keys)
    store_state_forget(store_code)

    def run() -> None:
        cache.delete_many(keys)
        store_state_forget(store_code)
        from disclosure.tasks import disclosure_publish_task

        for code in codes:
            disclosure_publish_task.delay(code)

    transaction.on_commit(run)


def _store_codes() -> list[str]:
    codes = set(StorefrontSettings.objects.values_list("store_code", flat=True))
    codes.update(registry_store_codes())
    return sorted(codes)


def _check_choice(value: str, choices, field: str) -> None:
    if value not in choices:
        raise DisclosureError(f"{field} must be one of {', '.join(choices)}, not {value!r}", field=field)


def policy_version_create(
    *,
    store_code: str,
    surface: str,
    kind: str,
    locale: str,
    label: str,
    explanation: str,
    learn_more_url: str = "",
    icon: str = BadgeIcon.SPARKLE,
    actor=None,
) -> DisclosurePolicy:
    """Write the next version of the policy (``store_code``, ``surface``, ``kind``) and log it."""
    with transaction.atomic():
        policy = _policy_version_write(
            store_code=store_code,
            surface=surface,
            kind=kind,
            locale=locale,
            label=label,
            explanation=explanation,
            learn_more_url=learn_more_url,
            icon=icon,
            actor=actor,
        )
        disclosure_changed(store_code=store_code)
    return policy


def _policy_version_write(
    *, store_code, surface, kind, locale, label, explanation, learn_more_url, icon, actor
) -> DisclosurePolicy:
    _check_choice(surface, Surface.values, "surface")
    _check_choice(kind, DisclosureKind.values, "kind")
    _check_choice(icon, BadgeIcon.values, "icon")
    label, explanation = label.strip(), explanation.strip()
    if not label:
        raise DisclosureError("The badge needs a label.", field="label")
    if not explanation:
        raise DisclosureError("The badge needs an explanation.", field="explanation")
    learn_more_url = learn_more_url.strip()
    if learn_more_url and not learn_more_url.lower().startswith(("https://", "http://")):
        raise DisclosureError("The learn-more URL must be an http(s) URL.", field="learn_more_url")
    with transaction.atomic():
        latest = (
            DisclosurePolicy.objects.select_for_update()
            .filter(store_code=store_code, surface=surface, kind=kind)
            .aggregate(v=Max("version"))["v"]
        )
        policy = DisclosurePolicy(
            store_code=store_code,
            surface=surface,
            kind=kind,
            version=(latest or 0) + 1,
            locale=locale,
            label=label,
            explanation=explanation,
            learn_more_url=learn_more_url,
            icon=icon,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        try:
            policy.full_clean()
        except ValidationError as exc:
            field, messages = next(iter(exc.message_dict.items()))
            raise DisclosureError(f"{field}: {' '.join(messages)}", field=field) from None
        policy.save()
        payload = policy.public_fields()
        payload["disclosure_kind"] = payload.pop("kind")  # "kind" is the log entry's own key
        entry = log_append(kind="disclosure.policy", payload=payload)
        policy.log_index = entry.index
        policy.save(update_fields=["log_index"])
    return policy


def policy_defaults_install(
    *, locales: Mapping[str, str] | None = None, actor=None
) -> list[DisclosurePolicy]:
    """Write version 1 of every default policy that has no version yet; idempotent.

    The all-stores policies are English; ``locales`` maps store view codes to a locale such as
    ``de_DE`` and writes that store view's own policies in its language.
    """
    targets = [("", "en_US")]
    targets += [(code, locale) for code, locale in (locales or {}).items() if code]
    created = []
    with transaction.atomic():
        _defaults_write(targets, created, actor)
        if created:
            disclosure_changed()
    return created


def _defaults_write(targets: list[tuple[str, str]], created: list[DisclosurePolicy], actor) -> None:
    for store_code, locale in targets:
        for surface in Surface.values:
            for kind in DisclosureKind.values:
                if DisclosurePolicy.objects.filter(
                    store_code=store_code, surface=surface, kind=kind
                ).exists():
                    continue
                label, explanation = default_text(locale, surface, kind)
                created.append(
                    _policy_version_write(
                        store_code=store_code,
                        surface=surface,
                        kind=kind,
                        locale=locale,
                        label=label,
                        explanation=explanation,
                        learn_more_url="",
                        icon=BadgeIcon.SPARKLE,
                        actor=actor,
                    )
                )


def audit_switch_set(
    *,
    store_code: str,
    surface: str,
    mode: str = SwitchMode.SHOW,
    pause_generation: bool = False,
    reason: str = "",
    actor=None,
) -> AuditSwitch:
    """Set one store view's surface to ``mode`` (and pause or resume generation); logged when changed."""
    _check_choice(surface, Surface.values, "surface")
    _check_choice(mode, SwitchMode.values, "mode")
    if not store_code:
        raise DisclosureError("A store view code is required.", field="store_code")
    with transaction.atomic():
        switch, _ = AuditSwitch.objects.select_for_update().get_or_create(
            store_code=store_code, surface=surface
        )
        if switch.log_index is not None and (switch.mode, switch.pause_generation) == (
            mode,
            pause_generation,
        ):
            return switch
        switch.mode = mode
        switch.pause_generation = pause_generation
        switch.reason = reason[:300]
        switch.changed_by = actor if getattr(actor, "pk", None) else None
        entry = log_append(
            kind="disclosure.switch",
            payload={
                "store_code": store_code,
                "surface": surface,
                "mode": mode,
                "pause_generation": pause_generation,
            },
        )
        switch.log_index = entry.index
        switch.save(
            update_fields=["mode", "pause_generation", "reason", "changed_by", "changed_at", "log_index"]
        )
        disclosure_changed(store_code=store_code)
    return switch


def storefront_settings_set(
    *, store_code: str, allowed_origins: list[str] | None = None, badge_suspected: bool | None = None
) -> StorefrontSettings:
    """Create or update a store view's storefront settings (CORS origins, badging suspected content)."""
    if not store_code:
        raise DisclosureError("A store view code is required.", field="store_code")
    for origin in allowed_origins or []:
        origin_check(origin)
    with transaction.atomic():
        config, _ = StorefrontSettings.objects.select_for_update().get_or_create(store_code=store_code)
        fields = ["updated_at"]
        if allowed_origins is not None:
            config.allowed_origins = "\n".join(o.rstrip("/") for o in allowed_origins)
            fields.append("allowed_origins")
        if badge_suspected is not None:
            config.badge_suspected = badge_suspected
            fields.append("badge_suspected")
        config.save(update_fields=fields)
        disclosure_changed(store_code=store_code)
    return config


def origin_check(origin: str) -> str:
    """An origin is ``scheme://host[:port]`` with no path; raises :class:`DisclosureError` otherwise."""
    from urllib.parse import urlsplit

    value = origin.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query or "@" in value:
        raise DisclosureError(
            f"{origin!r} is not an origin like https://shop.example.com (no path)", field="allowed_origins"
        )
    return value

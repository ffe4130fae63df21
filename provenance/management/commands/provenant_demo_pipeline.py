"""``python manage.py provenant_demo_pipeline``: a demo generation pipeline that marks an image."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from PIL import Image, ImageDraw

from provenance.auth import api_client_create, api_token_rotate
from provenance.images import SigningUnavailable, image_mark
from provenance.models import ApiClient, ApiScope, Generator

GENERATOR = "Demo image studio"
CLIENT = "demo-image-pipeline"
DEMO_PROMPT = "A blue medicine bottle with a white cap on a pale background, product photo"


class Command(BaseCommand):
    help = (
        "Register the demo generator and a demo pipeline client (scopes records:write and images:mark), "
        "print the client's new token, and mark one generated sample image with IPTC XMP and a signed "
        "C2PA manifest, written to --out. Refuses to run unless PROVENANT_DEBUG is on."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--out",
            default=None,
            help="where to write the marked sample (default: <PROVENANT_VAR_DIR>/demo-marked.png)",
        )

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("refusing to create a demo pipeline outside PROVENANT_DEBUG=1")
        generator, _ = Generator.objects.get_or_create(
            name=GENERATOR,
            defaults={
                "provider": "Provenant demo",
                "version": "2.1",
                "intended_use": "Product photography for the demo catalog; never patient images.",
                "data_sources": "Licensed stock product photography.",
            },
        )
        client = ApiClient.objects.filter(name=CLIENT).first()
        if client is None:
            issued = api_client_create(
                name=CLIENT,
                scopes=[ApiScope.RECORDS_WRITE, ApiScope.IMAGES_MARK],
                note="Demo pipeline created by provenant_demo_pipeline.",
                actor="provenant_demo_pipeline",
            )
            client = issued.client
        else:
            issued = api_token_rotate(client=client, actor="provenant_demo_pipeline")
        self.stdout.write(f"Demo pipeline client {CLIENT!r}, token (shown once): {issued.token}")

        out = Path(options["out"] or Path(settings.VAR_DIR) / "demo-marked.png")
        try:
            marked = image_mark(
                data=_sample_png(),
                generator=generator,
                generator_version=generator.version,
                prompt_sha256=hashlib.sha256(DEMO_PROMPT.encode("utf-8")).hexdigest(),
                input_sha256s=[],
                parameters={"seed": 7, "steps": 30},
                generated_at=timezone.now(),
                external_id=f"demo-sample-{timezone.now():%Y%m%dT%H%M%S%f}",
                title="Demo product shot",
                actor=client,
            )
        except SigningUnavailable as exc:
            self.stdout.write(self.style.WARNING(f"No sample marked: {exc}"))
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(marked.data)
        self.stdout.write(
            self.style.SUCCESS(
                f"Marked a sample image: {out} (record {marked.record.pk}, sha256 {marked.sha256})."
            )
        )


def _sample_png() -> bytes:
    image = Image.new("RGB", (320, 240), (236, 242, 248))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((110, 40, 210, 200), radius=18, fill=(40, 110, 170))
    draw.rectangle((125, 20, 195, 48), fill=(230, 230, 230))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()

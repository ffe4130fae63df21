"""``python manage.py provenance_mark IN OUT --generator NAME``: mark a generated image."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from provenance.images import ImageMarkError, ImageRejected, image_mark
from provenance.models import ApiClient, Generator
from provenance.records import datetime_in_range
from provenance.standards.media_marks import TRAINED_ALGORITHMIC_MEDIA, generative_source_type

CLI_CLIENT = "provenance-cli"


class Command(BaseCommand):
    help = (
        "Mark a generated image the way POST /api/v1/provenance/images does: embed an imperceptible "
        "watermark (a short id the registry resolves) and take its ISCC Image-Code, write the IPTC "
        "DigitalSourceType into its XMP, sign a C2PA manifest (c2pa.created, the generator as software "
        "agent, the Image-Code as c2pa.soft-binding) with PROVENANT_C2PA_CERT_FILE / "
        "PROVENANT_C2PA_KEY_FILE, register a generation record "
        "with the SHA-256 of the marked file, and write that file to OUT. JPEG, PNG and WebP."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("input", metavar="IN", help="the generated image (JPEG, PNG or WebP)")
        parser.add_argument("output", metavar="OUT", help="where to write the marked image (not overwritten)")
        parser.add_argument("--generator", required=True, help="a registered generator's name")
        parser.add_argument(
            "--generator-version", default="", help="the version that generated it (default: the generator's)"
        )
        prompt = parser.add_mutually_exclusive_group()
        prompt.add_argument("--prompt-text", help="the prompt: hashed and discarded, never stored")
        prompt.add_argument("--prompt-sha256", help="SHA-256 of the prompt's UTF-8 bytes")
        parser.add_argument(
            "--input-sha256", action="append", default=[], help="SHA-256 of an input; repeat for several"
        )
        parser.add_argument("--parameters", default="{}", help="generation parameters as a JSON object")
        parser.add_argument(
            "--generated-at", help="when it was generated, ISO 8601 with a UTC offset (default: now)"
        )
        parser.add_argument(
            "--external-id", help="the pipeline's id for this output (default: sha256:<hash of IN>)"
        )
        parser.add_argument("--pipeline-run-id", default="")
        parser.add_argument("--title", default="", help="title for the manifest and XMP")
        parser.add_argument(
            "--digital-source-type",
            default=TRAINED_ALGORITHMIC_MEDIA,
            help="IPTC digital source type (default: trainedAlgorithmicMedia)",
        )
        parser.add_argument(
            "--client",
            default=CLI_CLIENT,
            help=f"API client the record is registered under (default: {CLI_CLIENT}, created if missing)",
        )

    def handle(self, *args, **options) -> None:
        source, target = Path(options["input"]), Path(options["output"])
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {source}: {exc.strerror}") from None
        if target.exists():
            raise CommandError(f"{target} exists; refusing to overwrite it")
        generator = Generator.objects.filter(name=options["generator"]).first()
        if generator is None:
            raise CommandError(f"unknown generator {options['generator']!r}; register it in the admin first")
        try:
            source_type = generative_source_type(options["digital_source_type"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        try:
            parameters = json.loads(options["parameters"])
        except ValueError as exc:
            raise CommandError(f"--parameters is not JSON: {exc}") from None
        if not isinstance(parameters, dict):
            raise CommandError("--parameters must be a JSON object")
        client, _ = ApiClient.objects.get_or_create(
            name=options["client"], defaults={"note": "Generation records of images marked from the CLI."}
        )
        try:
            marked = image_mark(
                data=data,
                generator=generator,
                generator_version=options["generator_version"] or generator.version or "unknown",
                prompt_sha256=self._prompt_sha256(options),
                input_sha256s=[self._sha256(h, "--input-sha256") for h in options["input_sha256"]],
                parameters=parameters,
                generated_at=self._generated_at(options["generated_at"]),
                external_id=options["external_id"] or f"sha256:{hashlib.sha256(data).hexdigest()}",
                pipeline_run_id=options["pipeline_run_id"],
                digital_source_type=source_type,
                title=options["title"],
                actor=client,
            )
        except ImageRejected as exc:
            raise CommandError(f"{source}: {exc}") from None
        except ImageMarkError as exc:
            raise CommandError(str(exc)) from None
        target.parent.mkdir(parents=True, exist_ok=True)
        with os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), "wb") as f:
            f.write(marked.data)
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {target} ({marked.media_type}, {len(marked.data)} bytes).")
        )
        self.stdout.write(f"SHA-256: {marked.sha256}")
        self.stdout.write(f"Generation record {marked.record.pk}, log entry #{marked.record.log_index}.")
        if marked.marks.watermark_id is not None:
            self.stdout.write(f"Watermark: short id {marked.marks.watermark_id:012x}.")
        else:
            self.stdout.write(f"Watermark: none, marked with metadata only ({marked.marks.watermark_note}).")
        self.stdout.write(f"Fingerprint: {marked.marks.code.iscc}")

    @staticmethod
    def _sha256(value: str, option: str) -> str:
        value = value.strip().lower()
        if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
            raise CommandError(f"{option} must be 64 hexadecimal digits")
        return value

    def _prompt_sha256(self, options: dict) -> str:
        if options["prompt_sha256"]:
            return self._sha256(options["prompt_sha256"], "--prompt-sha256")
        return hashlib.sha256((options["prompt_text"] or "").encode("utf-8")).hexdigest()

    @staticmethod
    def _generated_at(value: str | None) -> datetime:
        if not value:
            return timezone.now()
        parsed = parse_datetime(value)
        if parsed is None or timezone.is_naive(parsed):
            raise CommandError("--generated-at must be ISO 8601 with a UTC offset, e.g. 2026-01-31T09:30:00Z")
        if not datetime_in_range(parsed):
            raise CommandError("--generated-at must lie in the years 1970 to 9999 once converted to UTC")
        return parsed

"""The reviewer's desk as its users see it, in Chromium at 1366×768 and 390×844: the review queue,
a review, the package list, the questionnaire, a classification, the incident form and the dashboard
fit the window, are axe-clean, and the package index and its risk matrix print readably (PDF)."""

from __future__ import annotations

import json
import os
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from audits.models import AuditPackage, Review
from audits.roles import Role
from audits.services import classification_approve, classification_propose, incident_open, review_submit
from provenance.checkpoints import checkpoint_sign
from provenance.models import Generator
from provenance.standards.notes import generate_signer
from tests.browser.storefront_server import NODE_MODULES
from tests.browser.test_workspace_browser import Session, workspace  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = os.environ.get("PROVENANT_SCREENSHOTS")
VIEWPORTS = {"desktop": (1366, 768), "phone": (390, 844)}
AXE = NODE_MODULES / "axe-core" / "axe.min.js"

# Everything inside #content that sticks out past the window's right edge (ignoring scroll boxes'
# contents, which scroll on purpose, and hidden elements).
_OVERFLOW = """() => {
  const limit = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll('#content *')) {
    const box = el.getBoundingClientRect();
    if (!box.width || box.right <= limit + 1) continue;
    let scroller = el.parentElement, inside = false;
    while (scroller && scroller.id !== 'content') {
      const style = getComputedStyle(scroller);
      if (['auto', 'scroll', 'hidden'].includes(style.overflowX)) { inside = true; break; }
      scroller = scroller.parentElement;
    }
    if (!inside) out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : '') +
      ' right=' + Math.round(box.right));
  }
  return out.slice(0, 10);
}"""
# Tables whose own scroll box hides columns (Django wraps change lists in an overflow box).
_HIDDEN_COLUMNS = """() => [...document.querySelectorAll('#content table')]
  .filter(t => t.scrollWidth > t.parentElement.clientWidth + 1)
  .map(t => (t.id || t.className || 'table') + ' ' + t.scrollWidth + '>' + t.parentElement.clientWidth)"""


def axe_violations(page) -> list[str]:
    # Evaluated through the browser's protocol, not a <script>: the admin's CSP forbids inline code.
    page.evaluate(AXE.read_text())
    results = page.evaluate(
        # preload off: axe would fetch the stylesheets itself and resolve the admin's @import against
        # the page's URL instead of the stylesheet's.
        "() => axe.run(document, {preload: false, "
        "runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})"
    )
    return [
        f"{v['id']}: {v['help']} ({', '.join(n['target'][0] for n in v['nodes'][:3])})"
        for v in results["violations"]
    ]


@pytest.fixture
def desk(workspace, settings, tmp_path):  # noqa: F811 - the imported fixture
    """The workspace lived in: proposals, classifications, incidents, two built audit packages."""
    _, private_key = generate_signer("provenant.test/log")
    settings.LOG_SIGNING_KEY = private_key
    settings.LOG_ORIGIN = "provenant.test/log"
    settings.TSA_URL = ""
    settings.AUDIT_PACKAGE_DIR = tmp_path / "packages"
    reviewer, approver = workspace[Role.REVIEWER], workspace[Role.APPROVER]
    for review in list(Review.objects.filter(content_item__isnull=False)[:6]):
        review_submit(
            review=review, actor=reviewer, expected_version=review.version, comment="Checked the evidence"
        )
    generator = Generator.objects.get()
    proposal = classification_propose(
        generator=generator,
        use_case="Product images",
        answers={"deployer": True, "provider": True, "generates_synthetic": True},
        actor=reviewer,
    )
    classification = classification_approve(classification=proposal, actor=approver, comment="ok")
    incident = incident_open(
        title="Generated page overstates a supplement's effect",
        severity="serious",
        actor=reviewer,
        aware_at=timezone.now() - timedelta(days=2),
    )
    checkpoint_sign()
    for name in ("first.zip", "second.zip"):
        call_command("audit_package", "--out", str(tmp_path / name), "--quiet")
    return {
        "classification": classification,
        "incident": incident,
        "review": Review.objects.filter(content_item__isnull=False, status="in_review").first(),
        "package": tmp_path / "second.zip",
    }


def pages(desk) -> dict[str, str]:
    return {
        "review-queue": "/admin/audits/review/",
        "review": f"/admin/audits/review/{desk['review'].pk}/change/",
        "package-list": "/admin/audits/auditpackage/",
        "package": f"/admin/audits/auditpackage/{AuditPackage.objects.order_by('-id').first().pk}/change/",
        "questionnaire": "/admin/audits/classification/add/",
        "classification": f"/admin/audits/classification/{desk['classification'].pk}/change/",
        "incident-form": "/admin/audits/incident/add/",
        "incident": f"/admin/audits/incident/{desk['incident'].pk}/change/",
        "dashboard": "/admin/workspace/dashboard/",
    }


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_the_desk_fits_the_window_and_is_axe_clean(browser, live_server, desk, viewport, tmp_path):
    width, height = VIEWPORTS[viewport]
    session = Session(browser, live_server, "administrator", width=width)
    session.page.set_viewport_size({"width": width, "height": height})
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    problems = {}
    for name, path in pages(desk).items():
        assert session.open(path) == 200, path
        session.page.screenshot(path=str(folder / f"desk-{name}-{width}.png"), full_page=True)
        found = session.page.evaluate(_OVERFLOW)
        if viewport == "desktop":
            found += session.page.evaluate(_HIDDEN_COLUMNS)
        if name == "questionnaire" and viewport == "desktop":
            # Each question reads across the form: none wraps inside the 160 px label column.
            narrow = session.page.eval_on_selector_all(
                "label.vCheckboxLabel",
                "ls => ls.filter(l => { const b = l.getBoundingClientRect(); "
                "return b.height > 30 && b.width < 400; }).map(l => l.textContent.slice(0, 40))",
            )
            found += [f"question in a narrow column: {text}" for text in narrow[:3]]
        found += axe_violations(session.page)
        if found:
            problems[name] = found
    assert problems == {}, json.dumps(problems, indent=1)
    assert session.errors == []
    session.close()


def test_the_package_index_and_risk_matrix_print_readably(browser, desk, tmp_path):
    folder = tmp_path / "unpacked"
    zipfile.ZipFile(desk["package"]).extractall(folder)
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    # The printable width at 96 dpi inside 12 mm margins: A4 portrait, and landscape for the matrix.
    for name, printable in (("index.html", 703), ("risk/risk-matrix.html", 1032)):
        page.goto((folder / name).as_uri())
        page.emulate_media(media="print")
        page.set_viewport_size({"width": printable, "height": 1000})
        overflow = page.evaluate(_OVERFLOW.replace("#content", "body"))
        assert overflow == [], f"{name}: {overflow}"
        pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
        assert pdf.startswith(b"%PDF") and len(pdf) > 5000
        (tmp_path / (Path(name).stem + ".pdf")).write_bytes(pdf)
        if SCREENSHOTS:
            (Path(SCREENSHOTS) / f"package-{Path(name).stem}.pdf").write_bytes(pdf)
        page.emulate_media(media="screen")
    context.close()

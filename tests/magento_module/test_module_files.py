"""The Magento module without Magento: PHP syntax, well-formed XML, PHPUnit, and the files it must have."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.conftest import tool_required

MODULE = Path(__file__).resolve().parents[2] / "magento-module"
PHP_FILES = sorted(p for p in MODULE.rglob("*") if p.suffix in (".php", ".phtml"))
XML_FILES = sorted(p for p in MODULE.rglob("*.xml")) + sorted(MODULE.rglob("*.xml.dist"))


def _tool(name: str) -> str:
    return tool_required(name, "php-cli, php-xml, phpunit")


def test_the_module_has_the_files_magento_expects():
    for name in (
        "registration.php",
        "composer.json",
        "etc/module.xml",
        "etc/config.xml",
        "etc/adminhtml/system.xml",
        "etc/acl.xml",
        "etc/di.xml",
        "view/frontend/requirejs-config.js",
        "view/frontend/web/js/disclosure.js",
        "view/frontend/layout/catalog_product_view.xml",
        "view/frontend/layout/cms_page_view.xml",
        "view/frontend/layout/cms_index_index.xml",
        "README.md",
    ):
        assert (MODULE / name).is_file(), name
    composer = json.loads((MODULE / "composer.json").read_text())
    assert composer["type"] == "magento2-module"
    assert composer["autoload"]["files"] == ["registration.php"]
    assert composer["autoload"]["psr-4"] == {"Provenant\\Disclosure\\": ""}


@pytest.mark.parametrize("path", PHP_FILES, ids=lambda p: str(p.relative_to(MODULE)))
def test_php_files_parse(path):
    result = subprocess.run([_tool("php"), "-l", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", XML_FILES, ids=lambda p: str(p.relative_to(MODULE)))
def test_xml_files_are_well_formed(path):
    ElementTree.parse(path)


def test_the_csp_collector_is_registered_globally():
    root = ElementTree.parse(MODULE / "etc" / "di.xml").getroot()
    types = {t.get("name"): t for t in root.iter("type")}
    items = types["Magento\\Csp\\Model\\CompositePolicyCollector"].iter("item")
    assert "Provenant\\Disclosure\\Model\\Csp\\SidecarPolicyCollector" in [i.text for i in items]


def test_templates_carry_no_inline_javascript():
    for template in (MODULE / "view").rglob("*.phtml"):
        text = template.read_text()
        for line in text.splitlines():
            if "<script" in line:
                assert 'type="text/x-magento-init"' in line or " src=" in line, (template.name, line)
        assert not re.search(r"\son[a-z]+\s*=", text), f"{template.name} has an inline event handler"


def test_phpunit_passes():
    result = subprocess.run(
        [_tool("phpunit"), "-c", str(MODULE / "phpunit.xml.dist")], capture_output=True, text=True, cwd=MODULE
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK (" in result.stdout

# Provenant: `make demo` for a running demo, `make test` for the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Optional extras: `make install EXTRAS=dev,mysql` adds mysqlclient (needs libmariadb-dev, pkg-config, gcc).
EXTRAS ?= dev
STAMP := $(VENV)/.installed-$(EXTRAS)
DEMO_PRODUCTS ?= 120
DEMO_ENV := PROVENANT_DEBUG=1 \
	PROVENANT_LOG_ORIGIN=demo.provenant.localhost/log \
	PROVENANT_LOG_KEY_FILE=var/demo/log-signing.key \
	PROVENANT_C2PA_CERT_FILE=var/demo/c2pa/signer-chain.pem \
	PROVENANT_C2PA_KEY_FILE=var/demo/c2pa/signer.key \
	PROVENANT_C2PA_TRUST_ANCHORS_FILE=var/demo/c2pa/ca.pem \
	MAGENTO_DATABASE_URL=sqlite:///var/demo/magento.sqlite3 \
	MAGENTO_MEDIA_ROOT=var/demo/media \
	PROVENANT_DISCLOSURE_PUBLISH_DIR=var/demo/manifests \
	PROVENANT_DATASET_STORAGE_DIR=var/demo/datasets/stored \
	DATABASE_URL=sqlite:///var/demo/provenant.sqlite3

.PHONY: install demo demo-data test test-deps lint format audit-deps bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	$(BIN)/python -m pip install --quiet --no-deps invisible-watermark==0.2.0
	touch $(STAMP)

install: $(STAMP)

demo-data: install
	mkdir -p var/demo
	test -f var/demo/log-signing.key || PROVENANT_DEBUG=1 $(BIN)/python manage.py provenance_keygen \
		--name demo.provenant.localhost/log --out var/demo/log-signing.key
	test -f var/demo/c2pa/signer.key || PROVENANT_DEBUG=1 $(BIN)/python manage.py provenance_keygen \
		--c2pa --organisation "Provenant demo" --out var/demo/c2pa
	$(DEMO_ENV) $(BIN)/python manage.py migrate --no-input
	$(DEMO_ENV) $(BIN)/python manage.py disclosure_defaults --locale de=de_DE
	$(DEMO_ENV) $(BIN)/python manage.py magento_demo_store --products $(DEMO_PRODUCTS) --seed 7
	$(DEMO_ENV) $(BIN)/python manage.py magento_sync --full --no-progress
	$(DEMO_ENV) $(BIN)/python manage.py provenant_demo_pipeline --out var/demo/demo-marked.png
	$(DEMO_ENV) $(BIN)/python manage.py dataset_demo --dir var/demo/datasets
	$(DEMO_ENV) $(BIN)/python manage.py lineage_demo
	$(DEMO_ENV) $(BIN)/python manage.py provenance_checkpoint
	$(DEMO_ENV) $(BIN)/python manage.py provenance_verify
	$(DEMO_ENV) $(BIN)/python manage.py provenant_demo_user
	$(DEMO_ENV) $(BIN)/python manage.py audits_demo_users
	$(DEMO_ENV) $(BIN)/python manage.py audit_separation_scan

demo: demo-data
	@echo "Provenant admin: http://127.0.0.1:8000/admin/ (login printed above)"
	@echo "Demo storefront with badges: http://127.0.0.1:8000/demo/storefront/default/ and .../de/"
	$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

# The suite's non-Python tools: npm lock installed, system tools checked (TEST_TOOLS=skip to go on without).
test-deps:
	TEST_TOOLS=$(TEST_TOOLS) .ci/test-deps

test: install test-deps
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Known vulnerabilities in the installed dependencies (pip-audit); an unreachable vulnerability
# service is reported loudly and does not fail (AUDIT_STRICT=1 makes it fail).
audit-deps: install
	$(BIN)/python .ci/audit_deps.py $(if $(AUDIT_STRICT),--strict)

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python bench/sync.py
	$(BIN)/python bench/rest_sync.py
	$(BIN)/python bench/log.py
	$(BIN)/python bench/tiles.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/media.py
	$(BIN)/python bench/marks.py
	$(BIN)/python bench/audit.py
	$(BIN)/python bench/disclosure.py
	$(BIN)/python bench/package.py
	$(BIN)/python bench/separation.py
	$(BIN)/python bench/lineage.py
	$(BIN)/python bench/faults.py
	$(BIN)/python bench/load.py

clean:
	rm -rf var/demo var/packages

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# Debian's Chromium for the disclosure-coverage simulation (Playwright never downloads a browser).
RUN apt-get update && apt-get install -y --no-install-recommends chromium libmariadb-dev pkg-config gcc && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY sidecar sidecar
COPY magento_bridge magento_bridge
COPY provenance provenance
COPY disclosure disclosure
COPY audits audits
COPY datasets datasets
COPY lineage lineage
COPY consent consent
COPY templates templates
COPY static static
COPY manage.py ./
RUN pip install --no-cache-dir -e ".[mysql,s3]" && pip install --no-cache-dir --no-deps invisible-watermark==0.2.0 && useradd --system --home /app provenant && mkdir -p /app/var/packages && chown -R provenant /app/var
USER provenant
EXPOSE 8000

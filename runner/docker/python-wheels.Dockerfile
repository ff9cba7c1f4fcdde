# The image of a Python vendor in the docker placement (`aiii run --placement docker`),
# built by runner/images.py for every vendor with [docker] wheels and no Dockerfile of its
# own. The context holds vendor/ (the vendor's folder), kit/ (the adapter kit's wheel) and wheels/
# (downloaded on the host from [docker] wheels); the build itself has no network.
ARG BASE
FROM ${BASE}
COPY wheels /wheels
COPY kit /kit
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --quiet --no-index --no-cache-dir --disable-pip-version-check \
        --find-links /wheels -c /wheels/constraints.txt -r /wheels/requirements.txt \
 && /opt/venv/bin/pip install --quiet --no-index --no-cache-dir --disable-pip-version-check --no-deps /kit/*.whl
COPY vendor /opt/vendor
ENV PYTHONDONTWRITEBYTECODE=1 HOME=/tmp TMPDIR=/tmp
WORKDIR /opt/vendor
USER 65534:65534
# The harness passes the manifest's entry, vendor id, config and version rule as the command.
ENTRYPOINT ["/opt/venv/bin/python", "-m", "aiii_kit", "--base", "/opt/vendor", "--unix", "/run/aiii/adapter.sock"]

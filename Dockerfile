# syntax=docker/dockerfile:1
# The Platform Scorecard image (docs/deploy.md). One image, two roles:
#   - the Dagster code location: `dagster api grpc -m pipelines.definitions` on port 3030
#     (the default command; the Dagster Helm chart passes the same as `args`), and the
#     run and step pods Dagster launches from it;
#   - the dashboard: `scorecard serve --snapshot ... --address 0.0.0.0 --port 8501`
#     (deploy/k8s/dashboard.yaml).
#
#   docker build -t registry.example.com/platform/scorecard:$(git rev-parse --short HEAD) .
#
# Python 3.11: what the project's own venv and CI use (pyproject: >=3.11,<3.14).

# ---------------------------------------------------------------- build stage
FROM python:3.11-slim AS build

# uv installs exactly what uv.lock pins, in seconds (pip takes minutes to resolve this stack).
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/scorecard/venv

WORKDIR /src
# Dependencies first, in their own layer: a code change does not reinstall them.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
# Then the project itself, as a wheel (--no-editable), so the runtime image needs no source tree.
COPY README.md ./
COPY checks ./checks
COPY pipelines ./pipelines
COPY dashboard ./dashboard
RUN uv sync --frozen --no-dev --no-editable

# -------------------------------------------------------------- runtime stage
# The same base as the build stage: the venv's python is a link to this image's interpreter.
FROM python:3.11-slim

# git: the repository sources fetch and read history with the git CLI.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*

# A fixed numeric uid/gid: Kubernetes' runAsNonRoot can only verify a numeric USER,
# and the shared volume's ownership (fsGroup 10001) is set to match it.
RUN groupadd --gid 10001 scorecard \
    && useradd --uid 10001 --gid 10001 --home-dir /home/scorecard --create-home --shell /usr/sbin/nologin scorecard \
    && mkdir -p /opt/dagster/dagster_home /data \
    && chown 10001:10001 /opt/dagster/dagster_home /data

COPY --from=build /opt/scorecard/venv /opt/scorecard/venv

WORKDIR /app
# Streamlit reads ./.streamlit/config.toml from its working directory (magic off: see the file).
COPY .streamlit ./.streamlit

ENV PATH=/opt/scorecard/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home \
    HOME=/home/scorecard

USER 10001:10001

EXPOSE 3030 8501

# CMD, not ENTRYPOINT: the Dagster Helm chart starts the code location with
# `args: [dagster, api, grpc, ...]` and its run launcher starts run pods with
# `args: [dagster, api, execute_run, ...]`; an ENTRYPOINT would be prepended to both.
CMD ["dagster", "api", "grpc", "-h", "0.0.0.0", "-p", "3030", "-m", "pipelines.definitions"]

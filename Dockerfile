# Berth's container image: built with the Swift toolchain, run from a slim Debian with only the
# C libraries Berth links (libpq, libcurl, OpenSSL) and PostgreSQL's client tools (for backups).
# docker-compose.yml builds it; `make test` validates that file (no registry is reachable here, so
# the image itself is not built by the tests).

ARG SWIFT_IMAGE=swift:6.2-bookworm

FROM ${SWIFT_IMAGE} AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq-dev libcurl4-openssl-dev libssl-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The manifest first, so the dependencies are resolved in a layer of their own.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product berth --static-swift-stdlib \
    && install -D "$(swift build -c release --show-bin-path)/berth" /out/berth

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 libcurl4 libssl3 ca-certificates curl postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/berth --create-home berth
COPY --from=build /out/berth /usr/local/bin/berth
COPY sql /usr/share/berth/sql
ENV BERTH_SQL_DIR=/usr/share/berth/sql \
    BERTH_HTTP_ADDRESS=0.0.0.0:8080
USER berth
WORKDIR /var/lib/berth
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/ready >/dev/null || exit 1
ENTRYPOINT ["berth"]
CMD ["serve"]

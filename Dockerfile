# Anavara in a container: the API on 8080, the SSH front end on 2222, the
# database and generated secrets in the /data volume.
#
#   docker build -t anavara .
#   docker build -t anavara --build-arg VERSION=1.0.0 --build-arg COMMIT=$(git rev-parse HEAD) .
#   docker run -p 8080:8080 -p 2222:2222 -v anavara-data:/data anavara
#
# Configure it only through ANAVARA_* environment variables (docker run -e),
# one per `anavara serve` flag: --log-format json → ANAVARA_LOG_FORMAT=json.
# dockerfile_test.go checks this file; .ci/run runs the same build command.

# Build: mattn/go-sqlite3 needs cgo and gcc, which the official Go image has.
# The tag matches the go line of go.mod.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=
RUN CGO_ENABLED=1 go build -trimpath \
      -ldflags "-s -w -X github.com/anavara/anavara/cli.Version=${VERSION} -X github.com/anavara/anavara/cli.Commit=${COMMIT}" \
      -o /out/anavara . \
 && /out/anavara version

# Run: the same Debian release as the build image, so the cgo binary finds
# the glibc it was linked against.
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 anavara \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home --shell /usr/sbin/nologin anavara \
 && mkdir -p /data \
 && chown 10001:10001 /data \
 && chmod 0700 /data
COPY --from=build /out/anavara /usr/local/bin/anavara
ENV ANAVARA_DATA_DIR=/data ANAVARA_HTTP=:8080 ANAVARA_SSH=:2222
USER 10001:10001
VOLUME /data
EXPOSE 8080 2222
# The slim image has no curl: the binary checks its own /healthz, at the
# address ANAVARA_HTTP names (on loopback).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["anavara", "healthcheck", "--timeout", "4s"]
ENTRYPOINT ["anavara"]
CMD ["serve"]

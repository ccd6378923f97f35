# syntax=docker/dockerfile:1
#
# mmlite: one static binary on distroless. The role is the argument:
#   docker run IMAGE worker | api | fakeapi | enqueue ... | campaign ... | healthcheck URL
#
#   docker build -t mmlite:dev --build-arg VERSION=$(git describe --always) \
#     --build-arg REVISION=$(git rev-parse HEAD) .
#
# Needs BuildKit (the default builder since Docker 23.0; DOCKER_BUILDKIT=1
# before): cache mounts keep the module and build caches between builds.
#
# The image has no shell and no curl: container health checks run the binary
# itself, e.g. ["/mmlite", "healthcheck", "http://127.0.0.1:9090/healthz"].

# The tag follows go.mod's go directive (the tests in deploy/ check it).
ARG GO_VERSION=1.26

# Build on the builder's own platform and cross-compile (no CGO, so no
# emulation is needed for a multi-arch `docker buildx build --platform ...`).
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
ARG TARGETOS
ARG TARGETARCH
# `mmlite version` prints them: the context has no .git for Go to read the
# revision from.
ARG VERSION=dev
ARG REVISION=unknown
WORKDIR /src

# Dependencies first: this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

# .dockerignore is an allow-list: only go.mod, go.sum and the packages the
# binary is built from reach the build context.
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags="-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" -o /out/mmlite ./cmd/mmlite

# static-debian12: CA certificates, /etc/passwd with nonroot (65532) and tzdata,
# nothing else. The :nonroot tag already runs as 65532; USER repeats it
# numerically so that Kubernetes' runAsNonRoot can verify it.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="mmlite" \
      org.opencontainers.image.description="Sends WhatsApp marketing campaigns through the Marketing Messages Lite API" \
      org.opencontainers.image.source="https://github.com/mmlite/mmlite" \
      org.opencontainers.image.url="https://github.com/mmlite/mmlite" \
      org.opencontainers.image.documentation="https://github.com/mmlite/mmlite/blob/main/README.md" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="gcr.io/distroless/static-debian12:nonroot"
COPY --from=build /out/mmlite /mmlite
USER 65532:65532
# 8080: mmlite api (/v1, /webhooks/whatsapp, /metrics, /healthz, /readyz).
# 9090: mmlite worker (/metrics, /healthz, /readyz).
EXPOSE 8080 9090
ENTRYPOINT ["/mmlite"]
CMD ["worker"]

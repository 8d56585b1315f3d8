# syntax=docker/dockerfile:1
# The sparta image: built in a full Rust toolchain image, shipped on a distroless base (glibc, CA
# certificates, no shell, no package manager) as a non-root user. Secrets never enter the image:
# they reach the running container as environment variables (ECS injects them from Secrets Manager).

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# Cache mounts keep the registry and build tree between builds without putting them in a layer.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin sparta \
    && install -D -m 0755 target/release/sparta /out/sparta

FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="sparta" \
      org.opencontainers.image.description="Monitoring engine for Aztec network validators" \
      org.opencontainers.image.source="https://github.com/sparta-monitor/sparta" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/sparta /usr/local/bin/sparta
# distroless's "nonroot" user; numeric so Kubernetes and ECS can verify runAsNonRoot.
USER 65532:65532
# Prometheus /metrics, /healthz, /readyz (and the Discord interactions endpoint and API).
EXPOSE 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/sparta", "probe", "http://127.0.0.1:9464/healthz"]
ENTRYPOINT ["/usr/local/bin/sparta"]
CMD ["run"]

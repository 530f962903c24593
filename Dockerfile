# streamgen: a TGI-compatible server on its own CPU engine, as a Debian 12 image.
#
#   docker build -t streamgen .
#   docker run --rm -p 3000:3000 --stop-timeout 100 streamgen          # the bundled demo model
#   docker run --rm -p 3000:3000 --stop-timeout 100 -v "$PWD/models:/data:ro" \
#       -e MODEL_ID=/data/my-model.gguf streamgen                       # a model from a volume
#
# Two stages: `builder` compiles only the `streamgen` target (Release, no tests); `runtime` holds
# the stripped binary, the shared libraries it links (ldd) and the demo model, and runs as an
# unprivileged user. Every `streamgen serve` flag is also read from TGI's environment variable
# (MODEL_ID, PORT, HOSTNAME, MAX_CONCURRENT_REQUESTS, GRACEFUL_TERMINATION_TIMEOUT, ...), and
# arguments after the image name are appended to `streamgen serve`.
#
# DEBIAN_IMAGE: any Debian 12 base (debian:12-slim by default; deploy/docker/local-base-image.sh
# builds an equivalent one from the Debian mirror with debootstrap where Docker Hub is out of
# reach). tests/e2e/deploy.test.mjs checks this file against the repository and the binary's ldd.
ARG DEBIAN_IMAGE=debian:12-slim

FROM ${DEBIAN_IMAGE} AS builder
# What CMakeLists.txt finds (find_package / pkg_check_modules), nothing for the tests.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      cmake ninja-build g++ pkg-config \
      libhwy-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libpcre2-dev libutf8proc-dev \
      libboost1.81-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# tools/ and bench/ are configured by the top-level CMakeLists.txt (their targets are not built).
COPY CMakeLists.txt ./
COPY src ./src
COPY tools ./tools
COPY bench ./bench
# JOBS: parallel compile jobs (default: every CPU the builder has).
ARG JOBS=
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTREAMGEN_TESTS=OFF \
 && cmake --build build --target streamgen -j "${JOBS:-$(nproc)}" \
 && strip build/src/cli/streamgen \
 && build/src/cli/streamgen --help >/dev/null

FROM ${DEBIAN_IMAGE} AS runtime
# The shared libraries `ldd streamgen` lists beyond the base image's libc6, libstdc++6 and
# libgcc-s1: Highway, PCRE2, utf8proc, spdlog and its fmt.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libhwy1 libpcre2-8-0 libutf8proc2 libspdlog1.10 libfmt9 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 streamgen \
 && useradd --system --uid 10001 --gid streamgen --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin streamgen \
 && mkdir -p /data
COPY --from=builder /src/build/src/cli/streamgen /usr/local/bin/streamgen
# The demo model where the binary itself looks for it when no model is given; a model on a volume
# replaces it through MODEL_ID (e.g. -v ./models:/data:ro -e MODEL_ID=/data/model.gguf).
COPY models/demo/shakespeare-q8_0.gguf /usr/local/share/streamgen/models/demo/shakespeare-q8_0.gguf
# HOSTNAME is set explicitly: Docker and Kubernetes put the container's host name there, which
# streamgen would (with a warning) replace by 0.0.0.0 anyway.
ENV MODEL_ID=/usr/local/share/streamgen/models/demo/shakespeare-q8_0.gguf \
    HOSTNAME=0.0.0.0 \
    PORT=3000 \
    GRACEFUL_TERMINATION_TIMEOUT=90
# Numeric, so Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
WORKDIR /data
EXPOSE 3000
# /health is 200 only once the model is loaded and warmed up (503 before). No curl in the image:
# bash's /dev/tcp speaks the one request.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PORT:-3000} && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
# streamgen drains on SIGTERM for up to GRACEFUL_TERMINATION_TIMEOUT seconds: give `docker stop`
# more than that (--stop-timeout / -t), else Docker's 10 s default cuts streams off.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/streamgen", "serve"]

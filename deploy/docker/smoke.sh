#!/usr/bin/env bash
# Smoke test of a built image: runs it as Kubernetes would (read-only root filesystem, every
# capability dropped, no new privileges), waits for Docker's HEALTHCHECK to report healthy, checks
# the user, a non-streamed and a streamed generation through the published port, then stops it
# with SIGTERM while a stream is running and expects a complete stream and exit status 0.
#
#   deploy/docker/smoke.sh [IMAGE]         (default: streamgen:latest)
set -euo pipefail
IMAGE=${1:-streamgen:latest}
PORT=${PORT:-13000}
name="streamgen-smoke-$$"
cleanup() { docker rm -f "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; docker logs "$name" 2>&1 | tail -20; exit 1; }

docker run -d --name "$name" -p "127.0.0.1:$PORT:3000" --read-only --cap-drop ALL \
  --security-opt no-new-privileges --stop-timeout 100 "$IMAGE" >/dev/null

for _ in $(seq 1 120); do
  state=$(docker inspect -f '{{.State.Health.Status}}' "$name")
  [ "$state" = healthy ] && break
  [ "$(docker inspect -f '{{.State.Running}}' "$name")" = true ] || fail "container exited"
  sleep 1
done
[ "$state" = healthy ] || fail "HEALTHCHECK is $state"
echo "ok: HEALTHCHECK healthy"

user=$(docker exec "$name" id -u)
[ "$user" = 10001 ] || fail "runs as uid $user"
echo "ok: runs as uid $user"

body='{"inputs":"ROMEO:\n","parameters":{"max_new_tokens":20}}'
text=$(curl -sf "127.0.0.1:$PORT/generate" -H 'Content-Type: application/json' -d "$body")
echo "$text" | grep -q '"generated_text"' || fail "/generate answered $text"
events=$(curl -sfN "127.0.0.1:$PORT/generate_stream" -H 'Content-Type: application/json' -d "$body" |
  grep -c '^data:')
[ "$events" = 20 ] || fail "/generate_stream sent $events events"
echo "ok: /generate and /generate_stream (20 events)"

# SIGTERM with a stream in flight: the stream completes, the process exits 0.
long='{"inputs":"ROMEO:\n","parameters":{"max_new_tokens":1500,"do_sample":true,"seed":1}}'
curl -sfN "127.0.0.1:$PORT/generate_stream" -H 'Content-Type: application/json' -d "$long" \
  >"/tmp/$name.sse" &
curl_pid=$!
sleep 0.3
docker stop "$name" >/dev/null
wait "$curl_pid" || fail "the stream in flight failed"
last=$(grep '^data:' "/tmp/$name.sse" | tail -1)
rm -f "/tmp/$name.sse"
echo "$last" | grep -q '"generated_text":"' || fail "the stream in flight did not complete: $last"
code=$(docker inspect -f '{{.State.ExitCode}}' "$name")
[ "$code" = 0 ] || fail "exit status $code after SIGTERM"
logs=$(docker logs "$name" 2>&1)
grep -q "SIGTERM received" <<<"$logs" || fail "no SIGTERM log line"
echo "ok: SIGTERM drained the stream in flight, exit status 0"
echo "smoke test passed: $IMAGE"

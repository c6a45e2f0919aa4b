#!/usr/bin/env bash
# Known vulnerabilities in the dependencies: RustSec's advisory database against Cargo.lock
# (`cargo audit`) and the npm registry's advisories against the UI's production packages
# (`npm audit --omit=dev`). Fails on any advisory that applies.
#
# Both need their advisory source on the network (RustSec's database is a git repository on
# GitHub; npm's is an endpoint of registry.npmjs.org). Where a source cannot be reached the check
# says SKIPPED and why, and does not pass or fail in its place; everything else here runs offline.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
advisory_db="https://github.com/rustsec/advisory-db"
if timeout 15 git ls-remote --exit-code "$advisory_db" HEAD >/dev/null 2>&1; then
  command -v cargo-audit >/dev/null || cargo install --locked cargo-audit >/dev/null
  echo "cargo audit (RustSec)"
  cargo audit --deny warnings || status=1
else
  echo "SKIPPED cargo audit: RustSec's advisory database ($advisory_db) cannot be reached from this machine"
fi

# The registry answers the bulk advisory request with 200 where it offers advisories; a proxy that
# only mirrors packages answers 4xx.
probe=$(timeout 15 curl -s -o /dev/null -w '%{http_code}' -X POST -H 'content-type: application/json' \
  -d '{}' https://registry.npmjs.org/-/npm/v1/security/advisories/bulk || true)
if [ "$probe" = 200 ]; then
  echo "npm audit --omit=dev (ui)"
  (cd ui && npm audit --omit=dev --audit-level=low) || status=1
else
  echo "SKIPPED npm audit: the registry's advisory endpoint answers ${probe:-nothing} here"
fi
exit "$status"

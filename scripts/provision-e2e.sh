#!/usr/bin/env bash
# Provision what the end-to-end tests need, into .e2e-cache/ (git-ignored):
#
#   .e2e-cache/bin/jaeger   Jaeger v2 (all-in-one / collector), built from the Go tools
#                           module tools/jaeger (pinned there: github.com/jaegertracing/jaeger v1.76.0)
#   .e2e-cache/venv/        Python venv with the pinned LiteLLM 1.103.11 + Langfuse SDK v2
#                           (scripts/e2e/requirements.txt): the ingestion-API clients
#   .e2e-cache/venv-current/ Python venv with the newest LiteLLM (never 1.107.0, a compromised
#                           release) + Langfuse SDK 4.x (scripts/e2e/requirements-current.txt):
#                           the OTLP clients
#   .e2e-cache/kafka/libs/  Apache Kafka 4.4 jars (tools/kafka/pom.xml, from Maven Central) for the
#                           gateway-mode tests: a KRaft broker+controller run by test/e2e/helpers/kafka.ts
#
# The Langfuse JS SDK v5 (@langfuse/tracing, @langfuse/otel) needs nothing here: its peers are
# the project's own OpenTelemetry pins, so it is a devDependency in package.json.
#
# Idempotent and fast when warm: the Jaeger binary is rebuilt only when it is missing or older
# than tools/jaeger/go.mod / go.sum; the venvs are rebuilt only when the hash of their requirements file
# (plus the Python version) differs from the stamp written after the last successful install.
#
# Environment:
#   E2E_CACHE_DIR   cache directory (default: <repo>/.e2e-cache)
#   E2E_PYTHON      Python interpreter for the venv (default: python3; must be >= 3.10)
#   E2E_FORCE=1     rebuild everything, ignoring the stamps
#   E2E_SKIP_JAEGER=1 / E2E_SKIP_VENV=1 / E2E_SKIP_KAFKA=1   skip Jaeger / both venvs / the Kafka jars
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

cache_dir="${E2E_CACHE_DIR:-$repo_root/.e2e-cache}"
python_bin="${E2E_PYTHON:-python3}"
force="${E2E_FORCE:-0}"

mkdir -p "$cache_dir/bin"
cache_dir="$(cd "$cache_dir" && pwd)" # absolute: `go -C` below changes directory

now_ms() { date +%s%3N; }
log() { printf '[provision-e2e] %s\n' "$*"; }
elapsed() { local start=$1; echo "$(( ($(now_ms) - start) ))ms"; }

t_all=$(now_ms)

# ---------------------------------------------------------------------------------------------
# 1. Jaeger
# ---------------------------------------------------------------------------------------------
build_jaeger() {
  local t0 bin gomod gosum
  t0=$(now_ms)
  bin="$cache_dir/bin/jaeger"
  gomod="tools/jaeger/go.mod"
  gosum="tools/jaeger/go.sum"

  if ! command -v go >/dev/null 2>&1; then
    log "ERROR: 'go' not found on PATH; Go >= 1.24 is needed to build Jaeger" >&2
    exit 1
  fi

  if [[ "$force" != "1" && -x "$bin" && "$bin" -nt "$gosum" && "$bin" -nt "$gomod" ]]; then
    log "jaeger: up to date ($bin), skipped ($(elapsed "$t0"))"
    return
  fi

  log "jaeger: building github.com/jaegertracing/jaeger/cmd/jaeger from $gomod ($(go version | awk '{print $3}'))"
  # Build to a temp name and rename, so an interrupted build never leaves a half-written
  # binary that looks "newer than go.sum".
  # CGO is not needed by Jaeger (its release builds use CGO_ENABLED=0); -s -w shortens linking.
  CGO_ENABLED=0 go -C tools/jaeger build -trimpath -ldflags='-s -w' \
    -o "$bin.tmp" github.com/jaegertracing/jaeger/cmd/jaeger
  mv -f "$bin.tmp" "$bin"
  log "jaeger: built $bin ($(elapsed "$t0"))"
}

# ---------------------------------------------------------------------------------------------
# 2. Python venvs: <dir> <requirements file> <langfuse major the scenarios need>
# ---------------------------------------------------------------------------------------------
provision_venv() {
  local t0 venv req lf_major stamp want have pyver
  t0=$(now_ms)
  venv="$cache_dir/$1"
  req="$2"
  lf_major="$3"
  stamp="$venv/.requirements.sha256"

  if ! command -v "$python_bin" >/dev/null 2>&1; then
    log "ERROR: '$python_bin' not found (set E2E_PYTHON)" >&2
    exit 1
  fi
  # Refuse the compromised LiteLLM release whatever a requirements file says.
  if grep -qiE '^litellm[[:space:]]*==[[:space:]]*1\.107\.0([^0-9]|$)' "$req"; then
    log "ERROR: $req pins litellm 1.107.0, a compromised release; refusing to install it" >&2
    exit 1
  fi
  pyver="$("$python_bin" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
  want="$( { sha256sum "$req" | cut -d' ' -f1; echo "python $pyver"; } | sha256sum | cut -d' ' -f1)"
  have="$(cat "$stamp" 2>/dev/null || true)"

  if [[ "$force" != "1" && "$want" == "$have" && -x "$venv/bin/python" ]]; then
    log "$1: up to date ($venv, $req unchanged), skipped ($(elapsed "$t0"))"
    return
  fi

  log "$1: (re)creating $venv with Python $pyver from $req"
  rm -rf "$venv"
  "$python_bin" -m venv "$venv"
  # No pip self-upgrade (slow, needs nothing new); quiet install of the fully pinned set.
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/pip" install --quiet --no-input -r "$req"
  # Smoke-check the two packages the scenarios rely on; LITELLM_LOCAL_MODEL_COST_MAP avoids
  # LiteLLM's attempt to download its price map at import (there is no network here).
  LF_MAJOR="$lf_major" VENV_NAME="$1" LITELLM_LOCAL_MODEL_COST_MAP=True "$venv/bin/python" - <<'PY'
import importlib.metadata as md
import os
import litellm  # noqa: F401
lf = md.version("langfuse")
ll = md.version("litellm")
assert lf.split(".")[0] == os.environ["LF_MAJOR"], f"langfuse {os.environ['LF_MAJOR']}.x expected, got {lf}"
assert ll != "1.107.0", "litellm 1.107.0 is a compromised release"
print(f"[provision-e2e] {os.environ['VENV_NAME']}: litellm {ll}, langfuse {lf}")
PY
  echo "$want" >"$stamp"
  log "$1: ready ($(elapsed "$t0"))"
}

# ---------------------------------------------------------------------------------------------
# 3. Apache Kafka jars (gateway mode): Maven copies kafka_2.13 4.4.0 and its dependencies
# ---------------------------------------------------------------------------------------------
provision_kafka() {
  local t0 libs stamp want have
  t0=$(now_ms)
  libs="$cache_dir/kafka/libs"
  stamp="$cache_dir/kafka/.pom.sha256"
  if ! command -v mvn >/dev/null 2>&1 || ! command -v java >/dev/null 2>&1; then
    log "ERROR: 'mvn' and 'java' (17+) are needed for the Kafka broker of the gateway tests" >&2
    exit 1
  fi
  want="$(sha256sum tools/kafka/pom.xml | cut -d' ' -f1)"
  have="$(cat "$stamp" 2>/dev/null || true)"
  if [[ "$force" != "1" && "$want" == "$have" && -d "$libs" ]]; then
    log "kafka: up to date ($libs), skipped ($(elapsed "$t0"))"
    return
  fi
  log "kafka: copying the jars of tools/kafka/pom.xml into $libs"
  rm -rf "$libs.tmp"
  mvn -q -B -f tools/kafka/pom.xml dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs.tmp"
  rm -rf "$libs"
  mv "$libs.tmp" "$libs"
  echo "$want" >"$stamp"
  log "kafka: $(ls "$libs" | wc -l) jars ready ($(elapsed "$t0"))"
}

if [[ "${E2E_SKIP_JAEGER:-0}" != "1" ]]; then build_jaeger; else log "jaeger: skipped (E2E_SKIP_JAEGER=1)"; fi
if [[ "${E2E_SKIP_VENV:-0}" != "1" ]]; then
  provision_venv venv scripts/e2e/requirements.txt 2
  provision_venv venv-current scripts/e2e/requirements-current.txt 4
else
  log "venvs: skipped (E2E_SKIP_VENV=1)"
fi

if [[ "${E2E_SKIP_KAFKA:-0}" != "1" ]]; then provision_kafka; else log "kafka: skipped (E2E_SKIP_KAFKA=1)"; fi

log "done in $(elapsed "$t_all")"

import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file is test/e2e/helpers/paths.ts). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Where scripts/provision-e2e.sh puts its outputs. */
export const CACHE_DIR = process.env.E2E_CACHE_DIR ?? path.join(REPO_ROOT, '.e2e-cache');

export const JAEGER_BIN = path.join(CACHE_DIR, 'bin', 'jaeger');
/** LiteLLM 1.103.11 + Langfuse SDK v2: the ingestion-API clients (scripts/e2e/requirements.txt). */
export const VENV_PYTHON = path.join(CACHE_DIR, 'venv', 'bin', 'python');
/** The current LiteLLM + Langfuse SDK 4.x: the OTLP clients (scripts/e2e/requirements-current.txt). */
export const VENV_CURRENT_PYTHON = path.join(CACHE_DIR, 'venv-current', 'bin', 'python');
export const JAEGER_TEST_CONFIG = path.join(REPO_ROOT, 'scripts', 'e2e', 'jaeger-test.yaml');
export const COLLECTOR_CONFIG = path.join(REPO_ROOT, 'collector-config.yaml');
export const LITELLM_SCRIPT = path.join(REPO_ROOT, 'scripts', 'e2e', 'litellm_scenarios.py');
export const LANGFUSE_SDK_SCRIPT = path.join(REPO_ROOT, 'scripts', 'e2e', 'langfuse_sdk_scenarios.py');
export const BRIDGE_MAIN = path.join(REPO_ROOT, 'dist', 'main.js');
/** Log files of the processes the e2e tests start (kept for debugging failed runs). */
export const LOG_DIR = path.join(CACHE_DIR, 'logs');

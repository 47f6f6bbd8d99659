import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../src/admin/openapi.ts';
import { statusOf } from '../../src/errors.ts';
import { adminErrorBody } from '../../src/http/errors.ts';

type Operation = { summary: string; parameters: Array<{ name: string; in: string; required: boolean; schema: Record<string, unknown> }>; responses: Record<string, unknown>; requestBody?: { content: { 'application/json': { schema: Record<string, unknown> } } } };
const doc = openApiDocument() as { openapi: string; paths: Record<string, Record<string, Operation>>; security: unknown[] };
const op = (path: string, method: string) => {
  const found = doc.paths[`/admin/api/v1/orgs/{org}${path}`]?.[method];
  if (!found) throw new Error(`${method} ${path} is not described`);
  return found;
};

/** Every route the admin API and the compliance routes declare, as `METHOD /path` in OpenAPI's {param} form. */
function declaredRoutes(): string[] {
  const routes: string[] = [];
  for (const [file, prefix] of [['../../src/admin/routes.ts', '/admin/api/v1'], ['../../src/compliance/routes.ts', '']] as const) {
    const text = readFileSync(new URL(file, import.meta.url), 'utf8');
    for (const m of text.matchAll(/router\.(get|post|put|patch|delete)\('([^']+)'/g)) {
      const path = `${prefix}${m[2]}`.replace(/:([a-z]+)/g, '{$1}');
      if (path.startsWith('/admin/api/v1/orgs/')) routes.push(`${m[1]!.toUpperCase()} ${path}`);
    }
  }
  return routes.sort();
}

describe('the admin API\'s OpenAPI document', () => {
  it('is OpenAPI 3.1 with bearer security, built once', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(openApiDocument()).toBe(doc);
  });

  it('describes every org route the API serves, and none it does not', () => {
    const described = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();
    const declared = declaredRoutes();
    expect(declared.length).toBeGreaterThan(15);
    expect(described).toEqual(declared);
  });

  it('documents each operation\'s org parameter and its error answers', () => {
    for (const ops of Object.values(doc.paths)) {
      for (const operation of Object.values(ops)) {
        expect(operation.parameters[0]).toMatchObject({ name: 'org', in: 'path', required: true });
        expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['400', '401', '403', '404', '409', '413', '503']));
      }
    }
  });

  it('takes each error answer\'s status from ERROR_STATUS and describes the body the API sends', () => {
    const responses = op('/users', 'post').responses as Record<string, { description: string; content: { 'application/json': { schema: { required: string[]; properties: Record<string, unknown> } } } }>;
    for (const code of ['invalid_request', 'invalid_token', 'insufficient_scope', 'not_found', 'conflict', 'payload_too_large', 'temporarily_unavailable'] as const) {
      const answer = responses[String(statusOf(code))];
      expect(answer?.description, code).toContain(`\`${code}\``);
      expect(answer?.content['application/json'].schema.required).toEqual(['error', 'error_description']);
      expect(Object.keys(answer?.content['application/json'].schema.properties ?? {})).toEqual(Object.keys(adminErrorBody({ status: 400, code, message: 'm', fields: [{ field: 'f', message: 'm' }] })));
    }
  });

  it('derives bodies from the schemas the API validates with: required fields, no extra properties', () => {
    const create = op('/users', 'post').requestBody!.content['application/json'].schema as { required: string[]; properties: Record<string, unknown>; additionalProperties: boolean };
    expect(create.required).toEqual(['username', 'password']);
    expect(Object.keys(create.properties).sort()).toEqual(['disabled', 'password', 'roles', 'username']);
    expect(create.additionalProperties).toBe(false);
    const patch = op('/clients/{client}', 'patch').requestBody!.content['application/json'].schema as { required?: string[] };
    expect(patch.required ?? []).toEqual([]);
    expect(op('/policy', 'put').requestBody).toBeDefined();
  });

  it('marks query parameters required only when the API requires them', () => {
    const explain = Object.fromEntries(op('/policy/explain', 'get').parameters.map((p) => [p.name, p.required]));
    expect(explain).toMatchObject({ user: true, client: false, ip: false });
    const audit = Object.fromEntries(op('/audit', 'get').parameters.map((p) => [p.name, p.required]));
    expect(audit).toMatchObject({ type: false, cursor: false, limit: false });
  });
});

import { z } from 'zod';
import { statusOf, type CurfewErrorCode } from '../errors.ts';
import { policySchema } from '../sessions/policy-validate.ts';
import { auditQuerySchema, clientCreateSchema, clientPatchSchema, deliveriesQuerySchema, explainQuerySchema, sessionsQuerySchema, userCreateSchema, userPatchSchema } from './schemas.ts';

const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });

function queryParams(s: z.ZodObject) {
  return Object.entries(s.shape).map(([name, field]) => ({
    name,
    in: 'query',
    required: !(field as z.ZodType).safeParse(undefined).success,
    schema: schema(field as z.ZodType),
  }));
}

const orgParam = { name: 'org', in: 'path', required: true, schema: { type: 'string' } };
/** SPEC §11: a user is named by id (`sub`) or username, wherever the API names one. */
const userParam = { name: 'user', in: 'path', required: true, description: 'The user\'s id (`sub`) or username', schema: { type: 'string' } };
const ok = (description: string) => ({ description, content: { 'application/json': {} } });
/**
 * The error answers every admin operation may give, by code: their statuses come from
 * ERROR_STATUS (src/errors.ts), the one place statuses live, so this document cannot drift from
 * what the API sends.
 */
const ADMIN_ERRORS: Array<[CurfewErrorCode, string]> = [
  ['invalid_request', 'Invalid request: `fields` names every bad field'],
  ['invalid_token', 'No valid bearer token'],
  ['insufficient_scope', 'The token lacks the admin scope'],
  ['not_found', 'Not found (or another org\'s)'],
  ['conflict', 'Conflict: the operation does not apply to this resource now'],
  ['payload_too_large', 'The body is over the admin API\'s limit (`CURFEW_ADMIN_API_BODY_KB`)'],
  ['temporarily_unavailable', 'The store could not answer; nothing was changed or judged. `Retry-After` says when to come back'],
];
const errorBody = {
  type: 'object',
  required: ['error', 'error_description'],
  properties: {
    error: { type: 'string', description: 'The error code' },
    error_description: { type: 'string' },
    fields: { type: 'array', items: { type: 'object', required: ['field', 'message'], properties: { field: { type: 'string' }, message: { type: 'string' } } } },
  },
};
const errors = Object.fromEntries(
  ADMIN_ERRORS.map(([code, description]) => [
    String(statusOf(code)),
    { description: `\`${code}\`: ${description}`, content: { 'application/json': { schema: errorBody } } },
  ]),
);
const body = (s: z.ZodType) => ({ required: true, content: { 'application/json': { schema: schema(s) } } });
const op = (summary: string, extra: Record<string, unknown> = {}, status = '200') => ({ summary, parameters: [orgParam], responses: { [status]: ok(summary), ...errors }, ...extra });

let cached: Record<string, unknown> | undefined;

/** The OpenAPI 3.1 description of /admin/api/v1, generated from the schemas the API validates with. */
export function openApiDocument(): Record<string, unknown> {
  cached ??= {
    openapi: '3.1.0',
    info: { title: 'Curfew admin API', version: '1' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Client-credentials access token of an adminApi client, scope admin' } } },
    security: [{ bearer: [] }],
    paths: {
      '/admin/api/v1/orgs/{org}/policy': {
        get: op('The org\'s session policy'),
        put: op('Replace the policy; live sessions are recomputed at once', { requestBody: body(policySchema) }),
      },
      '/admin/api/v1/orgs/{org}/policy/preview': {
        post: op('Preview a policy without saving it: validated as PUT is (400 with `fields`), then `preview` counts the live sessions whose end would move (`endNow`, `shorter`, `longer`, `unchanged`, `appSessionsEndNow`, `endedSessions` as a save would report it) and lists the `affected` ones with their current and new `expiresAt`. Changes nothing', { requestBody: body(policySchema) }),
      },
      '/admin/api/v1/orgs/{org}/policy/explain': { get: { ...op('Effective limits for a user (and client, IP), with the deciding rules'), parameters: [orgParam, ...queryParams(explainQuerySchema)] } },
      '/admin/api/v1/orgs/{org}/sessions': { get: { ...op('Live sessions with deadlines and RP sessions'), parameters: [orgParam, ...queryParams(sessionsQuerySchema)] } },
      '/admin/api/v1/orgs/{org}/sessions/{id}': { delete: { ...op('Revoke a session (back-channel logout, TOTP at re-entry)', {}, '204'), parameters: [orgParam, { name: 'id', in: 'path', required: true, schema: { type: 'string' } }] } },
      '/admin/api/v1/orgs/{org}/users': { get: op('Users'), post: op('Create a user', { requestBody: body(userCreateSchema) }, '201') },
      '/admin/api/v1/orgs/{org}/users/{user}': {
        patch: { ...op('Update roles, password or disabled (disabling ends the user\'s sessions)', { requestBody: body(userPatchSchema) }), parameters: [orgParam, userParam] },
        delete: { ...op('Delete a user (ends their sessions)', {}, '204'), parameters: [orgParam, userParam] },
      },
      '/admin/api/v1/orgs/{org}/users/{user}/sessions': { delete: { ...op('Revoke all of a user\'s sessions'), parameters: [orgParam, userParam] } },
      '/admin/api/v1/orgs/{org}/users/{user}/password': {
        post: {
          ...op('Set the password sent, or reset it to a generated one when none is sent: 200 `{ user, password }` shows the generated password once; 204 when one was sent', {
            requestBody: { required: false, content: { 'application/json': { schema: schema(z.object({ password: userPatchSchema.shape.password }).strict()) } } },
          }),
          parameters: [orgParam, userParam],
        },
      },
      '/admin/api/v1/orgs/{org}/users/{user}/totp/reset': { post: { ...op('Remove the user\'s authenticator and recovery codes', {}, '204'), parameters: [orgParam, userParam] } },
      '/admin/api/v1/orgs/{org}/clients': {
        get: op('Clients (`internal`: Curfew\'s own, not editable)'),
        post: op('Register a client; 409 `client_id is not available` if any org holds or ever held the id', { requestBody: body(clientCreateSchema) }, '201'),
      },
      '/admin/api/v1/orgs/{org}/clients/{client}': {
        patch: { ...op('Change the fields sent, and only those (409 for an internal client)', { requestBody: body(clientPatchSchema) }), parameters: [orgParam, { name: 'client', in: 'path', required: true, schema: { type: 'string' } }] },
        delete: { ...op('Delete a client for good: its RP sessions end (logout tokens sent), its id is never reused (409 for an internal client)', {}, '204'), parameters: [orgParam, { name: 'client', in: 'path', required: true, schema: { type: 'string' } }] },
      },
      '/admin/api/v1/orgs/{org}/clients/{client}/secret': {
        post: { ...op('Rotate the client secret: a generated secret, returned in this answer only (`client_secret`); the old one stops working at once; only its hash is stored (409 for an internal client)'), parameters: [orgParam, { name: 'client', in: 'path', required: true, schema: { type: 'string' } }] },
      },
      '/admin/api/v1/orgs/{org}/audit': { get: { ...op('The audit trail, newest first, cursor-paginated'), parameters: [orgParam, ...queryParams(auditQuerySchema)] } },
      '/admin/api/v1/orgs/{org}/deliveries': { get: { ...op('Pending or dead logout-token deliveries'), parameters: [orgParam, ...queryParams(deliveriesQuerySchema)] } },
      '/admin/api/v1/orgs/{org}/deliveries/{id}/retry': { post: { ...op('Retry a dead delivery', {}, '202'), parameters: [orgParam, { name: 'id', in: 'path', required: true, schema: { type: 'string' } }] } },
      '/admin/api/v1/orgs/{org}/compliance': {
        get: {
          ...op('Compliance evidence for a period (SPEC §13): policy and its changes, sessions by end reason, late timeouts (p50/p99/max), step-ups, deliveries and dead letters, control test runs. 400 with `fields` for a bad period'),
          parameters: [orgParam, ...['since', 'until'].map((name) => ({ name, in: 'query', required: false, schema: { type: 'string', format: 'date-time' } })), { name: 'format', in: 'query', required: false, schema: { type: 'string', enum: ['json', 'html', 'pdf'] } }],
        },
      },
      '/admin/api/v1/orgs/{org}/compliance/control-test': { post: { ...op('Start the control test (a synthetic session is signed in, expires, and must be refused and announced); its result is a compliance.control_test audit event. 409 while one runs', {}, '202'), parameters: [orgParam] } },
    },
  };
  return cached;
}

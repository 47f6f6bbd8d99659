/**
 * The top of a V8 CPU profile (.cpuprofile), as issue 14 asks to report it: self time per
 * function and per package/file, idle and GC named as such; and busy time by part (each sample
 * given to the first part its stack shows, from the running function outwards): socket writes
 * to Redis and to HTTP clients, ID-token signing, each folder of Curfew's src/, oidc-provider,
 * ioredis, koa, Node's internals — what a request's CPU goes to, beside another server's.
 *
 *   node bench/profile-top.ts wave.cpuprofile [rows]
 */
import { indexProfile, place, readProfile, type ProfileNode } from './cpuprofile.ts';


const [file, rowsArg] = process.argv.slice(2);
if (!file) throw new Error('usage: node bench/profile-top.ts file.cpuprofile [rows]');
const profile = readProfile(file);
const rows = Number(rowsArg ?? 25);
const { byId, parentOf, selfUs } = indexProfile(profile);
const totalUs = profile.endTime - profile.startTime;

const fn = new Map<string, number>();
const where = new Map<string, number>();
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const name = `${functionName || '(anonymous)'} ${place(url)}${url ? `:${lineNumber + 1}` : ''}`;
  fn.set(name, (fn.get(name) ?? 0) + us);
  where.set(place(url), (where.get(place(url)) ?? 0) + us);
}

/** The part of the program a sample's time goes to (see the header). */
function partOf(id: number): string | undefined {
  const leaf = byId.get(id)!.callFrame;
  if (leaf.functionName === '(idle)') return undefined;
  if (leaf.functionName === '(garbage collector)') return 'garbage collector';
  const stack: ProfileNode['callFrame'][] = [];
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) stack.push(byId.get(at)!.callFrame);
  if (leaf.functionName === 'writeUtf8String' || leaf.functionName === 'writev') {
    return stack.some((f) => f.url.includes('ioredis')) ? 'socket writes: Redis' : 'socket writes: HTTP responses';
  }
  if (stack.some((f) => /compileSourceTextModule|wrapSafe|generateKeyPair/.test(f.functionName) || f.url.includes('argon2') || f.url.startsWith('wasm'))) return 'start-up (modules, keys, seed)';
  for (const f of stack) {
    if (f.functionName === 'jobPromise' || f.url.includes('jws_sign')) return 'ID-token signing';
    const own = /\/src\/([^/]+)\//.exec(f.url);
    if (own) return `Curfew src/${own[1]}`;
    if (f.url.includes('/bench/')) return 'the bench (its preload, its baseline adapter)';
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f.url)?.[1];
    if (pkg === 'oidc-provider' || pkg === 'jose') return 'oidc-provider + jose';
    if (pkg) return pkg;
  }
  return 'Node internals (HTTP, streams, timers, crypto)';
}

const parts = new Map<string, number>();
profile.samples.forEach((id, i) => {
  const part = partOf(id);
  if (part) parts.set(part, (parts.get(part) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const busyUs = [...parts.values()].reduce((a, b) => a + b, 0);

const table = (m: Map<string, number>) =>
  [...m].sort((a, b) => b[1] - a[1]).slice(0, rows).map(([k, us]) => `${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / totalUs).toFixed(1).padStart(5)} %  ${k}`).join('\n');
const byPart = [...parts].sort((a, b) => b[1] - a[1]).slice(0, rows).map(([k, us]) => `${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / busyUs).toFixed(1).padStart(5)} %  ${k}`).join('\n');
console.log(`profile: ${(totalUs / 1000).toFixed(0)} ms wall\n\nself time by function:\n${table(fn)}\n\nself time by place:\n${table(where)}\n\nbusy time (${(busyUs / 1000).toFixed(0)} ms) by part:\n${byPart}`);

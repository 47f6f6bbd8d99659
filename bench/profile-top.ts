/**
 * The top of a V8 CPU profile (.cpuprofile), as issue 14 asks to report it: self time per
 * function and per package/file, idle and GC named as such.
 *
 *   node bench/profile-top.ts wave.cpuprofile [rows]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, rowsArg] = process.argv.slice(2);
if (!file) throw new Error('usage: node bench/profile-top.ts file.cpuprofile [rows]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const rows = Number(rowsArg ?? 25);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const totalUs = profile.endTime - profile.startTime;

/** Where a frame's code lives: a package name, a file under src/, or what V8 calls it. */
function place(url: string): string {
  if (!url) return '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/((?:src|bench|test)\/.*)$/.exec(url);
  if (own) return own[1]!;
  return url.replace(/^node:/, 'node:');
}

const fn = new Map<string, number>();
const where = new Map<string, number>();
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const name = `${functionName || '(anonymous)'} ${place(url)}${url ? `:${lineNumber + 1}` : ''}`;
  fn.set(name, (fn.get(name) ?? 0) + us);
  where.set(place(url), (where.get(place(url)) ?? 0) + us);
}
const table = (m: Map<string, number>) =>
  [...m].sort((a, b) => b[1] - a[1]).slice(0, rows).map(([k, us]) => `${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / totalUs).toFixed(1).padStart(5)} %  ${k}`).join('\n');
console.log(`profile: ${(totalUs / 1000).toFixed(0)} ms wall\n\nself time by function:\n${table(fn)}\n\nself time by place:\n${table(where)}`);

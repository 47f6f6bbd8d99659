/**
 * What bench/profile-top.ts and bench/flame.ts read of a V8 `.cpuprofile` (BENCH_CPU_PROF):
 * its nodes, indexed, and each node's self time.
 */
import { readFileSync } from 'node:fs';

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export const readProfile = (file: string): Profile => JSON.parse(readFileSync(file, 'utf8')) as Profile;

/** The profile's nodes by id, each node's parent, and the self time (µs) sampled in each. */
export function indexProfile(profile: Profile): { byId: Map<number, ProfileNode>; parentOf: Map<number, number>; selfUs: Map<number, number> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parentOf.set(child, n.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  return { byId, parentOf, selfUs };
}

/** Where a frame's code lives: a package name, a file under src/ (bench/, test/), or what V8 calls it. */
export function place(url: string): string {
  if (!url) return '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/((?:src|bench|test)\/.*)$/.exec(url);
  return own ? own[1]! : url;
}

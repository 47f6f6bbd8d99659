/**
 * A V8 CPU profile (.cpuprofile) as a flame graph, with no dependency: folded stacks (one line
 * per distinct stack, `root;caller;callee self-µs`, the format flamegraph tools read) and an SVG
 * drawn from them — each box a frame, its width its inclusive time, callers below callees.
 *
 *   node bench/flame.ts wave.cpuprofile docs/bench/wave.svg [docs/bench/wave.folded] [title]
 *
 * `(idle)`, `(program)` and the profiler's own start (`node:inspector`) are left out of the
 * picture (they are not the wave's work) but their share is printed in the title, so the reader
 * knows how much of the wall time the boxes cover.
 */
import { writeFileSync } from 'node:fs';
import { indexProfile, place, readProfile, type Profile, type ProfileNode } from './cpuprofile.ts';


/** A frame's label: the function and where its code lives (package, file under src/, or V8's name). */
export function frameLabel({ functionName, url, lineNumber }: ProfileNode['callFrame']): string {
  const name = functionName || '(anonymous)';
  if (!url) return name;
  const where = place(url);
  return `${name} ${/^(src|bench|test)\//.test(where) ? `${where}:${lineNumber + 1}` : where}`;
}

/** Folded stacks: self time (µs) per distinct root-to-leaf path, the profile's own meta-frames dropped. */
export function foldedStacks(profile: Profile): Map<string, number> {
  const { byId, parentOf: parent, selfUs: self } = indexProfile(profile);
  const folded = new Map<string, number>();
  for (const [id, us] of self) {
    const path: string[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at)!;
      if (node.callFrame.functionName === '(root)') break;
      path.push(frameLabel(node.callFrame).replaceAll(';', ','));
    }
    const key = path.reverse().join(';');
    folded.set(key, (folded.get(key) ?? 0) + us);
  }
  return folded;
}

/** Stacks that are not the profiled work: waiting, V8's bookkeeping, the profiler starting. */
export const notTheWave = (stack: string) => stack === '(idle)' || stack === '(program)' || stack.includes('node:inspector');

interface Box {
  name: string;
  us: number;
  children: Map<string, Box>;
}

function tree(folded: Map<string, number>, skip: (stack: string) => boolean): Box {
  const root: Box = { name: 'all', us: 0, children: new Map() };
  for (const [stack, us] of folded) {
    if (skip(stack)) continue;
    root.us += us;
    let box = root;
    for (const name of stack.split(';')) {
      let child = box.children.get(name);
      if (!child) box.children.set(name, (child = { name, us: 0, children: new Map() }));
      child.us += us;
      box = child;
    }
  }
  return root;
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A stable warm colour per place, so one package's frames look alike across the picture. */
function colour(name: string): string {
  const place = name.split(' ').at(-1) ?? name;
  let h = 0;
  for (const c of place) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  if (place.startsWith('src/')) return `hsl(${200 + (h % 40)},60%,${62 + (h % 15)}%)`;
  return `hsl(${h % 55},${70 + (h % 20)}%,${58 + (h % 15)}%)`;
}

export function flameSvg(folded: Map<string, number>, title: string, width = 1600): string {
  const root = tree(folded, notTheWave);
  const rowH = 16;
  let depth = 0;
  const rects: string[] = [];
  const draw = (box: Box, x: number, level: number) => {
    depth = Math.max(depth, level);
    const w = (box.us / root.us) * width;
    if (w < 0.3) return;
    rects.push(`${level}\u0000${x}\u0000${w}\u0000${box.name}\u0000${box.us}`);
    let cx = x;
    for (const child of [...box.children.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      draw(child, cx, level + 1);
      cx += (child.us / root.us) * width;
    }
  };
  draw(root, 0, 0);
  const height = (depth + 1) * rowH + 40;
  const body = rects.map((r) => {
    const [level, x, w, name, us] = r.split('\u0000') as [string, string, string, string, string];
    const y = height - (Number(level) + 1) * rowH - 4;
    const pct = ((100 * Number(us)) / root.us).toFixed(1);
    const label = Number(w) > 40 ? escape(name).slice(0, Math.floor(Number(w) / 6.5)) : '';
    return `<g><title>${escape(name)}: ${(Number(us) / 1000).toFixed(1)} ms, ${pct} %</title><rect x="${Number(x).toFixed(1)}" y="${y}" width="${Number(w).toFixed(1)}" height="${rowH - 1}" fill="${colour(name)}"/>${label ? `<text x="${(Number(x) + 3).toFixed(1)}" y="${y + 11}">${label}</text>` : ''}</g>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="monospace" font-size="11">
<rect width="100%" height="100%" fill="#fdfdf8"/>
<text x="4" y="16" font-size="13">${escape(title)}</text>
${body.join('\n')}
</svg>
`;
}

if (import.meta.main) {
  const [input, svgOut, foldedOut, titleArg] = process.argv.slice(2);
  if (!input || !svgOut) throw new Error('usage: node bench/flame.ts file.cpuprofile out.svg [out.folded] [title]');
  const profile = readProfile(input);
  const folded = foldedStacks(profile);
  const wallUs = profile.endTime - profile.startTime;
  const leftOutUs = [...folded].filter(([stack]) => notTheWave(stack)).reduce((sum, [, us]) => sum + us, 0);
  const title = `${titleArg ?? input}: ${(wallUs / 1000).toFixed(0)} ms profiled, ${((wallUs - leftOutUs) / 1000).toFixed(0)} ms of it drawn (idle, V8 bookkeeping and the profiler's start left out); width = time on Curfew's event loop`;
  writeFileSync(svgOut, flameSvg(folded, title));
  if (foldedOut) writeFileSync(foldedOut, [...folded].sort((a, b) => b[1] - a[1]).map(([stack, us]) => `${stack} ${us}`).join('\n') + '\n');
  console.log(`wrote ${svgOut}${foldedOut ? ` and ${foldedOut}` : ''}`);
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCurfew, type Harness } from '../support/curfew.ts';

/** The label sets of one metric family in a Prometheus scrape. */
function labelSets(scrape: string, metric: string): string[] {
  return scrape.split('\n').filter((line) => line.startsWith(`${metric}{`)).map((line) => line.slice(metric.length, line.lastIndexOf('}') + 1));
}

describe('/metrics label cardinality', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startCurfew('memory');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('stays bounded after 2,000 requests to junk paths', async () => {
    for (let i = 0; i < 2000; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => fetch(`${h.url}/junk-${i + j}/x${(i + j) % 7}?q=${i}`).then((r) => r.arrayBuffer())));
    }
    // A few known routes, with ids in their paths, still label by template.
    await fetch(`${h.url}/interaction/abc123`).then((r) => r.arrayBuffer());
    await fetch(`${h.url}/interaction/def456`).then((r) => r.arrayBuffer());
    await fetch(`${h.url}/.well-known/openid-configuration`).then((r) => r.arrayBuffer());
    const scrape = await (await fetch(`${h.url}/metrics`)).text();

    const requests = labelSets(scrape, 'curfew_http_requests_total');
    expect(requests.length).toBeLessThan(10);
    expect(requests).toContain('{method="GET",route="other",status="404"}');
    expect(requests.some((l) => l.includes('route="/interaction/:uid"'))).toBe(true);
    expect(requests.some((l) => l.includes('route="/.well-known/openid-configuration"'))).toBe(true);
    expect(scrape).not.toMatch(/junk-/);
    expect(labelSets(scrape, 'curfew_http_request_duration_seconds_count').length).toBeLessThan(10);
  });
});

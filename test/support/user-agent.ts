/**
 * A browser stand-in for protocol tests: keeps cookies, follows redirects on Curfew's origin,
 * stops at the first redirect that leaves it (the RP's redirect_uri), and submits forms as a
 * person would — with the hidden fields the page carries.
 */
export interface Page {
  url: string;
  status: number;
  html: string;
  headers: Headers;
}

export interface Form {
  action: string;
  fields: Record<string, string>;
}

const decode = (s: string) =>
  s.replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

export class UserAgent {
  readonly origin: string;
  readonly cookies = new Map<string, string>();
  readonly ip: string | undefined;

  constructor(origin: string, options: { ip?: string } = {}) {
    this.origin = origin;
    this.ip = options.ip;
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private remember(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = /expires=Thu, 01 Jan 1970/i.test(line) || /max-age=0/i.test(line);
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** One request, no redirect following. */
  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Page> {
    const headers: Record<string, string> = { accept: 'text/html', cookie: this.cookieHeader() };
    if (this.ip) headers['x-forwarded-for'] = this.ip;
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const target = new URL(url, this.origin).href;
    const res = await fetch(target, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    this.remember(res.headers);
    return { url: target, status: res.status, html: await res.text(), headers: res.headers };
  }

  /**
   * Follows redirects while they stay on Curfew's origin. Returns the final page, or the
   * off-origin redirect target (the RP callback) as `leftTo`.
   */
  async navigate(url: string, init: { form?: Record<string, string> } = {}): Promise<Page & { leftTo?: string }> {
    let page = await this.request(url, init);
    for (let hops = 0; hops < 20; hops++) {
      const location = page.headers.get('location');
      if (page.status < 300 || page.status >= 400 || !location) return page;
      const next = new URL(location, page.url);
      if (next.origin !== this.origin) return { ...page, leftTo: next.href };
      page = await this.request(next.href);
    }
    throw new Error(`too many redirects from ${url}`);
  }

  /** The page's forms that post, with their hidden and pre-filled fields. */
  static forms(html: string, base: string): Form[] {
    const forms: Form[] = [];
    for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
      const attrs = match[1]!;
      const action = decode(/action="([^"]*)"/i.exec(attrs)?.[1] ?? '');
      const fields: Record<string, string> = {};
      for (const input of match[2]!.matchAll(/<input\b([^>]*)>/gi)) {
        const name = /name="([^"]*)"/i.exec(input[1]!)?.[1];
        const value = /value="([^"]*)"/i.exec(input[1]!)?.[1] ?? '';
        if (name) fields[decode(name)] = decode(value);
      }
      forms.push({ action: new URL(action || base, base).href, fields });
    }
    return forms;
  }

  /** Submits the page's form whose action ends with `suffix`, with extra fields filled in. */
  async submit(page: Page, suffix: string, fill: Record<string, string> = {}): Promise<Page & { leftTo?: string }> {
    const form = UserAgent.forms(page.html, page.url).find((f) => new URL(f.action).pathname.endsWith(suffix));
    if (!form) throw new Error(`no form ending in ${suffix} on ${page.url} (status ${page.status}):\n${page.html.slice(0, 500)}`);
    return this.navigate(form.action, { form: { ...form.fields, ...fill } });
  }
}

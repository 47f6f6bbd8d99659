// A minimal single-page app signing in through Curfew: authorization code flow with PKCE in
// the browser (a public client), tokens in memory only. Curfew's /sdk/session.js (loaded by
// index.html) reports the user's input with the access token, warns, and ends the page.
(function () {
  'use strict';
  const config = document.currentScript.dataset;
  const issuer = config.issuer.replace(/\/+$/, '');
  const clientId = config.clientId;
  const redirectUri = `${location.origin}/`;
  const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const random = (n) => b64url(crypto.getRandomValues(new Uint8Array(n)));
  let tokens = null;

  async function metadata() {
    return (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  }

  async function signIn(meta) {
    const verifier = random(32);
    const state = random(16);
    sessionStorage.setItem('curfew-example-pkce', JSON.stringify({ verifier, state }));
    const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
    const url = new URL(meta.authorization_endpoint);
    url.search = new URLSearchParams({
      client_id: clientId, redirect_uri: redirectUri, response_type: 'code', scope: 'openid',
      code_challenge: challenge, code_challenge_method: 'S256', state,
    }).toString();
    location.assign(url.href);
  }

  async function token(meta, params) {
    const res = await fetch(meta.token_endpoint, { method: 'POST', body: new URLSearchParams({ client_id: clientId, ...params }) });
    if (!res.ok) throw new Error(`token endpoint: ${res.status}`);
    tokens = await res.json();
    // session.js reports activity and polls status with the current access token.
    window.CurfewSession.setAccessToken(tokens.access_token);
    return tokens;
  }

  async function main() {
    const meta = await metadata();
    const params = new URLSearchParams(location.search);
    const saved = JSON.parse(sessionStorage.getItem('curfew-example-pkce') || 'null');
    if (!params.get('code') || !saved || params.get('state') !== saved.state) return signIn(meta);
    sessionStorage.removeItem('curfew-example-pkce');
    history.replaceState(null, '', '/');
    await token(meta, { grant_type: 'authorization_code', code: params.get('code'), redirect_uri: redirectUri, code_verifier: saved.verifier });
    document.getElementById('status').textContent = 'Signed in';
    // A background refresh (e.g. on a timer) keeps the tokens fresh; it is not the user's activity.
    window.exampleApp = { refresh: () => token(meta, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }) };
  }

  main().catch((err) => {
    document.getElementById('status').textContent = `Sign-in failed: ${err.message}`;
  });
})();

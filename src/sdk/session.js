/*! Curfew session.js: reports the user's input as activity, warns before the session ends,
 * sends the user to sign in when it has. No dependencies; CSP-friendly (no eval, no inline
 * styles). Configured by data- attributes on its own script tag:
 *   data-signin-url      where to send the user when the session has ended (the app's sign-in)
 *   data-access-token    the RP session's access token (single-page apps; or CurfewSession.setAccessToken)
 *   data-activity-url    same-origin URL of the app that reports activity to Curfew (POST)
 *   data-status-url      same-origin URL of the app that answers Curfew's status (GET)
 *   data-curfew-url      Curfew's base URL (default: where this script came from)
 *   data-interval        seconds between activity reports at most (default 30)
 *   data-poll            seconds between passive status polls (default 60)
 */
(function () {
  'use strict';
  if (window.CurfewSession) return;

  var script = document.currentScript;
  var data = (script && script.dataset) || {};
  var seconds = function (value, fallback) {
    var n = Number(value);
    return (isFinite(n) && n > 0 ? n : fallback) * 1000;
  };
  var curfew = (data.curfewUrl || (script && script.src ? new URL(script.src, location.href).origin : location.origin)).replace(/\/+$/, '');
  var intervalMs = seconds(data.interval, 30);
  var pollMs = seconds(data.poll, 60);
  var token = data.accessToken || null;

  var status = null; // the last answer of Curfew: { active, warningAt, expiresAt, ... }
  var skewMs = 0; // Curfew's clock minus this browser's, from the Curfew-Now header
  var skewKnown = false;
  var lastReport = -Infinity;
  var trailing = null;
  var pollTimer = null;
  var inFlight = null;
  var ended = false;
  var shownFor = null;

  /** The status answer, from Curfew (token) or from the app's own endpoints (same origin, its cookies). */
  function call(kind) {
    var init = { method: kind === 'activity' ? 'POST' : 'GET', headers: {}, cache: 'no-store' };
    var url;
    if (token) {
      url = curfew + '/session/' + kind;
      init.headers.Authorization = 'Bearer ' + token;
      init.credentials = 'omit';
      init.mode = 'cors';
    } else {
      url = kind === 'activity' ? data.activityUrl : data.statusUrl;
      if (!url) return Promise.resolve(null);
      init.credentials = 'same-origin';
      init.headers['X-Requested-With'] = 'curfew-session';
    }
    var sent = Date.now();
    return fetch(url, init).then(function (res) {
      var now = Date.parse(res.headers.get('Curfew-Now') || '');
      // Estimates jitter with latency: keep the current one unless the clocks really moved apart.
      var skew = now - (sent + Date.now()) / 2;
      if (!isNaN(now) && (!skewKnown || Math.abs(skew - skewMs) > 2000)) {
        skewMs = skew;
        skewKnown = true;
      }
      // The app's own endpoint answers 401 once its session is gone: the same end.
      if (res.status === 401) return apply({ active: false });
      if (!res.ok) return null;
      return res.json().then(apply);
    }, function () {
      return null;
    });
  }

  function apply(body) {
    if (!body || typeof body.active !== 'boolean') return null;
    status = body;
    if (!body.active) end();
    else render();
    document.dispatchEvent(new CustomEvent('curfew:status', { detail: body }));
    return body;
  }

  function poll() {
    if (ended) return Promise.resolve(status);
    if (!inFlight) {
      inFlight = call('status').then(function (body) {
        inFlight = null;
        return body;
      });
    }
    clearTimeout(pollTimer);
    pollTimer = setTimeout(poll, pollMs);
    return inFlight;
  }

  function report() {
    clearTimeout(trailing);
    trailing = null;
    lastReport = performance.now();
    return call('activity');
  }

  /** The user did something: reported now, or once at the end of the current interval. */
  function onInput() {
    if (ended) return;
    var wait = lastReport + intervalMs - performance.now();
    if (wait <= 0) report();
    else if (!trailing) trailing = setTimeout(report, wait);
  }

  function end() {
    if (ended) return;
    ended = true;
    clearTimeout(pollTimer);
    clearTimeout(trailing);
    hide();
    document.dispatchEvent(new CustomEvent('curfew:ended'));
    if (data.signinUrl) location.assign(data.signinUrl);
  }

  // The warning: an alertdialog with a live countdown and "Stay signed in".
  var box = null;
  var countdown = null;
  var CSS = '.curfew-session-warning{position:fixed;z-index:2147483647;left:50%;bottom:1.5rem;transform:translateX(-50%);' +
    'max-width:26rem;padding:1rem 1.25rem;background:#fff;color:#1a1a1a;border:2px solid #1a1a1a;border-radius:.5rem;' +
    'box-shadow:0 .25rem 1rem rgba(0,0,0,.25);font:1rem/1.4 system-ui,sans-serif}' +
    '.curfew-session-warning[hidden]{display:none}.curfew-session-warning h2{margin:0 0 .5rem;font-size:1.1rem}' +
    '.curfew-session-warning p{margin:0 0 .75rem}.curfew-session-warning button{font:inherit;padding:.4rem .9rem;cursor:pointer}';

  function build() {
    // A constructed stylesheet is CSSOM, which CSP does not block (no <style>, no style attribute).
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);
    } catch (e) { /* unstyled but usable */ }
    box = document.createElement('div');
    box.className = 'curfew-session-warning';
    box.hidden = true;
    box.setAttribute('role', 'alertdialog');
    box.setAttribute('aria-live', 'assertive');
    box.setAttribute('aria-labelledby', 'curfew-session-title');
    box.setAttribute('aria-describedby', 'curfew-session-text');
    var title = document.createElement('h2');
    title.id = 'curfew-session-title';
    title.textContent = 'Your session is about to end';
    var text = document.createElement('p');
    text.id = 'curfew-session-text';
    text.appendChild(document.createTextNode('You will be signed out in '));
    countdown = document.createElement('span');
    countdown.className = 'curfew-session-countdown';
    countdown.setAttribute('role', 'timer'); // a timer is not announced at every tick
    text.appendChild(countdown);
    text.appendChild(document.createTextNode(' unless you continue.'));
    var button = document.createElement('button');
    button.type = 'button';
    button.textContent = 'Stay signed in';
    button.addEventListener('click', function () {
      // The pointer or key that pressed it may have just reported; one report is enough.
      if (performance.now() - lastReport > 1000) report();
    });
    box.appendChild(title);
    box.appendChild(text);
    box.appendChild(button);
    document.body.appendChild(box);
  }

  function hide() {
    if (box) box.hidden = true;
    shownFor = null;
  }

  function render() {
    if (!status || !status.active) return;
    var now = Date.now() + skewMs;
    var warnAt = Date.parse(status.warningAt);
    var endAt = Date.parse(status.expiresAt);
    if (now >= endAt) {
      poll();
      return;
    }
    if (now < warnAt) {
      hide();
      return;
    }
    if (!box) build();
    var left = Math.max(0, Math.ceil((endAt - now) / 1000));
    countdown.textContent = Math.floor(left / 60) + ':' + ('0' + (left % 60)).slice(-2);
    if (box.hidden) {
      box.hidden = false;
      if (shownFor !== status.warningAt) box.querySelector('button').focus();
      shownFor = status.warningAt;
    }
  }

  ['keydown', 'pointerdown', 'touchstart'].forEach(function (type) {
    document.addEventListener(type, onInput, { capture: true, passive: true });
  });
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState !== 'visible') return;
    onInput();
    poll();
  });
  setInterval(render, 1000);

  window.CurfewSession = {
    /** The RP session's access token (e.g. after a refresh); polls at once with it. */
    setAccessToken: function (value) {
      token = value || null;
      return poll();
    },
    /** Reports activity now (the app knows its user did something). */
    reportActivity: report,
    /** Asks Curfew for the status now (passive). */
    poll: poll,
    status: function () {
      return status;
    },
  };
  if (token || data.statusUrl) poll();
})();

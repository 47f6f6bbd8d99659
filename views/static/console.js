// The console's small enhancements; every page works without them.
(function () {
  for (const time of document.querySelectorAll('time[datetime]')) time.textContent = new Date(time.getAttribute('datetime')).toLocaleString();
  // Every destructive action asks first (data-confirm on its form).
  for (const f of document.querySelectorAll('form[data-confirm]')) {
    f.addEventListener('submit', function (event) {
      if (!window.confirm(f.getAttribute('data-confirm'))) event.preventDefault();
    });
  }
  // Live countdowns (sessions' idle/absolute ends, deliveries' next attempt), counted on the
  // server's clock: the page's data-now is measured against this browser's once, so a skewed
  // device still counts right.
  const countdowns = document.querySelectorAll('[data-until]');
  if (countdowns.length) {
    const clock = document.querySelector('[data-now]');
    const skew = clock ? Date.parse(clock.getAttribute('data-now')) - Date.now() : 0;
    const words = function (ms) {
      const s = Math.ceil(ms / 1000);
      const h = Math.floor(s / 3600);
      const m = Math.floor((s % 3600) / 60);
      const sec = String(s % 60).padStart(2, '0');
      return 'in ' + (h ? h + ' h ' + String(m).padStart(2, '0') + ' min' : m + ':' + sec);
    };
    const tick = function () {
      const now = Date.now() + skew;
      for (const el of countdowns) {
        const left = Date.parse(el.getAttribute('data-until')) - now;
        el.textContent = left > 0 ? words(left) : (el.getAttribute('data-past') || 'ended');
        el.classList.toggle('past', left <= 0);
      }
    };
    tick();
    setInterval(tick, 1000);
  }
})();

// Countdown for the account page: from warningAt on, the user is told how long is left and
// that "Stay signed in" keeps the session. Times come from the server's shared clock; the
// offset to this browser's clock is measured once so a skewed device still counts right.
(function () {
  const section = document.getElementById('session');
  const label = document.getElementById('countdown');
  if (!section || !label) return;
  for (const time of document.querySelectorAll('time[datetime]')) {
    time.textContent = new Date(time.getAttribute('datetime')).toLocaleString();
  }
  const skew = Date.parse(section.dataset.now) - Date.now();
  const expiresAt = Date.parse(section.dataset.expiresAt);
  const warningAt = Date.parse(section.dataset.warningAt);
  function tick() {
    const now = Date.now() + skew;
    const left = Math.max(0, Math.round((expiresAt - now) / 1000));
    if (left === 0) {
      label.textContent = 'Your session has ended.';
      label.className = 'error';
      return;
    }
    if (now >= warningAt) {
      const m = Math.floor(left / 60);
      const s = String(left % 60).padStart(2, '0');
      label.textContent = 'Your session ends in ' + m + ':' + s + '. Select "Stay signed in" to keep it.';
      label.className = 'error';
    }
    setTimeout(tick, 1000);
  }
  tick();
})();

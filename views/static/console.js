// The policy page's explain preview: asks the server as the admin types, without a reload.
// Without JavaScript the form still works: it opens the JSON answer.
(function () {
  for (const time of document.querySelectorAll('time[datetime]')) time.textContent = new Date(time.getAttribute('datetime')).toLocaleString();
  // Every destructive action asks first (data-confirm on its form).
  for (const f of document.querySelectorAll('form[data-confirm]')) {
    f.addEventListener('submit', function (event) {
      if (!window.confirm(f.getAttribute('data-confirm'))) event.preventDefault();
    });
  }
  const form = document.getElementById('explain');
  const out = document.getElementById('explain-result');
  if (!form || !out) return;
  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    const params = new URLSearchParams(new FormData(form));
    for (const [k, v] of [...params]) if (!v) params.delete(k);
    const res = await fetch('/admin/explain?' + params.toString(), { headers: { accept: 'application/json' } });
    const body = await res.json();
    out.textContent = res.ok ? JSON.stringify(body, null, 2) : (body.error_description || 'Not found');
  });
})();

// The connector pages' behaviours, without inline scripts (the CSP forbids them).

// « Copier l'adresse »: the clipboard when the browser allows it, else the text selected.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) {
    return;
  }
  const source = document.getElementById(button.dataset.copy);
  if (!source) {
    return;
  }
  source.select();
  try {
    await navigator.clipboard.writeText(source.value);
  } catch {
    document.execCommand("copy");
  }
  const label = button.textContent;
  button.textContent = button.dataset.copied || label;
  window.setTimeout(() => { button.textContent = label; }, 2000);
});

// The connector page: when the sync it follows ends, show the new status and log.
document.addEventListener("htmx:afterSettle", () => {
  const job = document.querySelector("[data-connector-reload] .job[data-status]");
  if (job && ["succeeded", "failed"].includes(job.dataset.status)) {
    const url = new URL(window.location.href);
    url.searchParams.delete("tache");
    window.location.replace(url.toString());
  }
});

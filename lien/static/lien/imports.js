// The import wizard's behaviours, without inline scripts (the CSP forbids them).

// Mapping: « Créer un champ personnalisé… » shows the name and type of the new field.
document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-new-field]");
  if (select) {
    const box = document.getElementById(select.dataset.newField);
    if (box) {
      box.hidden = select.value !== "__nouveau__";
    }
  }
});

// The import page: when the check or the run it follows ends, show the next step.
document.addEventListener("htmx:afterSettle", () => {
  const job = document.querySelector("[data-import-reload] .job[data-status]");
  if (job && ["succeeded", "failed"].includes(job.dataset.status)) {
    window.location.reload();
  }
});

// Lien's few behaviours, without inline scripts (the CSP forbids them).
document.addEventListener("click", (event) => {
  const toggle = event.target.closest("[data-toggle]");
  if (toggle) {
    document.getElementById(toggle.dataset.toggle)?.classList.toggle("open");
  }
});

document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// Lists: a header checkbox ticks every row of the page.
document.addEventListener("change", (event) => {
  const all = event.target.closest("[data-check-all]");
  if (all) {
    const form = all.closest("form");
    form.querySelectorAll(`input[name="${all.dataset.checkAll}"]`).forEach((box) => {
      box.checked = all.checked;
    });
  }
  const action = event.target.closest("[data-bulk-action]");
  if (action) {
    action.closest("form").querySelectorAll("[data-bulk-for]").forEach((field) => {
      field.hidden = !field.dataset.bulkFor.split(" ").includes(action.value);
    });
  }
});

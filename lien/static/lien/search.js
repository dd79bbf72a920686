// The advanced search builder's few behaviours (the CSP forbids inline scripts).
// The server renders the builder; these only filter long lists and show, at its
// condition, the error the live count reports while the member types.

function matches(text, query) {
  const plain = (value) => value.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  return plain(text).includes(plain(query.trim()));
}

// « Chercher un champ » narrows the field list; Enter picks the first field left.
document.addEventListener("input", (event) => {
  const filter = event.target.closest("[data-field-filter]");
  if (filter) {
    const select = document.getElementById(filter.dataset.fieldFilter);
    if (!select) return;
    select.querySelectorAll("optgroup").forEach((group) => {
      let visible = 0;
      group.querySelectorAll("option").forEach((option) => {
        option.hidden = !matches(option.textContent, filter.value);
        if (!option.hidden) visible += 1;
      });
      group.hidden = visible === 0;
    });
    return;
  }
  const choices = event.target.closest("[data-choice-filter]");
  if (choices) {
    choices.closest(".choice-box").querySelectorAll(".check-line").forEach((line) => {
      line.hidden = !matches(line.textContent, choices.value);
    });
  }
});

document.addEventListener("keydown", (event) => {
  const filter = event.target.closest("[data-field-filter], [data-choice-filter]");
  if (!filter || event.key !== "Enter") return;
  event.preventDefault(); // never submit the builder from a filter box
  if (!filter.dataset.fieldFilter) return;
  const select = document.getElementById(filter.dataset.fieldFilter);
  const first = select && select.querySelector("optgroup:not([hidden]) option:not([hidden])");
  if (first) {
    select.value = first.value;
    select.dispatchEvent(new Event("change", { bubbles: true }));
  }
});

// The count's answer names the faulty condition (data-error-path): show the message there.
document.addEventListener("htmx:afterSwap", (event) => {
  const status = event.detail.target;
  if (!status || status.id !== "search-status") return;
  const report = status.querySelector("[data-error-path]");
  if (!report) return;
  const builder = document.getElementById("search-builder");
  builder.querySelectorAll(".node.has-error").forEach((node) => node.classList.remove("has-error"));
  builder.querySelectorAll(".node-error").forEach((line) => { line.textContent = ""; });
  const path = report.dataset.errorPath;
  if (!report.dataset.errorMessage) return;
  const line = builder.querySelector(`.node-error[data-error-for="${CSS.escape(path)}"]`);
  if (line) {
    line.textContent = report.dataset.errorMessage;
    line.closest(".node").classList.add("has-error");
  }
});

// Typing while the builder redraws: what changed since the request left is put back
// into the redrawn widgets (same ids), then counted, so no keystroke is lost.
let sentValues = null;
let typedValues = null;

function widgetState(element) {
  return element.type === "checkbox" ? String(element.checked) : element.value;
}

function widgets() {
  return document.querySelectorAll(
    "#search-builder input[id], #search-builder select[id], #search-builder textarea[id]",
  );
}

document.addEventListener("htmx:beforeRequest", (event) => {
  if (event.detail.target?.id !== "search-builder") return;
  sentValues = new Map();
  widgets().forEach((element) => sentValues.set(element.id, widgetState(element)));
});

document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.target?.id !== "search-builder" || !sentValues) return;
  typedValues = new Map();
  sentValues.forEach((state, id) => {
    const element = document.getElementById(id);
    if (element && widgetState(element) !== state) typedValues.set(id, widgetState(element));
  });
  sentValues = null;
});

document.addEventListener("htmx:afterSettle", (event) => {
  if (event.detail.target?.id !== "search-builder" || !typedValues) return;
  typedValues.forEach((state, id) => {
    const element = document.getElementById(id);
    if (!element) return;
    if (element.type === "checkbox") {
      element.checked = state === "true";
      element.dispatchEvent(new Event("change", { bubbles: true }));
    } else {
      element.value = state;
      element.dispatchEvent(new Event(element.tagName === "SELECT" ? "change" : "input", { bubbles: true }));
    }
  });
  typedValues = null;
});

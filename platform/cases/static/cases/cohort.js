// The cohort page's "select all" box ticks every case box of its table.
for (const all of document.querySelectorAll("[data-select-all]")) {
  all.addEventListener("change", () => {
    const table = all.closest("table");
    for (const box of table.querySelectorAll(`input[name="${all.dataset.selectAll}"]`)) box.checked = all.checked;
  });
}

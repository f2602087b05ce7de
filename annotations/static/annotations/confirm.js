// Asks before a button carrying data-confirm submits its form: approving a VOI that failed a plausibility
// check (annotations/voi_checks.py) needs the reviewer to say so; Cancel leaves the page as it was.
document.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-confirm]');
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});

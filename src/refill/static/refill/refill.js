// Small progressive enhancements; every page works without this file.
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  if (button && button.dataset.testid === "pay") {
    // The server is idempotent anyway; this only spares the customer a confusing second click.
    setTimeout(() => { button.disabled = true; }, 0);
  }
});

// Copy buttons: <button data-copy="id-of-an-input" data-copied="Copied">
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  if (!field) return;
  field.select();
  try {
    await navigator.clipboard.writeText(field.value);
  } catch {
    document.execCommand("copy"); // older browsers, or no clipboard permission
  }
  const label = button.textContent;
  button.textContent = button.dataset.copied || label;
  setTimeout(() => { button.textContent = label; }, 2000);
});

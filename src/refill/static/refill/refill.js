// Small progressive enhancements; every page works without this file.
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  if (button && button.dataset.testid === "pay") {
    // The server is idempotent anyway; this only spares the customer a confusing second click.
    setTimeout(() => { button.disabled = true; }, 0);
  }
});

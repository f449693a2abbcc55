// The bank's step (3-D Secure) in the page, by the payment provider's own script
// (templates/portal/bank_step.html). Stripe.js's handleNextAction carries out what the intent asks
// for; a stand-in without it (localstripe, in the tests) offers confirmCardPayment, which does the
// same for an intent waiting on the bank. Whatever the script answers, the return address asks
// Stripe how the payment ended: the page never decides it.
(() => {
  "use strict";
  const LOCALES = { "zh-hans": "zh", en: "en" };
  const box = document.querySelector("[data-bank-step]");
  if (!box || typeof window.Stripe !== "function") return;
  const stripe = window.Stripe(box.dataset.key, { locale: LOCALES[box.dataset.locale] || "auto" });
  const secret = box.dataset.secret;
  const step = typeof stripe.handleNextAction === "function"
    ? stripe.handleNextAction({ clientSecret: secret })
    : stripe.confirmCardPayment(secret);
  Promise.resolve(step).catch(() => null).then(() => { window.location.replace(box.dataset.return); });
})();

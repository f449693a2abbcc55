// The provider's own card field (templates/portal/_card_fields.html, browser mode; docs/payments.md
// "Stripe"). Stripe.js shows the card field and, when the customer pays, turns what they typed into
// a PaymentMethod at Stripe; this form then posts only its reference (pm_…), never the number, the
// expiry or the security code. Where the browser has Apple Pay or Google Pay, the provider's wallet
// button gives a reference the same way; elsewhere it stays hidden.
(() => {
  "use strict";

  // Stripe.js locales for Refill's languages (Simplified Chinese is Stripe's "zh").
  const LOCALES = { "zh-hans": "zh", en: "en" };

  // Same rule as card-form.js: the card counts for this submit only when it is shown, a card is the
  // chosen way to pay, and the pressed button takes a payment.
  const cardNeeded = (box, form, submitter) => {
    if (!box.getClientRects().length) return false;
    const choices = (box.dataset.cardChoices || "card wallet_card").split(" ");
    const chosen = form.querySelector("input[name=pay_with]:checked");
    if (chosen && !choices.includes(chosen.value)) return false;
    if (submitter && submitter.formNoValidate) return false;
    const actions = (box.dataset.cardActions || "pay add card wallet_card").split(" ");
    if (submitter && submitter.name === "action" && !actions.includes(submitter.value)) return false;
    return true;
  };

  const setUp = (box) => {
    const form = box.closest("form");
    const mount = box.querySelector("[data-card-element]");
    const error = box.querySelector("[data-card-element-error]");
    const summary = box.querySelector("[data-card-summary]");
    const reference = box.querySelector("[data-card-reference]");
    const holder = box.querySelector("input[name=card_holder]");
    if (!form || !mount || !reference || box.dataset.cardReady) return;
    box.dataset.cardReady = "1";

    const show = (message) => {
      error.textContent = message || "";
      error.hidden = !message;
      summary.querySelector("ul").replaceChildren(...(message ? [Object.assign(document.createElement("li"), {
        textContent: message,
      })] : []));
      summary.hidden = !message;
      if (message) summary.focus();
    };

    if (typeof window.Stripe !== "function") {
      show(box.dataset.msgElementUnavailable);
      return;
    }
    const locale = LOCALES[box.dataset.locale] || "auto";
    const stripe = window.Stripe(box.dataset.key, { locale });
    const elements = stripe.elements({ locale });
    const card = elements.create("card", { hidePostalCode: true });
    card.mount(mount);
    card.on("change", (event) => {
      if (event && event.error) show(event.error.message);
      else if (!error.hidden) show("");
    });
    // Back to a page kept by the browser: a reference already used is not sent again.
    window.addEventListener("pageshow", () => { reference.value = ""; });

    let busy = false;
    form.addEventListener("submit", async (event) => {
      if (reference.value || !cardNeeded(box, form, event.submitter)) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      if (busy) return;
      busy = true;
      const submitter = event.submitter;
      const billing = holder && holder.value.trim() ? { name: holder.value.trim() } : {};
      let result;
      try {
        result = await stripe.createPaymentMethod({ type: "card", card, billing_details: billing });
      } catch (problem) {
        result = { error: problem };
      }
      busy = false;
      const made = result && result.paymentMethod && result.paymentMethod.id;
      if (!made) {
        show((result && result.error && result.error.message) || box.dataset.msgElementRequired);
        return;
      }
      reference.value = made;
      form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
    }, true);

    // Apple Pay / Google Pay: the provider's wallet button, on a checkout that shows its total
    // (data-pay-total-minor, re-rendered with the price), where the browser can pay that way.
    const wallet = box.querySelector("[data-wallet-button]");
    const priced = () => form.querySelector("[data-pay-total-minor]");
    if (!wallet || !priced() || typeof stripe.paymentRequest !== "function") return;
    const total = () => ({
      label: priced().dataset.payLabel || document.title,
      amount: Number(priced().dataset.payTotalMinor),
    });
    const request = stripe.paymentRequest({
      country: box.dataset.country || "US",
      currency: priced().dataset.payCurrency.toLowerCase(),
      total: total(),
      requestPayerName: true,
    });
    document.body.addEventListener("htmx:afterSettle", () => {
      if (priced() && request.update) request.update({ total: total() });
    });
    Promise.resolve(request.canMakePayment()).then((able) => {
      if (!able) return; // no wallet in this browser: the button stays hidden
      elements.create("paymentRequestButton", { paymentRequest: request }).mount(wallet);
      wallet.hidden = false;
    }).catch(() => {});
    request.on("paymentmethod", (event) => {
      reference.value = event.paymentMethod.id;
      const cardChoice = form.querySelector("input[name=pay_with][value=card]");
      if (cardChoice) cardChoice.checked = true;
      event.complete("success");
      const pay = [...form.querySelectorAll("button[type=submit], button:not([type])")]
        .find((button) => cardNeeded(box, form, button));
      form.requestSubmit(pay);
    });
  };

  document.querySelectorAll("[data-card-fields][data-card-browser]").forEach(setUp);
})();

// Test double, appended by tests/localstripe_server.py to localstripe's own Stripe.js stand-in
// (localstripe-v3.js) where it lacks what real Stripe.js has and Refill uses (docs/payments.md,
// "Stripe", Tests):
// - stripe.createPaymentMethod({type: "card", card, billing_details}): localstripe's is an empty
//   function. Like Stripe.js, this posts the card element's fields with the publishable key to
//   POST /v1/payment_methods (which the harness lets a publishable key call, as Stripe does) and
//   answers {paymentMethod} or {error}.
// - stripe.paymentRequest(options) (the Apple Pay / Google Pay button): a browser without a wallet,
//   such as headless Chromium, answers canMakePayment() with null, so the button stays hidden.
// Everything else is localstripe's.
(function () {
  const localstripe = Stripe;
  Stripe = (apiKey, options) => {
    const stripe = localstripe(apiKey, options);
    stripe.createPaymentMethod = async (data) => {
      const element = data && data.card;
      const card = element && element.value && element.value.card;
      if (!card || !card.number) {
        return {error: {type: "validation_error", code: "incomplete_number",
                        message: "Your card number is incomplete."}};
      }
      const body = new URLSearchParams({key: apiKey, type: data.type || "card"});
      ["number", "exp_month", "exp_year", "cvc"].forEach((field) => {
        body.append(`card[${field}]`, card[field]);
      });
      const name = data.billing_details && data.billing_details.name;
      if (name) body.append("billing_details[name]", name);
      try {
        const response = await fetch(`${LOCALSTRIPE_BASE_API}/v1/payment_methods`, {method: "POST", body});
        const res = await response.json().catch(() => ({}));
        if (response.status !== 200 || res.error) return {error: res.error || {message: "Bad request"}};
        return {paymentMethod: res};
      } catch (err) {
        return {error: {message: String(err)}};
      }
    };
    stripe.paymentRequest = (options) => ({
      canMakePayment: async () => null,
      update: () => {},
      on: () => {},
      show: () => { throw new Error("no wallet in this browser"); },
    });
    return stripe;
  };
})();

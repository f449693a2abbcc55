// Test double, appended by tests/localstripe_server.py to localstripe's own Stripe.js stand-in
// (localstripe-v3.js) where it lacks what real Stripe.js has and Refill uses (docs/payments.md,
// "Stripe", Tests):
// - stripe.createPaymentMethod({type: "card", card, billing_details}): localstripe's is an empty
//   function. Like Stripe.js, this posts the card element's fields with the publishable key to
//   POST /v1/payment_methods (which the harness lets a publishable key call, as Stripe does) and
//   answers {paymentMethod} or {error}.
// - stripe.paymentRequest(options) (the Apple Pay / Google Pay button): a browser without a wallet,
//   such as headless Chromium, answers canMakePayment() with null, so the button stays hidden.
//   A test declares a wallet before the page loads (Playwright's add_init_script):
//   window.__refillTestWallet = {applePay: true} (optionally card: "4242…", payerName: "…").
//   canMakePayment() then answers that object without `card` and `payerName`, as Stripe.js
//   answers {applePay, googlePay}; elements.create("paymentRequestButton", {paymentRequest}) makes
//   a real <button> (localstripe's elements.create knows only the card field and allows one
//   element); pressing it stands in for the wallet's sheet: the card becomes a PaymentMethod through
//   the same POST /v1/payment_methods, and the handlers given to request.on("paymentmethod") get the
//   event Stripe.js documents (PaymentResponse: paymentMethod, complete(status), payerName,
//   payerEmail, payerPhone, shippingAddress, shippingOption, walletName, methodName). Every
//   complete(status) is recorded in window.__refillTestWalletCompleted, and copied to
//   sessionStorage "refillTestWalletCompleted" so the test can read it after the page has moved on.
// Everything else is localstripe's.
(function () {
  const localstripe = Stripe;
  Stripe = (apiKey, options) => {
    const stripe = localstripe(apiKey, options);
    const postPaymentMethod = async (card, name) => {
      const body = new URLSearchParams({key: apiKey, type: "card"});
      ["number", "exp_month", "exp_year", "cvc"].forEach((field) => {
        body.append(`card[${field}]`, card[field]);
      });
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
    stripe.createPaymentMethod = async (data) => {
      const element = data && data.card;
      const card = element && element.value && element.value.card;
      if (!card || !card.number) {
        return {error: {type: "validation_error", code: "incomplete_number",
                        message: "Your card number is incomplete."}};
      }
      return postPaymentMethod(card, data.billing_details && data.billing_details.name);
    };
    const testWallet = () => window.__refillTestWallet || null;
    stripe.paymentRequest = (options) => {
      const handlers = {};
      const request = {
        options,
        canMakePayment: async () => {
          const wallet = testWallet();
          if (!wallet) return null;
          const {card, payerName, ...able} = wallet;
          return able;
        },
        update: (changes) => { Object.assign(request.options, changes); },
        on: (event, handler) => { (handlers[event] = handlers[event] || []).push(handler); },
        show: async () => {
          const wallet = testWallet();
          if (!wallet) throw new Error("no wallet in this browser");
          const payerName = wallet.payerName || "Wallet Holder";
          const number = wallet.card || "4242424242424242";
          const made = await postPaymentMethod(
            {number, exp_month: "12", exp_year: "2039", cvc: "123"}, payerName);
          if (!made.paymentMethod) {
            (handlers.cancel || []).forEach((handler) => handler());
            return;
          }
          window.__refillTestWalletCompleted = window.__refillTestWalletCompleted || [];
          const event = {
            paymentMethod: made.paymentMethod,
            complete: (status) => {
              window.__refillTestWalletCompleted.push(status);
              // Kept past the page change the payment causes (same origin: Refill's page).
              sessionStorage.setItem("refillTestWalletCompleted",
                                     JSON.stringify(window.__refillTestWalletCompleted));
            },
            payerName,
            payerEmail: undefined,
            payerPhone: undefined,
            shippingAddress: undefined,
            shippingOption: undefined,
            walletName: wallet.applePay ? "applePay" : wallet.googlePay ? "googlePay" : "browserCard",
            methodName: wallet.applePay ? "https://apple.com/apple-pay" : "https://google.com/pay",
          };
          (handlers.paymentmethod || []).forEach((handler) => handler(event));
        },
      };
      return request;
    };
    const localElements = stripe.elements;
    stripe.elements = (...args) => {
      const elements = localElements(...args);
      const localCreate = elements.create;
      elements.create = function (type, elementOptions) {
        if (type !== "paymentRequestButton") return localCreate.call(this, type, elementOptions);
        const request = elementOptions && elementOptions.paymentRequest;
        const button = document.createElement("button");
        button.type = "button";
        button.className = "localstripe-payment-request-button";
        button.textContent = testWallet() && testWallet().googlePay ? "Google Pay" : "Apple Pay";
        button.addEventListener("click", () => { request.show(); });
        return {
          mount: (target) => {
            const into = typeof target === "string" ? document.querySelector(target) : target;
            into.replaceChildren(button);
          },
          unmount: () => button.remove(),
          destroy: () => button.remove(),
          on: () => {},
        };
      };
      return elements;
    };
    return stripe;
  };
})();

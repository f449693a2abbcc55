// Card fields checked before the form is sent (templates/portal/_card_fields.html): the same rules
// and the same words as the server's (refill/payments/card_form.py), so a typing mistake is caught
// here and never costs the customer the number they typed. Without this file the server says it all.
(() => {
  "use strict";
  const MAX_YEARS_AHEAD = 20; // card_form.MAX_YEARS_AHEAD

  const luhnValid = (digits) => {
    let total = 0;
    for (let i = 0; i < digits.length; i += 1) {
      let value = Number(digits[digits.length - 1 - i]);
      if (i % 2) value = value > 4 ? value * 2 - 9 : value * 2;
      total += value;
    }
    return total % 10 === 0;
  };

  const numberError = (text) => {
    const digits = text.replace(/[\s-]+/g, "");
    if (!digits) return "number-required";
    const ok = /^[0-9]{12,19}$/.test(digits) && luhnValid(digits);
    return ok ? "" : "number-invalid";
  };

  const expiryError = (text) => {
    const compact = text.replace(/\s+/g, "");
    if (!compact) return "expiry-required";
    const found = /^([0-9]{1,2})[/\-.]([0-9]{2}|[0-9]{4})$/.exec(compact) || /^([0-9]{2})([0-9]{2}|[0-9]{4})$/.exec(compact);
    if (!found) return "expiry-invalid";
    const month = Number(found[1]);
    const year = Number(found[2]) + (found[2].length === 2 ? 2000 : 0);
    const today = new Date();
    if (month < 1 || month > 12 || year > today.getFullYear() + MAX_YEARS_AHEAD) return "expiry-invalid";
    if (year * 12 + month < today.getFullYear() * 12 + today.getMonth() + 1) return "expiry-past";
    return "";
  };

  const cvcError = (text) => {
    const cvc = text.trim();
    if (!cvc) return "cvc-required";
    return /^[0-9]{3,4}$/.test(cvc) ? "" : "cvc-invalid";
  };

  const CHECKS = { number: numberError, expiry: expiryError, cvc: cvcError };

  // The card fields count for this submit: shown, enabled, a card is the chosen way to pay, and
  // the button pressed takes a payment (not "Apply" a code, not "Cash").
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

  const showError = (input, message) => {
    const error = document.getElementById(`${input.id}_error`);
    const described = (input.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && id !== error.id);
    error.textContent = message;
    error.hidden = !message;
    if (message) {
      input.setAttribute("aria-invalid", "true");
      described.push(error.id);
    } else {
      input.removeAttribute("aria-invalid");
    }
    if (described.length) input.setAttribute("aria-describedby", described.join(" "));
    else input.removeAttribute("aria-describedby");
  };

  const showSummary = (summary, problems) => {
    const list = summary.querySelector("ul");
    list.replaceChildren(...problems.map(([input, message]) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = `#${input.id}`;
      link.textContent = message;
      item.append(link);
      return item;
    }));
    summary.hidden = !problems.length;
  };

  const check = (box) => {
    const problems = [];
    box.querySelectorAll("[data-card]").forEach((input) => {
      const code = CHECKS[input.dataset.card](input.value);
      const message = code ? box.dataset[`msg${code.replace(/(^|-)(\w)/g, (_, __, c) => c.toUpperCase())}`] : "";
      showError(input, message);
      if (message) problems.push([input, message]);
    });
    return problems;
  };

  // A choice the form cannot go without (<fieldset data-required-choice data-msg-required>, e.g.
  // the plan of "Refill any number"): said in the same summary as the card's errors.
  const choiceProblems = (form) => {
    const problems = [];
    form.querySelectorAll("fieldset[data-required-choice]").forEach((fieldset) => {
      if (!fieldset.getClientRects().length) return;
      const missing = !fieldset.querySelector("input:checked");
      const message = missing ? fieldset.dataset.msgRequired : "";
      const error = fieldset.querySelector("[data-choice-error]");
      if (error) {
        error.textContent = message;
        error.hidden = !message;
      }
      if (missing) problems.push([fieldset.querySelector("input"), message]);
    });
    return problems;
  };

  const setUp = (box) => {
    const form = box.closest("form");
    // A form with its own summary (data-form-summary) says every problem there, the card's too.
    const summary = (form && form.querySelector("[data-form-summary]")) || box.querySelector("[data-card-summary]");
    if (!form || !summary || box.dataset.cardReady) return;
    box.dataset.cardReady = "1";
    // The summary belongs at the top of the form, where the eye and the focus go first (under the
    // form's own heading, when it opens with one).
    const first = [...form.children].find((child) => !(child.matches("input[type=hidden]")));
    if (first && first.matches("h1, h2, h3")) first.after(summary);
    else form.prepend(summary);
    if (!summary.hidden) summary.focus();
    summary.addEventListener("click", (event) => {
      const link = event.target.closest("a[href^='#']");
      if (!link) return;
      event.preventDefault();
      document.getElementById(link.getAttribute("href").slice(1))?.focus();
    });
    form.addEventListener("submit", (event) => {
      const choices = summary.matches("[data-form-summary]") ? choiceProblems(form) : [];
      const card = cardNeeded(box, form, event.submitter);
      if (!card && !choices.length) return;
      const problems = [...choices, ...(card ? check(box) : [])];
      showSummary(summary, problems);
      if (problems.length) {
        event.preventDefault();
        event.stopImmediatePropagation();
        summary.focus();
      }
    }, true);
  };

  document.querySelectorAll("[data-card-fields]").forEach(setUp);
})();

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from refill.domain.identifiers import InvalidIdentifier, normalize_msisdn
from refill.lines.models import Line
from refill.orders.models import Order
from refill.orders.selectors import customer_orders

from .limits import attachments_check, max_file_bytes, max_files
from .models import Category, Ticket
from .selectors import staff_who_may_act


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field; each is checked by ``attachments_check`` (kind from the bytes)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".png,.jpg,.jpeg,.pdf,.txt"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        files = [f for f in files if f]
        return attachments_check(files)


def _attachments_help() -> str:
    return _("Up to %(count)s files, %(size)s MB each: PNG or JPEG pictures, PDF or plain text.") % {
        "count": max_files(),
        "size": f"{max_file_bytes() / (1024 * 1024):g}",
    }


class _MessageFields(forms.Form):
    body = forms.CharField(label=_("Message"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 6}))
    attachments = MultipleFileField(label=_("Attachments"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = _attachments_help()


class ContactForm(_MessageFields):
    """The contact form: a logged-in customer picks one of their own lines; anyone else types a
    number (optional) and says who they are."""

    contact_name = forms.CharField(label=_("Your name"), max_length=200)
    contact_email = forms.EmailField(label=_("Your email address"))
    category = forms.ChoiceField(label=_("What is it about?"), choices=Category.choices)
    line = forms.ModelChoiceField(label=_("Number"), queryset=Line.objects.none(), required=False)
    line_number = forms.CharField(label=_("Phone number (optional)"), max_length=32, required=False)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    topic = forms.CharField(max_length=200, required=False, widget=forms.HiddenInput)
    # "A problem with this order" on an order's page: one of the customer's own orders.
    order = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    field_order = ["contact_name", "contact_email", "category", "line", "line_number", "subject", "body", "attachments"]

    def __init__(self, *args, customer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        if customer is not None:
            del self.fields["contact_name"], self.fields["contact_email"], self.fields["line_number"]
            self.fields["line"].queryset = Line.objects.filter(owner=customer).order_by("msisdn")
            self.fields["line"].label_from_instance = lambda line: (
                f"{line.msisdn_display} · {line.label}" if line.label else str(line.msisdn_display)
            )
            self.fields["line"].empty_label = _("None in particular")
        else:
            del self.fields["line"], self.fields["order"]

    def clean_order(self) -> Order | None:
        pk = self.cleaned_data.get("order")
        if pk is None:
            return None
        order = customer_orders(self.customer).filter(pk=pk).first()
        if order is None:
            raise forms.ValidationError(_("This order is not one of yours."), code="not_yours")
        return order

    def clean_topic(self) -> str:
        # The help topic the customer came from: kept as a slug, whatever the link carried.
        return slugify(self.cleaned_data.get("topic", ""))[:80]

    def clean_contact_email(self) -> str:
        return self.cleaned_data["contact_email"].strip().lower()

    def clean_line_number(self) -> str:
        text = self.cleaned_data.get("line_number", "").strip()
        if not text:
            return ""
        try:
            return normalize_msisdn(text, settings.REFILL_DEFAULT_REGION)
        except InvalidIdentifier:
            raise forms.ValidationError(_("Enter a valid phone number."), code="invalid_number") from None


class ReplyForm(_MessageFields):
    """The customer's answer on their ticket."""

    body = forms.CharField(label=_("Your reply"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 4}))


class StaffTextForm(forms.Form):
    body = forms.CharField(label=_("Text"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 4}))


class StaffReplyForm(StaffTextForm):
    """A reply to the customer, with files for them (a screenshot, a form to fill in), under the
    customer's limits."""

    attachments = MultipleFileField(label=_("Attachments"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = _attachments_help()


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Ticket.Status.choices)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(label=_("Assign to"), queryset=None, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff_who_may_act()
        self.fields["assignee"].empty_label = _("Nobody")

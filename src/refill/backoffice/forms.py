from django import forms
from django.utils.translation import gettext_lazy as _

from refill.domain.money import MINOR_UNITS


class VoucherGenerateForm(forms.Form):
    count = forms.IntegerField(label=_("How many PINs"), min_value=1, max_value=10_000, initial=100)
    face_value = forms.DecimalField(label=_("Face value"), min_value=0, max_digits=10, decimal_places=2)
    currency = forms.ChoiceField(label=_("Currency"), choices=[(c, c) for c in sorted(MINOR_UNITS)])
    expires_in_days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=3650, initial=90)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class VoucherImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), required=False)
    pasted = forms.CharField(label=_("or paste CSV"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("file") and not cleaned.get("pasted"):
            raise forms.ValidationError(_("Choose a CSV file or paste its contents."))
        upload = cleaned.get("file")
        if upload is not None and upload.size > 5 * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return cleaned

    def csv_text(self) -> str:
        upload = self.cleaned_data.get("file")
        if upload is not None:
            return upload.read().decode("utf-8-sig", errors="replace")
        return self.cleaned_data["pasted"]


class RefundForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=10, decimal_places=2)
    destination = forms.ChoiceField(
        label=_("Refund to"),
        choices=[("original", _("Back to how it was paid")), ("wallet", _("The customer's wallet"))],
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=40)


class AdjustmentForm(forms.Form):
    currency = forms.ChoiceField(label=_("Currency"), choices=[(c, c) for c in sorted(MINOR_UNITS)])
    amount = forms.DecimalField(
        label=_("Amount"),
        max_digits=10,
        decimal_places=2,
        help_text=_("Positive credits the wallet; negative takes back."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=40)


class ProfileImportForm(forms.Form):
    file = forms.FileField(label=_("Vendor CSV file"))
    vendor = forms.CharField(label=_("Vendor"), max_length=100, required=False)

    def clean_file(self):
        from refill.esim.inventory import MAX_BYTES

        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return upload

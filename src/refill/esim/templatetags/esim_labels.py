"""eSIM codes as staff read them: ``{{ row.profile_type|profile_type }}``, ``{{ row.smdp_state|smdp_state }}``."""

from django import template

from refill.esim.labels import profile_type_label, smdp_state_label

register = template.Library()

register.filter("profile_type", profile_type_label)
register.filter("smdp_state", smdp_state_label)

"""Notification codes as staff read them: ``{{ notice.rule|notice_rule }}``."""

from django import template

from refill.notifications.labels import channel_label, rule_label, status_label

register = template.Library()

register.filter("notice_rule", rule_label)
register.filter("notice_status", status_label)
register.filter("notice_channel", channel_label)

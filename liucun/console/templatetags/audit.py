"""Audit log display: actions and automatic actors in words (liucun.staff.audit_labels)."""

from __future__ import annotations

from django import template

from liucun.staff.audit_labels import action_label, actor_display

register = template.Library()
register.filter("audit_action", action_label)
register.filter("audit_actor", actor_display)

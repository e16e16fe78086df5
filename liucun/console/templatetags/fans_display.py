"""How fan facts from WeChat read in the console (liucun.fans.scenes)."""

from __future__ import annotations

from django import template

from liucun.fans.scenes import scene_label

register = template.Library()
register.filter("subscribe_scene", scene_label)

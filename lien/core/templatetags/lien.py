"""Small template helpers for the shell."""

from django import template

register = template.Library()


@register.filter
def allows(profile, data_type: str):
    """`profile|allows:"contacts"|allows_action:"view"` → bool."""
    return (profile, data_type)


@register.filter
def allows_action(pair, action: str) -> bool:
    profile, data_type = pair
    return profile.allows(action, data_type)

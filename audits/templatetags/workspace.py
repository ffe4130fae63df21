"""Template filters of the compliance workspace: :mod:`audits.humanize` for templates."""

from django import template

from audits import humanize

register = template.Library()
register.filter("ago", humanize.ago)
register.filter("waited", humanize.waited)
register.filter("when", humanize.when)
register.filter("human_size", humanize.size)
register.filter("status_label", humanize.status_label)

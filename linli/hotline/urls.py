from __future__ import annotations

from django.urls import URLPattern, path

from linli.hotline.views import console, mine, settings, tickets

app_name = "hotline"

urlpatterns: list[URLPattern] = [
    path("hotline/", tickets.queue, name="queue"),
    path("hotline/console/", console.console, name="console"),
    path("hotline/console/lookup/", console.lookup, name="lookup"),
    path("hotline/console/triage/", console.triage_preview, name="triage_preview"),
    path("hotline/tickets/<int:pk>/", tickets.ticket_detail, name="ticket_detail"),
    path("hotline/tickets/<int:pk>/reveal/", tickets.ticket_reveal, name="ticket_reveal"),
    path("hotline/tickets/<int:pk>/<slug:step>/", tickets.ticket_step, name="ticket_step"),
    path("hotline/attachments/<int:pk>/", tickets.attachment, name="attachment"),
    path("hotline/sla/", settings.sla_targets, name="sla"),
    path("hotline/figures/", settings.figures_page, name="figures"),
    path("hotline/figures/export.xlsx", settings.figures_export, name="figures_export"),
    path("hotline/my/", mine.mine, name="mine"),
]

"""Campaigns, payment settings and the accounting export."""

urlpatterns: list = []

"""Advanced search, saved searches and segments pages."""

urlpatterns: list = []

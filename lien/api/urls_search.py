"""Advanced search and segments API: /api/v1/contacts/search/ and /api/v1/segments/."""

urlpatterns: list = []

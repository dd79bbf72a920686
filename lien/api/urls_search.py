"""Advanced search and segments API: /api/v1/<table>/search/, /api/v1/search/criteria/ and
/api/v1/segments/."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from lien.api import search

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("segments", search.SegmentViewSet, basename="api-segments")

SEARCH = {"post": "search"}

urlpatterns = [
    path(
        "v1/contacts/search/",
        search.ContactSearchViewSet.as_view(SEARCH),
        name="api-contacts-search",
    ),
    path(
        "v1/structures/search/",
        search.StructureSearchViewSet.as_view(SEARCH),
        name="api-structures-search",
    ),
    path(
        "v1/interactions/search/",
        search.InteractionSearchViewSet.as_view(SEARCH),
        name="api-interactions-search",
    ),
    path(
        "v1/payments/search/",
        search.PaymentSearchViewSet.as_view(SEARCH),
        name="api-payments-search",
    ),
    path("v1/search/criteria/", search.SearchCriteriaView.as_view(), name="api-search-criteria"),
    path("v1/", include(router.urls)),
]

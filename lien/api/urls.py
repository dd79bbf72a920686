from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.routers import DefaultRouter

from lien.api import contacts, interactions, payments, views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("users", views.UserViewSet, basename="api-users")
router.register("invitations", views.InvitationViewSet, basename="api-invitations")
router.register("contacts", contacts.ContactViewSet, basename="api-contacts")
router.register("structures", contacts.StructureViewSet, basename="api-structures")
router.register(
    "contact-structure-links",
    contacts.ContactStructureLinkViewSet,
    basename="api-contact-structure-links",
)
router.register("labels", contacts.LabelViewSet, basename="api-labels")
router.register("custom-fields", contacts.CustomFieldViewSet, basename="api-custom-fields")
router.register("groups", contacts.GroupViewSet, basename="api-groups")
router.register("households", contacts.HouseholdViewSet, basename="api-households")
router.register("interactions", interactions.InteractionViewSet, basename="api-interactions")
router.register(
    "interaction-types", interactions.InteractionTypeViewSet, basename="api-interaction-types"
)
router.register(
    "interaction-categories",
    interactions.InteractionCategoryViewSet,
    basename="api-interaction-categories",
)
router.register(
    "interaction-labels", interactions.InteractionLabelViewSet, basename="api-interaction-labels"
)
router.register("payments", payments.PaymentViewSet, basename="api-payments")
router.register("campaigns", payments.CampaignViewSet, basename="api-campaigns")
router.register("memberships", payments.MembershipViewSet, basename="api-memberships")

urlpatterns = [
    path("v1/me/", views.MeView.as_view(), name="api-me"),
    path("v1/", include(router.urls)),
    path("", include("lien.api.urls_imports")),
    path("", include("lien.api.exports")),
    path("", include("lien.api.urls_connectors")),
    # The schema and its docs page hold no data: public, so any client can be generated.
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="api_schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api_schema", permission_classes=[AllowAny]),
        name="api_docs",
    ),
]

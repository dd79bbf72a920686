"""Payment tables, payment pages and the payment sections of contact and structure cards."""

urlpatterns: list = []

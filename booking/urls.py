"""The public pages (namespace "booking")."""

app_name = "booking"

urlpatterns: list = []

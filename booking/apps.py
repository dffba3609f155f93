from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class BookingConfig(AppConfig):
    name = "booking"
    verbose_name = "Bookings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from booking import signals  # noqa: F401  (connects the receivers)
        from booking.emails import tracking  # noqa: F401  (delivery webhooks → outbox)


class BackofficeAdminConfig(admin_apps.AdminConfig):
    """`django.contrib.admin`, whose default site is `booking.admin_site.BackofficeAdminSite`
    (named in INSTALLED_APPS; `BookingConfig` stays the app's default config)."""

    default = False
    default_site = "booking.admin_site.BackofficeAdminSite"

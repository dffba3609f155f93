from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "booking"
    verbose_name = "Bookings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from booking import signals  # noqa: F401  (connects the receivers)
        from booking.emails import tracking  # noqa: F401  (delivery webhooks → outbox)

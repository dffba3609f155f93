"""An admin site whose booking page carries `EmailOutboxInline`, as the project's
BookingRequestAdmin does once merged: the inline is tested on a real change page."""

from django.contrib import admin
from django.urls import path

from booking.admin.outbox import EmailOutboxInline
from booking.models import BookingRequest

site = admin.AdminSite(name="inline_test")


@admin.register(BookingRequest, site=site)
class BookingWithEmails(admin.ModelAdmin):
    inlines = [EmailOutboxInline]
    fields = ["client_name"]


urlpatterns = [path("admin/", site.urls)]

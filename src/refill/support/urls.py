from django.urls import path

from . import views

app_name = "support"

urlpatterns = [
    path("", views.tickets, name="tickets"),
    path("new/", views.contact, name="contact"),
    path("new/sent/", views.sent, name="sent"),
    path("t/<str:reference>/<str:secret>/", views.guest_ticket, name="guest_ticket"),
    path("t/<str:reference>/<str:secret>/resolve/", views.guest_resolve, name="guest_resolve"),
    path("t/<str:reference>/<str:secret>/files/<int:pk>/", views.guest_attachment, name="guest_attachment"),
    path("<str:reference>/", views.ticket, name="ticket"),
    path("<str:reference>/resolve/", views.ticket_resolve, name="ticket_resolve"),
    path("<str:reference>/files/<int:pk>/", views.attachment, name="attachment"),
]

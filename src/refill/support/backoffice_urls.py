from django.urls import path

from . import backoffice_views as views

app_name = "support_admin"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("<str:reference>/", views.ticket, name="ticket"),
    path("<str:reference>/assign/", views.assign, name="assign"),
    path("<str:reference>/status/", views.status, name="status"),
    path("<str:reference>/note/", views.note, name="note"),
    path("<str:reference>/reply/", views.reply, name="reply"),
    path("<str:reference>/files/<int:pk>/", views.attachment, name="attachment"),
]

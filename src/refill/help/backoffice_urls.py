from django.urls import path

from . import staff_views

app_name = "help_admin"

urlpatterns = [
    path("", staff_views.articles_view, name="articles"),
    path("new/", staff_views.article_create_view, name="article_create"),
    path("<int:pk>/", staff_views.article_preview_view, name="article_preview"),
    path("<int:pk>/edit/", staff_views.article_edit_view, name="article_edit"),
    path("<int:pk>/publish/", staff_views.article_publish_view, name="article_publish"),
    path("<int:pk>/unpublish/", staff_views.article_unpublish_view, name="article_unpublish"),
]

from blog import views
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", views.index, name="index"),
    path("entries/<int:pk>/", views.entry_detail, name="entry-detail"),
    path("comments/", include("django_comments.urls")),
    path("admin/", admin.site.urls),
]

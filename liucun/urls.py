from django.contrib import admin
from django.urls import path

from liucun.health import healthz
from liucun.inbound.views import callback

urlpatterns = [
    path("wechat/<str:appid>/callback", callback, name="wechat-callback"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

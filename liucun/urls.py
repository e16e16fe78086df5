from django.contrib import admin
from django.urls import path

from liucun.api.main import api
from liucun.health import healthz
from liucun.inbound.views import callback

urlpatterns = [
    path("wechat/<str:appid>/callback", callback, name="wechat-callback"),
    path("healthz", healthz, name="healthz"),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]

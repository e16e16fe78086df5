from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from liucun.api.main import api
from liucun.health import healthz
from liucun.inbound.views import callback
from liucun.staff.login_forms import ThrottledAdminLoginForm

# The admin's own login page counts and refuses failures exactly as the console's does.
admin.site.login_form = ThrottledAdminLoginForm

urlpatterns = [
    path("wechat/<str:appid>/callback", callback, name="wechat-callback"),
    path("healthz", healthz, name="healthz"),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("liucun.console.urls")),
]

app_name = "support_admin"

urlpatterns: list = []

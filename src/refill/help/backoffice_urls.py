app_name = "help_admin"

urlpatterns: list = []

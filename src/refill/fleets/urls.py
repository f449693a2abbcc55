from django.urls import path

from . import views

app_name = "fleets"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("lines/", views.lines, name="lines"),
    path("lines/group/", views.lines_group, name="lines_group"),
    path("groups/", views.groups, name="groups"),
    path("groups/<int:pk>/", views.group_edit, name="group_edit"),
    path("members/", views.members, name="members"),
    path("members/<int:pk>/", views.member_edit, name="member_edit"),
    path("jobs/", views.jobs, name="jobs"),
    path("jobs/<int:pk>/", views.job, name="job"),
    path("jobs/<int:pk>/pay/", views.job_pay, name="job_pay"),
    path("jobs/<int:pk>/payment-return/", views.job_return, name="job_return"),
    path("jobs/<int:pk>/recheck/", views.job_recheck, name="job_recheck"),
    path("jobs/<int:pk>/cancel/", views.job_cancel, name="job_cancel"),
    path("jobs/<int:pk>/result.csv", views.job_result, name="job_result"),
    path("jobs/<int:pk>/invoice/", views.job_invoice, name="job_invoice"),
]

"""collectstatic leaves out what no page uses: django-ninja ships Redoc beside Swagger UI (about
4 MB with its source map), and /api/v1/docs is Swagger UI. Compressing Redoc for nothing would
add half a minute to every `make run`."""

from django.contrib.staticfiles.apps import StaticFilesConfig


class RefillStaticFilesConfig(StaticFilesConfig):
    ignore_patterns = [*StaticFilesConfig.ignore_patterns, "redoc.standalone.js*"]

"""The site's URLs plus a page and an endpoint that fail, to see what a person gets from a server error."""

from django.urls import path

from osteoscreen.urls import handler400, handler403, handler404, handler500
from osteoscreen.urls import urlpatterns as site_urlpatterns

SECRET_IN_TRACEBACK = "/srv/osteoscreen/var/media/volumes/cafebabe/secret.nii.gz"


def failing_view(request):
    raise RuntimeError(f"could not open {SECRET_IN_TRACEBACK}")


urlpatterns = [path("failing/", failing_view), path("api/failing/", failing_view), *site_urlpatterns]
__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]

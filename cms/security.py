"""Who is asking: the client address shared by the API throttle and the login lockout."""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle


def client_ip(request: HttpRequest) -> str:
    """The client address behind PESA_API_NUM_PROXIES trusted proxies (DRF's rule).

    With no trusted proxy, X-Forwarded-For is ignored: a client cannot pick its own address.
    """
    return BaseThrottle().get_ident(request)

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle


class AnonymousIpThrottle(AnonRateThrottle):
    """Per client IP (behind PESA_API_NUM_PROXIES proxies), rate PESA_API_THROTTLE_RATE.

    Reads the setting per request, unlike DRF's class-level THROTTLE_RATES, so it can change
    without a restart of the module. A rate of None switches throttling off.
    """

    scope = "anon"

    def get_rate(self) -> str | None:
        return settings.PESA_API_THROTTLE_RATE

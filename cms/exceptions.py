"""Domain errors of the cms app. Services and selectors raise them; the edge translates them once."""


class PreviewTokenInvalid(Exception):
    """The preview token is malformed, forged, or its page no longer exists."""


class PreviewTokenExpired(PreviewTokenInvalid):
    """The preview token was genuine but is older than settings.PESA_PREVIEW_MAX_AGE."""

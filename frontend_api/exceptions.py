class WebhookDeliveryFailed(Exception):
    """A subscriber was unreachable or answered 5xx/408/429: worth another attempt."""

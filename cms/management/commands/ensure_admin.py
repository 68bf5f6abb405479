import os

from django.core.management.base import BaseCommand

from cms.services import ensure_admin_user


class Command(BaseCommand):
    help = "Creates the admin user from PESA_ADMIN_USER / PESA_ADMIN_PASSWORD (defaults: admin / pesa-admin) if missing."

    def handle(self, *args: object, **options: object) -> None:
        username = os.environ.get("PESA_ADMIN_USER", "admin")
        password = os.environ.get("PESA_ADMIN_PASSWORD", "pesa-admin")
        email = os.environ.get("PESA_ADMIN_EMAIL", "admin@pesa.invalid")
        _user, created = ensure_admin_user(username=username, email=email, password=password)
        if created:
            self.stdout.write(f"Admin user created: {username} / {password}")
        else:
            self.stdout.write(f"Admin user exists: {username} (password unchanged)")

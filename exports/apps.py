from django.apps import AppConfig


class ExportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "exports"

    def ready(self) -> None:
        # The admin has autodiscovered every app's admin.py by now (it is installed first).
        from django.contrib import admin

        from exports.admin import export_selected_attach

        export_selected_attach(admin.site)

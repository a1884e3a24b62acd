from __future__ import annotations

from django.core.exceptions import ValidationError


def validation_text(exc: ValidationError) -> str:
    """A ValidationError as one line: ``dataset: Unknown dataset 'x'; ...``."""
    if hasattr(exc, "error_dict"):
        parts = [
            f"{field}: {' '.join(message for message in messages)}"
            for field, messages in exc.message_dict.items()
        ]
        return "; ".join(parts)
    return " ".join(exc.messages)

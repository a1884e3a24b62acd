from __future__ import annotations

import math
from typing import Any

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from games.models import Mode, Period, ReviewStatus, Score, UnverifiedReason
from targets_site.serializers import StrictCharField, StrictFieldsMixin

INT32_MAX = 2_147_483_647


class StrictIntegerField(serializers.IntegerField):
    """JSON integers only: ``"5"``, ``5.5`` and ``true`` are refused; bounds fit an int column."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", -INT32_MAX)
        kwargs.setdefault("max_value", INT32_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class FiniteFloatField(serializers.FloatField):
    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("invalid")
        return value


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class PlayerRegisterSerializer(StrictFieldsMixin, serializers.Serializer):
    username = StrictCharField(max_length=150, validators=[UnicodeUsernameValidator()])
    password = StrictCharField(max_length=128, trim_whitespace=False, write_only=True)


class PlayerRegisteredSerializer(serializers.Serializer):
    username = serializers.CharField()
    token = serializers.CharField()


class ShotSerializer(StrictFieldsMixin, serializers.Serializer):
    # Relative to the target's centre, in pixels; the play area bounds any real offset.
    x = FiniteFloatField(min_value=-10_000, max_value=10_000)
    y = FiniteFloatField(min_value=-10_000, max_value=10_000)
    hit = StrictBooleanField()
    ring = StrictIntegerField(allow_null=True, min_value=1, max_value=7)


SHOTS_MAX = 1000
_SHOT_FIELDS = frozenset({"x", "y", "hit", "ring"})


def _shot_errors(shot: Any) -> dict[str, list[str]]:
    """The same rules as ``ShotSerializer``, in plain Python (see ``ShotListField``)."""
    if not isinstance(shot, dict):
        return {"non_field_errors": ["Invalid data. Expected a dictionary."]}
    errors: dict[str, list[str]] = {}
    for key in shot.keys() - _SHOT_FIELDS:
        errors[str(key)] = ["Unknown or read-only field."]
    if errors:
        return errors
    for name in ("x", "y"):
        value = shot.get(name, _MISSING)
        if value is _MISSING:
            errors[name] = ["This field is required."]
        elif (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            errors[name] = ["A valid number is required."]
        elif not -10_000 <= value <= 10_000:
            errors[name] = ["Ensure this value is between -10000 and 10000."]
    hit = shot.get("hit", _MISSING)
    if hit is _MISSING:
        errors["hit"] = ["This field is required."]
    elif not isinstance(hit, bool):
        errors["hit"] = ["Must be a JSON boolean."]
    ring = shot.get("ring", _MISSING)
    if ring is _MISSING:
        errors["ring"] = ["This field is required."]
    elif ring is not None and (isinstance(ring, bool) or not isinstance(ring, int)):
        errors["ring"] = ["A valid integer is required."]
    elif ring is not None and not 1 <= ring <= 7:
        errors["ring"] = ["Ensure this value is between 1 and 7."]
    return errors


_MISSING = object()


@extend_schema_field(ShotSerializer(many=True))
class ShotListField(serializers.Field):
    """``shots``: at most 1,000 ``{x, y, hit, ring}``, checked in plain Python.

    A nested ``ListField(child=ShotSerializer())`` runs DRF's per-field machinery for every
    shot: about 4 ms per 100 shots, most of a 900-shot submission's time. This field applies
    the same rules (pinned to ``ShotSerializer`` by a differential test) in a plain loop.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> list[dict[str, Any]]:
        if not isinstance(data, list):
            raise serializers.ValidationError(["Expected a list of items."])
        if len(data) > SHOTS_MAX:
            raise serializers.ValidationError(
                [f"Ensure this field has no more than {SHOTS_MAX} elements."]
            )
        # Keyed by the shot's index, as DRF's ListField does.
        errors = {
            str(index): found for index, shot in enumerate(data) if (found := _shot_errors(shot))
        }
        if errors:
            raise serializers.ValidationError(errors)
        return [
            {"x": float(shot["x"]), "y": float(shot["y"]), "hit": shot["hit"], "ring": shot["ring"]}
            for shot in data
        ]

    def to_representation(self, value: Any) -> Any:
        return value


class ParsedJSONField(serializers.JSONField):
    """Any JSON value, taken as the request's JSON parser made it.

    DRF's ``JSONField`` encodes the value again to prove it is JSON: 0.5-1 ms for a 900-shot
    replay. A value from the parser (the API takes JSON bodies only) is JSON already.
    """

    def to_internal_value(self, data: Any) -> Any:
        return data


class ScoreSubmitSerializer(StrictFieldsMixin, serializers.Serializer):
    """What a client may send. Player, id, rank and verification are never the client's to say."""

    mode = StrictCharField(max_length=16)
    points = StrictIntegerField()
    hits = StrictIntegerField()
    misses = StrictIntegerField()
    # Any JSON number of seconds (30, 29.5); the range is a named plausibility rule.
    duration_s = FiniteFloatField()
    shots = ShotListField(required=False)
    # Checked field by field by games.rules.replay_validate, each rule with its own error code.
    replay = ParsedJSONField(required=False, allow_null=True)
    client_version = StrictCharField(max_length=40, required=False, allow_blank=True)
    played_at = serializers.DateTimeField()
    submission_id = serializers.UUIDField()
    # The server-issued round it was played under; absent for an offline round.
    round_id = serializers.UUIDField(required=False, allow_null=True)


class RoundRequestSerializer(StrictFieldsMixin, serializers.Serializer):
    mode = StrictCharField(max_length=16)
    duration_s = FiniteFloatField()


class RoundSerializer(serializers.Serializer):
    round_id = serializers.UUIDField(source="id")
    seed = serializers.IntegerField()
    tick_rate = serializers.IntegerField()
    mode = serializers.CharField()
    duration_s = serializers.FloatField()
    issued_at = serializers.DateTimeField()


# Fields declared one by one, not a ModelSerializer: that one builds its fields from the model
# again for every instance (0.9 ms of each submission's answer; these take 0.45 ms). The schema
# is the same.
# The declared fields are the schema and the reference the written-out answer is pinned to.
class ScoreSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    mode = serializers.ChoiceField(choices=Mode.choices, read_only=True)
    points = serializers.IntegerField(read_only=True)
    hits = serializers.IntegerField(read_only=True)
    misses = serializers.IntegerField(read_only=True)
    accuracy = serializers.FloatField(read_only=True)
    duration_s = serializers.FloatField(read_only=True)
    shots = serializers.JSONField(read_only=True, allow_null=True)
    client_version = serializers.CharField(read_only=True)
    played_at = serializers.DateTimeField(read_only=True)
    submission_id = serializers.UUIDField(read_only=True)
    round_id = serializers.UUIDField(source="game_round_id", read_only=True, allow_null=True)
    verified = serializers.BooleanField(read_only=True)
    unverified_reason = serializers.ChoiceField(choices=UnverifiedReason.choices, read_only=True)
    review_status = serializers.ChoiceField(choices=ReviewStatus.choices, read_only=True)
    flagged = serializers.BooleanField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    target_png = serializers.SerializerMethodField()

    def get_target_png(self, score: Score) -> str:
        path = reverse("score-target-png", kwargs={"pk": score.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def to_representation(self, score: Score) -> dict[str, Any]:
        """What DRF's field-by-field ``to_representation`` makes of the declared fields, written
        out: DRF deep-copies all 18 field objects for every answer before it reads one value
        (0.18 ms of CPU an answer, timed apart; this takes 0.03 ms). Pinned to DRF's by
        ``tests/games/test_scores_api.py`` ("the answer is what the declared fields make").
        """
        return {
            "id": score.pk,
            "mode": str(score.mode),
            "points": int(score.points),
            "hits": int(score.hits),
            "misses": int(score.misses),
            "accuracy": float(score.accuracy),
            "duration_s": float(score.duration_s),
            "shots": score.shots,
            "client_version": str(score.client_version),
            "played_at": _DATETIME.to_representation(score.played_at),
            "submission_id": str(score.submission_id),
            "round_id": None if score.game_round_id is None else str(score.game_round_id),
            "verified": bool(score.verified),
            "unverified_reason": str(score.unverified_reason),
            "review_status": str(score.review_status),
            "flagged": bool(score.flagged),
            "created_at": _DATETIME.to_representation(score.created_at),
            "target_png": self.get_target_png(score),
        }


# DRF's own formatting of a datetime (the DATETIME_FORMAT setting, the current time zone, "Z").
_DATETIME = serializers.DateTimeField()


class LeaderboardQuerySerializer(serializers.Serializer):
    """``?period=&at=``; ``limit`` and ``verified`` are read by ``targets_site.query``."""

    period = serializers.ChoiceField(choices=Period.choices, default=Period.ALL)
    # A past period: the day, ISO week or month that contains this date (default: now).
    at = serializers.DateField(input_formats=["%Y-%m-%d"], required=False, default=None)


class LeaderboardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    player = serializers.CharField()
    points = serializers.IntegerField()
    hits = serializers.IntegerField()
    accuracy = serializers.FloatField()
    played_at = serializers.DateTimeField()
    verified = serializers.BooleanField()


class LeaderboardSerializer(serializers.Serializer):
    mode = serializers.CharField()
    period = serializers.CharField()
    period_start = serializers.DateField()
    verified_only = serializers.BooleanField()
    results = LeaderboardRowSerializer(many=True)


class LeaderboardMeSerializer(serializers.Serializer):
    mode = serializers.CharField()
    period = serializers.CharField()
    verified_only = serializers.BooleanField()
    rank = serializers.IntegerField()
    points = serializers.IntegerField()
    neighbours = LeaderboardRowSerializer(many=True)

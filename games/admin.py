from __future__ import annotations

from typing import ClassVar

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from games import services
from games.models import ReviewStatus, Round, Score, ScoreInReview
from targets_site.admin_format import short_datetime
from targets_site.users import signed_in_user


@admin.register(Score)
class ScoreAdmin(admin.ModelAdmin):
    # Fits a 1366 px window next to the filter; hits, misses, the reason a score is unverified
    # and the replay difference are on the score's page, flagged scores a filter away.
    list_display = ["id", "player", "mode", "points", "verified", "review_status", "played"]
    list_display_links = ["id", "player"]
    list_filter = [
        "mode",
        "verified",
        "unverified_reason",
        "review_status",
        "flagged",
        "played_at",
        ("player", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["player__username", "submission_id"]
    date_hierarchy: ClassVar[str | None] = "played_at"
    list_select_related = ["player"]
    ordering = ["-created_at", "-id"]
    list_per_page = 50
    # At a million scores an unfiltered COUNT(*) per page view buys nothing.
    show_full_result_count = False
    actions = ["approve_scores", "reject_scores", "flag_scores", "unflag_scores"]
    readonly_fields = [
        "player",
        "mode",
        "points",
        "hits",
        "misses",
        "duration_s",
        "shots",
        "replay",
        "client_version",
        "played_at",
        "submission_id",
        "submission_digest",
        "game_round",
        "verified",
        "unverified_reason",
        "review_status",
        "review_reason",
        "reviewed_by",
        "reviewed_at",
        "replay_points",
        "replay_hits",
        "replay_misses",
        "replay_difference_display",
        "flagged",
        "flagged_at",
        "created_at",
        "target_image",
    ]
    fieldsets = [
        (None, {"fields": ["player", "mode", "points", "hits", "misses", "duration_s"]}),
        (
            "Verification",
            {
                "fields": [
                    "verified",
                    "unverified_reason",
                    "game_round",
                    "review_status",
                    "review_reason",
                    "reviewed_by",
                    "reviewed_at",
                    "replay_difference_display",
                    "replay_points",
                    "replay_hits",
                    "replay_misses",
                    "flagged",
                    "flagged_at",
                ]
            },
        ),
        ("Shots", {"fields": ["target_image", "shots", "replay"]}),
        (
            "Submission",
            {
                "fields": [
                    "client_version",
                    "played_at",
                    "created_at",
                    "submission_id",
                    "submission_digest",
                ]
            },
        ),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Scores arrive from the client through the API, never typed in by hand.
        return False

    def has_change_permission(self, request: HttpRequest, obj: Score | None = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    @admin.display(description="played at", ordering="played_at")
    def played(self, score: Score) -> str:
        return short_datetime(score.played_at)

    @admin.display(description="replay difference")
    def replay_difference_display(self, score: Score) -> str:
        if score.replay_points is None:
            return "no replay"
        difference = score.replay_difference
        if not difference:
            return "matches"
        return "; ".join(
            f"{name}: claimed {claimed}, replayed {replayed}"
            for name, (claimed, replayed) in difference.items()
        )

    @admin.display(description="target")
    def target_image(self, score: Score) -> str:
        url = reverse("score-target-png", kwargs={"pk": score.pk})
        return format_html('<img src="{}" width="360" alt="shots on the target">', url)

    @admin.action(description="Approve selected scores in review (they rank)")
    def approve_scores(self, request: HttpRequest, queryset: QuerySet[Score]) -> None:
        count = services.score_review(
            score_ids=queryset.values_list("pk", flat=True),
            approve=True,
            reviewer=signed_in_user(request),
        )
        self.message_user(request, f"Approved {count} score(s).", messages.SUCCESS)

    @admin.action(description="Reject selected scores in review (on no leaderboard)")
    def reject_scores(self, request: HttpRequest, queryset: QuerySet[Score]) -> None:
        count = services.score_review(
            score_ids=queryset.values_list("pk", flat=True),
            approve=False,
            reviewer=signed_in_user(request),
        )
        self.message_user(request, f"Rejected {count} score(s).", messages.SUCCESS)

    @admin.action(description="Flag selected scores (remove from leaderboards)")
    def flag_scores(self, request: HttpRequest, queryset: QuerySet[Score]) -> None:
        count = services.score_flag(score_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"Flagged {count} score(s).", messages.SUCCESS)

    @admin.action(description="Unflag selected scores (back on leaderboards)")
    def unflag_scores(self, request: HttpRequest, queryset: QuerySet[Score]) -> None:
        count = services.score_flag(score_ids=queryset.values_list("pk", flat=True), flagged=False)
        self.message_user(request, f"Unflagged {count} score(s).", messages.SUCCESS)

    def delete_model(self, request: HttpRequest, obj: Score) -> None:
        services.score_delete(score_ids=[obj.pk])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Score]) -> None:
        services.score_delete(score_ids=list(queryset.values_list("pk", flat=True)))


@admin.register(ScoreInReview)
class ScoreInReviewAdmin(ScoreAdmin):
    """The review list: consistent replays beyond the human limits, oldest first."""

    list_display = [
        "id",
        "player",
        "mode",
        "points",
        "hits",
        "misses",
        "review_reason",
        "played",
    ]
    list_filter = ["mode", ("player", admin.RelatedOnlyFieldListFilter)]
    date_hierarchy = None
    ordering = ["created_at", "id"]
    actions = ["approve_scores", "reject_scores"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Score]:
        return super().get_queryset(request).filter(review_status=ReviewStatus.REVIEW)


@admin.register(Round)
class RoundAdmin(admin.ModelAdmin):
    list_display = ["id", "player", "mode", "duration_s", "seed", "issued_at"]
    list_filter = ["mode", "issued_at"]
    search_fields = ["player__username", "id"]
    list_select_related = ["player"]
    show_full_result_count = False
    readonly_fields = ["id", "player", "mode", "duration_s", "seed", "tick_rate", "issued_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Round | None = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

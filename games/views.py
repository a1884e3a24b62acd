from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from games import plots, rules, selectors, services
from games.models import Score
from games.serializers import (
    LeaderboardMeSerializer,
    LeaderboardQuerySerializer,
    LeaderboardSerializer,
    PlayerRegisteredSerializer,
    PlayerRegisterSerializer,
    RoundRequestSerializer,
    RoundSerializer,
    ScoreSerializer,
    ScoreSubmitSerializer,
)
from targets_site import renderers
from targets_site.errors import NotFound
from targets_site.permissions import AllowAny, IsAuthenticated
from targets_site.query import query_bool, query_int
from targets_site.responses import BinaryOrJsonErrors, binary_response
from targets_site.users import signed_in_user


class PlayerRegisterView(APIView):
    """Create a player account; the answer carries the player's API token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_scope = "register"

    @extend_schema(
        request=PlayerRegisterSerializer, responses={201: PlayerRegisteredSerializer}, auth=[]
    )
    def post(self, request: Request) -> Response:
        serializer = PlayerRegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user, token = services.player_register(**serializer.validated_data)
        return Response(
            {"username": user.get_username(), "token": token}, status=status.HTTP_201_CREATED
        )


class ScoreViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's own scores; POST submits a round (idempotent on ``submission_id``)."""

    queryset = Score.objects.none()
    serializer_class = ScoreSerializer
    permission_classes = [IsAuthenticated]
    key_scopes = {"write": "scores:write"}
    filter_backends: list = []
    lookup_value_regex = r"\d+"
    # A score carries up to 1,000 shots: orjson renders them 15x faster (targets_site/renderers.py).
    renderer_classes = renderers.renderer_classes()

    @property
    def throttle_scope(self) -> str | None:
        # Only submissions count against the "scores" rate; reading your list does not.
        return "scores" if getattr(self, "action", None) == "create" else None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Score.objects.none()
        player = signed_in_user(self.request)
        return Score.objects.filter(player=player).order_by("-created_at", "-id")

    @extend_schema(
        request=ScoreSubmitSerializer,
        responses={
            201: ScoreSerializer,
            200: OpenApiResponse(ScoreSerializer, description="A re-sent submission_id."),
        },
    )
    def create(self, request: Request) -> Response:
        serializer = ScoreSubmitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        score, created = services.score_submit(
            player=signed_in_user(request),
            data=serializer.validated_data,
            digest=services.submission_digest(request.data),
        )
        body = ScoreSerializer(score, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class RoundIssueView(APIView):
    """Issue a round (its seed) for the caller; a score played under it can be verified."""

    permission_classes = [IsAuthenticated]
    key_scopes = {"write": "scores:write"}
    throttle_scope = "scores"

    @extend_schema(request=RoundRequestSerializer, responses={201: RoundSerializer})
    def post(self, request: Request) -> Response:
        serializer = RoundRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        game_round = services.round_issue(
            player=signed_in_user(request), **serializer.validated_data
        )
        return Response(RoundSerializer(game_round).data, status=status.HTTP_201_CREATED)


class ScoreTargetView(APIView):
    """The score's shots drawn on the bullseye; only its player and staff may see it."""

    permission_classes = [IsAuthenticated]
    content_negotiation_class = BinaryOrJsonErrors

    @extend_schema(
        operation_id="v1_scores_target_png", responses={(200, "image/png"): OpenApiTypes.BINARY}
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        scores = Score.objects.all()
        if not request.user.is_staff:
            scores = scores.filter(player=signed_in_user(request))
        score = scores.select_related("player").get(pk=pk)
        title = f"{score.player.get_username()} - {score.mode} - {score.points} pts"
        png = plots.target_png(mode=score.mode, shots=score.shots, title=title)
        return binary_response(png, content_type="image/png", cache_control="private, max-age=60")


# Above the cap, ``limit`` is the cap (like ``page_size``), not an error.
LEADERBOARD_LIMIT_CAP = 100


def _board(request: Request, mode: str) -> tuple[selectors.Board, int]:
    if mode not in rules.MODES:
        raise NotFound(f"No leaderboard for mode {mode!r}.", code="unknown_mode")
    query = LeaderboardQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    limit = query_int(
        request.query_params,
        "limit",
        default=10,
        minimum=1,
        maximum=LEADERBOARD_LIMIT_CAP,
        clamp=True,
    )
    verified = query_bool(request.query_params, "verified")
    if verified is None:
        verified = settings.LEADERBOARD_VERIFIED_ONLY_DEFAULT
    board = selectors.board_for(
        mode=mode,
        period=query.validated_data["period"],
        verified_only=verified,
        at=query.validated_data["at"],
    )
    return board, limit


BOARD_PARAMETERS = [
    OpenApiParameter(
        "period", str, enum=["all", "day", "week", "month"], description="UTC day / week / month"
    ),
    OpenApiParameter(
        "at", OpenApiTypes.DATE, description="a past period: the one containing this date"
    ),
    OpenApiParameter(
        "limit",
        int,
        description=f"1..{LEADERBOARD_LIMIT_CAP} (larger is clamped to it), default 10",
    ),
    OpenApiParameter("verified", bool, description="Only replay-verified scores (true/false)"),
]


class LeaderboardIndexView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        return Response(
            {
                "modes": {
                    mode: reverse("leaderboard-detail", kwargs={"mode": mode}, request=request)
                    for mode in rules.MODES
                }
            }
        )


class LeaderboardView(APIView):
    """Best score per player, ranked (ties share a rank; the earlier score is listed first)."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=BOARD_PARAMETERS, responses=LeaderboardSerializer)
    def get(self, request: Request, mode: str) -> Response:
        board, limit = _board(request, mode)
        return Response(
            LeaderboardSerializer(
                {
                    "mode": board.mode,
                    "period": board.period,
                    "period_start": board.start,
                    "verified_only": board.verified_only,
                    "results": selectors.leaderboard_top(board=board, limit=limit),
                }
            ).data
        )


class LeaderboardMeView(APIView):
    """The caller's rank on a board, with the players just above and below."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[BOARD_PARAMETERS[0], BOARD_PARAMETERS[1], BOARD_PARAMETERS[3]],
        responses=LeaderboardMeSerializer,
    )
    def get(self, request: Request, mode: str) -> Response:
        board, _ = _board(request, mode)
        standing = selectors.leaderboard_me(board=board, player=signed_in_user(request))
        if standing is None:
            raise NotFound("You have no score on this leaderboard yet.", code="not_ranked")
        return Response(
            LeaderboardMeSerializer(
                {
                    "mode": board.mode,
                    "period": board.period,
                    "verified_only": board.verified_only,
                    **standing,
                }
            ).data
        )

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from games import views

router = SimpleRouter()
router.register("scores", views.ScoreViewSet, basename="score")

urlpatterns = [
    path("players/", views.PlayerRegisterView.as_view(), name="player-list"),
    path("rounds/", views.RoundIssueView.as_view(), name="round-list"),
    path("scores/<int:pk>/target.png", views.ScoreTargetView.as_view(), name="score-target-png"),
    path("leaderboards/", views.LeaderboardIndexView.as_view(), name="leaderboard-list"),
    path("leaderboards/<str:mode>/", views.LeaderboardView.as_view(), name="leaderboard-detail"),
    path("leaderboards/<str:mode>/me/", views.LeaderboardMeView.as_view(), name="leaderboard-me"),
    *router.urls,
]

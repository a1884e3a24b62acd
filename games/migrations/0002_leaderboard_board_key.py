# Leaderboard rows are derived data (best score per player per board): the table is replaced by
# one keyed on a single ``board`` column and refilled from the scores.

import django.db.models.deletion
import django.db.models.expressions
from django.conf import settings
from django.db import migrations, models


def refill(apps, schema_editor):
    # The same rule as games.services.leaderboard_rebuild, on the historical models.
    import datetime as dt

    Score = apps.get_model("games", "Score")
    Entry = apps.get_model("games", "LeaderboardEntry")
    seen = set()
    batch = []
    rows = (
        Score.objects.filter(flagged=False)
        .order_by("player", "mode", "-points", "played_at", "id")
        .values_list("id", "player_id", "mode", "points", "played_at", "verified")
    )
    for score_id, player_id, mode, points, played_at, verified in rows.iterator(chunk_size=2000):
        day = played_at.astimezone(dt.UTC).date()
        starts = {"all": dt.date(1970, 1, 1), "day": day, "week": day - dt.timedelta(days=day.weekday())}
        for scope in ("any", "verified") if verified else ("any",):
            for period, start in starts.items():
                board = f"{mode}:{scope}:{period}:{start.isoformat()}"
                if (player_id, board) in seen:
                    continue
                seen.add((player_id, board))
                batch.append(
                    Entry(board=board, player_id=player_id, score_id=score_id, points=points,
                          neg_points=-points, played_at=played_at)
                )
    Entry.objects.bulk_create(batch, batch_size=2000)


class Migration(migrations.Migration):

    dependencies = [
        ('games', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.DeleteModel(name='LeaderboardEntry'),
        migrations.CreateModel(
            name='LeaderboardEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('board', models.CharField(max_length=48)),
                ('points', models.IntegerField()),
                ('neg_points', models.IntegerField()),
                ('played_at', models.DateTimeField()),
                ('player', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('score', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='games.score')),
            ],
            options={
                'indexes': [models.Index(fields=['board', 'neg_points', 'played_at', 'score'], name='leaderboard_order_idx')],
                'constraints': [
                    models.UniqueConstraint(fields=('board', 'player'), name='leaderboard_player_once'),
                    models.CheckConstraint(condition=models.Q(('neg_points', django.db.models.expressions.CombinedExpression(models.F('points'), '*', models.Value(-1)))), name='leaderboard_neg_points_mirror'),
                ],
            },
        ),
        migrations.RunPython(refill, migrations.RunPython.noop),
    ]

from __future__ import annotations

from django.db import transaction

from sensors.models import Alert, Reading, ReadingMark, Sensor, ThresholdCursor


def sensor_delete(*, sensor_id: int) -> int:
    """Delete a sensor with its readings, alerts and cursor; return how many readings went.

    FOR UPDATE on the sensor first waits for in-flight writes of its readings (they hold
    FOR KEY SHARE) and blocks new ones, so no reading is left behind without its sensor.
    """
    with transaction.atomic():
        sensor = Sensor.objects.select_for_update().get(pk=sensor_id)
        readings, _ = Reading.objects.filter(sensor=sensor).delete()
        Alert.objects.filter(sensor=sensor).delete()
        ReadingMark.objects.filter(sensor=sensor).delete()
        ThresholdCursor.objects.filter(sensor=sensor).delete()
        sensor.delete()
    return readings

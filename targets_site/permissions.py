from __future__ import annotations

from rest_framework import permissions


class StaffOrModelPermissionsOrReadOnly(permissions.DjangoModelPermissions):
    """Anyone reads; writes need staff status or the matching model permission.

    ``items.add_item`` for POST, ``change`` for PUT/PATCH, ``delete`` for DELETE.
    """

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if user.is_staff:
            return True
        return super().has_permission(request, view)


class IsStaff(permissions.BasePermission):
    """Staff only, for every method."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff)

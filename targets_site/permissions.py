"""The API's permission classes, one rule throughout: writes need staff status or the matching
model permission; reads are open where the resource is public.

- ``StaffOrModelPermissionsOrReadOnly``: a CRUD resource (``add``/``change``/``delete`` by method);
- ``StaffOrPermission.of("app.codename")``: one action that needs one permission
  (``anyone_reads=True`` leaves GET/HEAD/OPTIONS open);
- ``IsStaffOrReadOnly``, ``IsStaff``: staff-only writes, or staff-only everything;
- DRF's ``IsAuthenticated`` for per-user resources.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rest_framework import permissions


def _is_staff(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_staff)


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


class StaffOrPermission(permissions.BasePermission):
    """Staff, or a user holding ``permission``; made with ``StaffOrPermission.of(...)``."""

    permission: ClassVar[str] = ""
    anyone_reads: ClassVar[bool] = False

    @classmethod
    def of(cls, permission: str, *, anyone_reads: bool = False) -> type[StaffOrPermission]:
        name = "StaffOr_" + permission.replace(".", "_")
        return type(name, (cls,), {"permission": permission, "anyone_reads": anyone_reads})

    def has_permission(self, request, view) -> bool:
        if self.anyone_reads and request.method in permissions.SAFE_METHODS:
            return True
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return bool(user.is_staff or user.has_perm(self.permission))


class IsStaffOrReadOnly(permissions.BasePermission):
    """Anyone reads; staff write."""

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or _is_staff(request.user)


class IsStaff(permissions.BasePermission):
    """Staff only, for every method."""

    def has_permission(self, request, view) -> bool:
        return _is_staff(request.user)

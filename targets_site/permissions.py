"""The API's permission classes, one rule throughout: writes need staff status or the matching
model permission; reads are open where the resource is public.

- ``StaffOrModelPermissionsOrReadOnly``: a CRUD resource (``add``/``change``/``delete`` by method);
- ``StaffOrPermission.of("app.codename")``: one action that needs one permission
  (``anyone_reads=True`` leaves GET/HEAD/OPTIONS open);
- ``IsStaffOrReadOnly``, ``IsStaff``: staff-only writes, or staff-only everything;
- ``IsAuthenticated``, ``AllowAny`` for per-user and public resources (DRF's, key-scoped).

Every class here also holds API keys to their scopes (``ScopedPermission``): a view names the scope
a key needs with ``key_scopes = {"write": "items:write", "read": "exports:read"}``. A key never
grants more than its owner has (the owner's permissions are still checked), may read what its
owner may read unless the view names a read scope, and may write only where the view names a
write scope the key holds. Views use only these classes (a test walks the URLconf to check).
"""

from __future__ import annotations

from typing import Any, ClassVar

from rest_framework import permissions


def _is_staff(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_staff)


def key_scope_denial(request: Any, view: Any) -> str | None:
    """Why the request's API key may not do this; None when it may, or when no key is in use."""
    scopes = getattr(request.auth, "scopes", None)
    if scopes is None:
        return None  # a token, a session or nobody: the user's own permissions decide
    reading = request.method in permissions.SAFE_METHODS
    needed = getattr(view, "key_scopes", {}).get("read" if reading else "write")
    if needed is None:
        return None if reading else "API keys cannot do this; use a token or the admin."
    if needed not in scopes:
        return f"This API key lacks the {needed} scope."
    return None


def key_sensor_limit(request: Any) -> list[str] | None:
    """The sensor codes the request's API key may write readings for; None for no limit."""
    sensors = getattr(request.auth, "sensors", None)
    return list(sensors) if sensors else None


class ScopedPermission(permissions.BasePermission):
    """The base of every permission class here: an API key acts only within its scopes, then the
    class's own rule (``allows``) decides, exactly as it would for a token or a session."""

    def has_permission(self, request: Any, view: Any) -> bool:
        denial = key_scope_denial(request, view)
        if denial is not None:
            self.message = denial
            return False
        return self.allows(request, view)

    def allows(self, request: Any, view: Any) -> bool:
        return True


class StaffOrModelPermissionsOrReadOnly(ScopedPermission, permissions.DjangoModelPermissions):
    """Anyone reads; writes need staff status or the matching model permission.

    ``items.add_item`` for POST, ``change`` for PUT/PATCH, ``delete`` for DELETE.
    """

    def allows(self, request: Any, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if user.is_staff:
            return True
        return permissions.DjangoModelPermissions.has_permission(self, request, view)


class StaffOrPermission(ScopedPermission):
    """Staff, or a user holding ``permission``; made with ``StaffOrPermission.of(...)``."""

    permission: ClassVar[str] = ""
    anyone_reads: ClassVar[bool] = False

    @classmethod
    def of(cls, permission: str, *, anyone_reads: bool = False) -> type[StaffOrPermission]:
        name = "StaffOr_" + permission.replace(".", "_")
        return type(name, (cls,), {"permission": permission, "anyone_reads": anyone_reads})

    def allows(self, request: Any, view: Any) -> bool:
        if self.anyone_reads and request.method in permissions.SAFE_METHODS:
            return True
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return bool(user.is_staff or user.has_perm(self.permission))


class IsStaffOrReadOnly(ScopedPermission):
    """Anyone reads; staff write."""

    def allows(self, request: Any, view: Any) -> bool:
        return request.method in permissions.SAFE_METHODS or _is_staff(request.user)


class IsStaff(ScopedPermission):
    """Staff only, for every method."""

    def allows(self, request: Any, view: Any) -> bool:
        return _is_staff(request.user)


class IsAuthenticated(ScopedPermission):
    """Signed in (token, key or session)."""

    def allows(self, request: Any, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated)


class AllowAny(ScopedPermission):
    """Anyone; an API key still only writes within its scopes."""


class IsAuthenticatedOrReadOnly(ScopedPermission):
    """The API's default: anyone reads, the signed-in write (within a key's scopes)."""

    def allows(self, request: Any, view: Any) -> bool:
        return request.method in permissions.SAFE_METHODS or bool(
            request.user and request.user.is_authenticated
        )

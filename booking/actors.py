"""Who asks for a change or a read: the type the services and querysets take.

`request.user` (a user or the anonymous user) fits `User`; the services take
`Actor`, where None is the system itself (a management command, a task, a
client's own cancellation proved by their contact details or a signed link).
A Protocol rather than `settings.AUTH_USER_MODEL`'s class: the code reads only
these attributes, so any user model with Django's permission mixin fits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeAlias

if TYPE_CHECKING:
    from django.db.models import Model


class User(Protocol):
    @property
    def pk(self) -> int | None: ...

    @property
    def is_authenticated(self) -> bool: ...

    @property
    def is_active(self) -> bool: ...

    @property
    def is_staff(self) -> bool: ...

    @property
    def is_superuser(self) -> bool: ...

    def has_perm(self, perm: str, obj: Model | None = None) -> bool: ...


# `TypeAlias`, not PEP 695's `type` statement: the structure checker parses with Python 3.11.
Actor: TypeAlias = User | None  # noqa: UP040

"""``Kept``: a ``Client`` attribute whose one home is the client's engine, its settings or its clock."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, overload

if TYPE_CHECKING:
    from .engine import Engine

__all__ = ["HasEngine", "Kept"]

T = TypeVar("T")


class HasEngine(Protocol):
    _engine: Engine


class Kept(Generic[T]):
    """A client attribute kept by its engine, the engine's settings or its clock: one home
    for each value, and ``client.validate = False`` still works."""

    __slots__ = ("name", "where")

    def __init__(self, where: str, name: str = "") -> None:
        self.where = where
        self.name = name

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = self.name or name

    def _home(self, client: HasEngine) -> Any:
        engine = client._engine
        return engine if self.where == "engine" else getattr(engine, self.where)

    @overload
    def __get__(self, client: None, owner: type) -> Kept[T]: ...
    @overload
    def __get__(self, client: HasEngine, owner: type) -> T: ...
    def __get__(self, client: HasEngine | None, owner: type) -> T | Kept[T]:
        if client is None:
            return self
        return getattr(self._home(client), self.name)  # type: ignore[no-any-return]

    def __set__(self, client: HasEngine, value: T) -> None:
        setattr(self._home(client), self.name, value)
